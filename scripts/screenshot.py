"""Regenerate docs/report.png: run `fitdoctor demo`, open its report.html in headless Chromium.

Usage: python scripts/screenshot.py [--out fitdoctor-demo] [--png docs/report.png]
                                    [--budget standard] [--height 1800]

Needs Debian's `chromium` (/usr/bin/chromium) and the `playwright` package (the `dev` extra);
it never downloads a browser. Prints the HTML report's size (it must stay under 2 MB).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]
MAX_BYTES = 2 * 1024 * 1024


def run_demo(out: Path, budget: str) -> Path:
    """Run `fitdoctor demo` into `out` and return the path of its report.html."""
    fitdoctor = Path(sys.executable).with_name("fitdoctor")
    command = [str(fitdoctor), "demo", "--out", str(out), "--budget", budget]
    subprocess.run(command, check=True)
    return out / "report.html"


def screenshot(html: Path, png: Path, *, width: int = 1100, height: int = 1800) -> list[str]:
    """Save a screenshot of the top `height` pixels of `html`; return requests beyond the file."""
    from playwright.sync_api import sync_playwright

    url = html.resolve().as_uri()
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.on("request", lambda r: r.url != url and requests.append(r.url))
        page.route("**/*", lambda r: r.continue_() if r.request.url == url else r.abort())
        page.goto(url)
        page.wait_for_load_state("load")
        full = page.evaluate("document.documentElement.scrollHeight")
        png.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(png), clip={"x": 0, "y": 0, "width": width,
                                             "height": min(height, full)})
        browser.close()
    return requests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("fitdoctor-demo"))
    parser.add_argument("--png", type=Path, default=Path("docs/report.png"))
    parser.add_argument("--budget", default="standard")
    parser.add_argument("--height", type=int, default=1800)
    args = parser.parse_args()
    html = run_demo(args.out, args.budget)
    size = html.stat().st_size
    print(f"{html}: {size / 1024:.0f} KB ({size} bytes)")
    requests = screenshot(html, args.png, height=args.height)
    print(f"screenshot written to {args.png}")
    if requests:
        print(f"error: the report asked for the network: {requests}", file=sys.stderr)
        return 1
    if size > MAX_BYTES:
        print(f"error: {html} is over 2 MB", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
