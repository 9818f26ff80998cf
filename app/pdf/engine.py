"""HTML to tagged PDF with WeasyPrint, safely.

- The URL fetcher serves only files under the app's static folder and `data:` URLs: no
  network, no `file://` anywhere else. Anything else is refused and recorded.
- Rendering runs in a child process with a time limit; on timeout the child is killed
  and the caller gets PdfError, never a partial file.
- Output is PDF/UA-1 (tagged, with title and language) for screen readers.
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import billiard
import pydyf
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

# Each render runs in a forked child: WeasyPrint is already imported, the child holds
# only the HTML, and whatever it does (a hang, a memory spike) ends when it is killed.
# billiard (Celery's multiprocessing) rather than multiprocessing: a Celery worker runs
# jobs in daemonic processes, and multiprocessing refuses to start a daemon's child.
_CONTEXT = billiard.get_context("fork")


class PdfError(RuntimeError):
    """The PDF could not be made; nothing was produced."""


class StaticOnlyFetcher(URLFetcher):
    """Fetch only the app's own static files (and inline data: URLs)."""

    def __init__(self, static_root: Path) -> None:
        super().__init__(timeout=2, allowed_protocols={"file", "data"}, allow_redirects=False)
        self.static_root = static_root.resolve()
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        if url.startswith("data:"):
            return super().fetch(url, headers)
        parts = urlsplit(url)
        if parts.scheme == "file" and not parts.netloc:
            path = Path(url2pathname(unquote(parts.path))).resolve()
            if path.is_relative_to(self.static_root) and path.is_file():
                content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})
        self.refused.append(url)
        raise ValueError(f"RecTrack PDFs fetch nothing outside the app's static files: {url}")


class _PageReferences:
    """pydyf's `PDF.page_references`, kept instead of rebuilt on every read.

    pydyf 0.13 builds the tuple of every page's reference each time the property is
    read, and WeasyPrint's PDF/UA tagging reads it once per tagged element: quadratic
    in the pages (docs/upstream/pydyf-page-references.md). The same references, made
    again only when a page was added since (the number of `Kids` changed)."""

    def __get__(self, pdf: Any, owner: type | None = None) -> Any:
        if pdf is None:
            return self
        kids = pdf.pages["Kids"]
        cached = pdf.__dict__.get("_rectrack_page_references")
        if cached is None or cached[0] != len(kids):
            references = tuple(f"{number} 0 R".encode("ascii") for number in kids[::3])
            cached = pdf.__dict__["_rectrack_page_references"] = (len(kids), references)
        return cached[1]


@contextlib.contextmanager
def cached_page_references() -> Any:
    """Within the block, pydyf's PDFs keep their page references (put back after)."""
    original = pydyf.PDF.__dict__["page_references"]
    pydyf.PDF.page_references = _PageReferences()
    try:
        yield
    finally:
        pydyf.PDF.page_references = original


@dataclass(frozen=True)
class RenderResult:
    pdf: bytes
    refused: tuple[str, ...]


def render_in_process(html: str, static_root: Path) -> RenderResult:
    """Render here, in this process (used by the child, and by tests)."""
    fetcher = StaticOnlyFetcher(static_root)
    document = HTML(string=html, base_url=static_root.as_uri() + "/", url_fetcher=fetcher)
    with cached_page_references():
        pdf = document.write_pdf(pdf_variant="pdf/ua-1")
    return RenderResult(pdf=pdf, refused=tuple(fetcher.refused))


def _child(conn: Any, html: str, static_root: str) -> None:
    try:
        result = render_in_process(html, Path(static_root))
        conn.send(("ok", result.pdf, result.refused))
    except Exception as exc:  # everything goes back to the parent as a message
        conn.send(("error", f"{type(exc).__name__}: {exc}", ()))
    finally:
        conn.close()


def render(html: str, static_root: Path, timeout: float) -> RenderResult:
    """Render in a child process; PdfError on failure or after `timeout` seconds."""
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    process = _CONTEXT.Process(target=_child, args=(sender, html, str(static_root)), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            raise PdfError(f"making the PDF took longer than {timeout:g} seconds")
        status, payload, refused = receiver.recv()
    except EOFError:
        raise PdfError("the PDF renderer stopped without an answer") from None
    finally:
        receiver.close()
        if process.is_alive():
            with contextlib.suppress(ProcessLookupError):  # billiard's processes have no kill()
                os.kill(process.pid, signal.SIGKILL)
        process.join(5)
    if status != "ok":
        raise PdfError(payload)
    return RenderResult(pdf=payload, refused=tuple(refused))
