"""Screenshots for the README, from a running RecTrack (make run) with the walkthrough
data: python docs/capture_screenshots.py BASE_URL OIG_EMAIL OIG_PASSWORD.
Uses Debian's Chromium through Playwright; the PDF page comes from pdftoppm."""

import subprocess
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).parent / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


def main(base: str, email: str, password: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/login")
        page.fill("#email", email)
        page.fill("#password", password)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{base}/")
        for name, path in (
            ("dashboard", "/"),
            ("list", "/recommendations?status=open"),
            ("recommendation", "/recommendations/3"),
        ):
            page.goto(base + path)
            page.screenshot(path=OUT / f"{name}.png", full_page=True)
        with page.expect_download() as download:
            page.goto(f"{base}/reports/2")
            page.click("button:has-text('Download status report (PDF)')")
        pdf = OUT / "report-status.pdf"
        download.value.save_as(pdf)
        browser.close()
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-f", "2", "-l", "2", "-singlefile", pdf, OUT / "pdf-page"],
        check=True,
    )
    pdf.unlink()


if __name__ == "__main__":
    main(*sys.argv[1:4])
