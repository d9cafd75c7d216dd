"""The HTML report in a real browser: headless Chromium opens it from disk, offline.

Needs Debian's `chromium` at /usr/bin/chromium and the `playwright` Python package (the `dev`
extra); it never downloads a browser. CI installs chromium in `.ci/run`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fitdoctor.report.html import fix_to_html, tune_to_html
from fitdoctor.report.plots import REPORT_PLOTS
from tests import html_samples
from tests.html_samples import HOSTILE

CHROMIUM = Path(os.environ.get("FITDOCTOR_CHROMIUM", "/usr/bin/chromium"))
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]

if not CHROMIUM.exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="the playwright package is missing (pip install -e .[dev])")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield browser
        browser.close()


class Visit:
    """One page opened from disk with every request, console message and dialog recorded."""

    def __init__(self, browser, path: Path):
        self.url = path.resolve().as_uri()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.context = browser.new_context(viewport={"width": 1100, "height": 900})
        self.context.grant_permissions(["clipboard-read", "clipboard-write"])
        self.page = self.context.new_page()
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self._dialog)
        self.page.route("**/*", self._route)
        self.page.goto(self.url)
        self.page.wait_for_load_state("load")

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _route(self, route) -> None:
        if route.request.url == self.url:
            route.continue_()
        else:
            route.abort()

    def assert_clean(self) -> None:
        assert self.requests == [self.url], f"requests beyond the file itself: {self.requests}"
        assert self.errors == [], self.errors
        assert self.dialogs == [], f"a dialog fired: {self.dialogs}"


def test_report_opens_offline_with_findings_plots_and_inert_hostile_names(browser, tmp_path):
    report = html_samples.report()
    path = tmp_path / "report.html"
    report.to_html(path)
    visit = Visit(browser, path)
    page = visit.page

    assert page.locator("article.finding").count() == len(report.findings)
    titles = page.locator("article.finding h3 .fid").all_inner_texts()
    assert titles == [f.id for f in report.findings]
    for key in REPORT_PLOTS:
        box = page.locator(f"#plot-{key} svg").bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 80, key
    assert page.locator("img").count() == 0
    hostile = page.get_by_text(HOSTILE, exact=False)
    assert hostile.count() >= 3
    assert hostile.first.is_visible()
    assert page.locator(f'#plot-class_balance text:has-text("{HOSTILE}")').count() == 1

    button = page.locator("#finding-1 button.copy")
    button.click()
    page.wait_for_function("document.querySelector('#finding-1 button.copy').textContent"
                           " === 'copied'")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == report.findings[0].fix.code

    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    visit.assert_clean()


@pytest.mark.parametrize("render,result", [(fix_to_html, html_samples.fix_result),
                                           (tune_to_html, html_samples.tune_result)])
def test_fix_and_tune_pages_open_offline(browser, tmp_path, render, result):
    path = tmp_path / "page.html"
    render(result(), path)
    visit = Visit(browser, path)
    assert visit.page.locator("figure svg").count() >= 1
    assert visit.page.get_by_text(HOSTILE, exact=False).first.is_visible()
    visit.page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
    visit.assert_clean()
