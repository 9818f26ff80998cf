"""pydyf's PDF.page_references is rebuilt on every read; WeasyPrint's PDF/UA tagging
reads it once per tagged element, so tagging costs O(pages x elements).

Run: python pydyf_page_references_repro.py [paragraphs ...]   (needs weasyprint, pydyf)
"""

import sys
import time

import pydyf
from weasyprint import HTML

calls = built = 0
original = pydyf.PDF.page_references


def counted(self):
    global calls, built
    calls += 1
    built += len(self.pages["Kids"]) // 3
    return original.fget(self)


def cached(self):
    kids = self.pages["Kids"]
    key, refs = self.__dict__.get("_refs", (None, None))
    if key != len(kids):
        refs = tuple(f"{n} 0 R".encode("ascii") for n in kids[::3])
        self.__dict__["_refs"] = (len(kids), refs)
    return refs


def render(paragraphs, prop):
    global calls, built
    calls = built = 0
    pydyf.PDF.page_references = property(prop)
    html = "<html lang='en'><title>t</title>" + "".join(
        f"<h2>Item {i}</h2><p>Paragraph {i} with a few words of text.</p>" for i in range(paragraphs)
    )
    document = HTML(string=html).render()
    started = time.process_time()  # CPU time: steadier than wall time on a busy machine
    pdf = document.write_pdf(pdf_variant="pdf/ua-1")
    return time.process_time() - started, len(document.pages), (calls, built), pdf


for n in [int(a) for a in sys.argv[1:]] or [2000, 4000, 8000]:
    t_orig, pages, (reads, refs), pdf_orig = render(n, counted)
    t_cached, _, _, pdf_cached = render(n, cached)
    print(
        f"{n:6} paragraphs, {pages:4} pages: page_references read {reads:6} times, "
        f"{refs:10,} references built; write_pdf CPU {t_orig:6.2f} s as released, "
        f"{t_cached:6.2f} s with the references kept; same bytes: {pdf_orig == pdf_cached}"
    )
pydyf.PDF.page_references = original

# And pydyf alone: reading page_references E times on a PDF of P pages.
for pages in (100, 400, 1600):
    pdf = pydyf.PDF()
    for _ in range(pages):
        pdf.add_page(pydyf.Dictionary({"Type": "/Page"}))
    started = time.process_time()
    for _ in range(10_000):
        pdf.page_references[0]
    print(f"pydyf alone: {pages:5} pages, 10,000 reads: CPU {time.process_time() - started:6.3f} s")
