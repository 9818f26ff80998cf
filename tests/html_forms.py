"""Read a form off a page as a browser would submit it unchanged: every field's current
value (checked boxes, selected options, textarea text, hidden inputs such as the
record's version). Tests then change a few fields and post the rest back as they were,
so a form is exercised the way a person uses it."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

Values = dict[str, list[str]]


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, str, Values]] = []  # (method, action, values)
        self._values: Values | None = None
        self._select: tuple[str, bool, list[str], list[str]] | None = None  # name, multiple, chosen, all
        self._option: str | None = None
        self._textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._values = {}
            self.forms.append((a.get("method", "get").lower(), a.get("action", ""), self._values))
            return
        if self._values is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._values.setdefault(name, []).append(a.get("value", "on" if kind == "checkbox" else ""))
        elif tag == "select" and name:
            self._select = (name, "multiple" in a, [], [])
        elif tag == "option" and self._select is not None:
            self._option = a.get("value")
            value = self._option if self._option is not None else ""
            self._select[3].append(value)
            if "selected" in a:
                self._select[2].append(value)
        elif tag == "textarea" and name:
            self._textarea = (name, [])

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._values = None
        elif tag == "select" and self._select is not None and self._values is not None:
            name, multiple, chosen, every = self._select
            if not chosen and not multiple and every:
                chosen = [every[0]]  # a single select always sends its first option
            self._values.setdefault(name, []).extend(chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._values is not None:
            name, parts = self._textarea
            text = "".join(parts)
            self._values.setdefault(name, []).append(text[1:] if text.startswith("\n") else text)
            self._textarea = None


def form_values(page: str, url: str, action: str | None = None) -> Values:
    """The values of the POST form on `page` (served at `url`) that posts to `action`
    (default: to the page itself)."""
    parser = _Forms()
    parser.feed(page)
    target = urlsplit(action or url).path
    for method, form_action, values in parser.forms:
        if method == "post" and urlsplit(form_action or url).path == target:
            return values
    raise AssertionError(f"no form posting to {target} on {url}")


def filled(values: Values, changes: dict[str, Any]) -> dict[str, Any]:
    """`values` with `changes` on top, ready for the test client (a list is several
    values of one name; None leaves the field out, as an unchecked box would)."""
    out: dict[str, Any] = {k: (v if len(v) != 1 else v[0]) for k, v in values.items()}
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out
