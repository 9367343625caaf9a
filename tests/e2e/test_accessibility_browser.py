"""Accessibility in a real browser (WCAG 2.1 AA, issue 13 point 18), on a node holding the demo scenario.

axe-core (the copy shipped inside the axe-playwright-python package, injected into the page: nothing is fetched from
the internet) checks every main page in English and in Japanese and fails on any serious or critical violation, and on
content outside a landmark. The keyboard tests complete the report, meeting and import forms with the keyboard only,
through a refused submit whose errors are announced (role=alert) and focused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kizuna.demo.people import DEMO_PASSWORD
from tests.e2e.conftest import sign_in

SCREENS = Path(__file__).resolve().parents[2] / "var" / "screens"

# The main pages of the product: every entry of the navigation and its tabs, each form, and one detail page of each
# kind (found from its list, as a user would).
PAGES = [
    "/", "/reports/", "/reports/new/", "/practices/", "/practices/new/",
    "/consultations/", "/consultations/series/", "/consultations/series/new/", "/consultations/schedule/",
    "/consultations/actions/", "/consultations/meetings/new/", "/consultations/settings/",
    "/threats/", "/threats/cyber/", "/threats/disinformation/", "/threats/maritime/", "/threats/strategic/",
    "/threats/maritime/new/", "/threats/import/", "/threats/export/", "/threats/watch/",
    "/inbox/", "/account/", "/search/?q=cyber",
]
DETAILS = [("/reports/", "a[href^='/reports/'][href$='/']:not([href='/reports/']):not([href='/reports/new/'])"),
           ("/consultations/series/", "a[href^='/consultations/series/'][href$='/']:not([href$='/new/'])"),
           ("/threats/cyber/", "a[href^='/threats/objects/']"),
           ("/threats/maritime/", "a[data-testid=geo-marker]")]




def _signed_in(browser: Any, url: str, language: str = "en") -> Any:
    return sign_in(browser, url, "hanako", DEMO_PASSWORD, language)


def _shot(page: Any, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=False)


@pytest.mark.parametrize("language", ["en", "fr", "ja", "ko"])
def test_axe_finds_no_serious_violation_on_any_main_page(browser: Any, demo_url: str, language: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    page = _signed_in(browser, demo_url, language)
    pages = list(PAGES)
    for listing, link in DETAILS:
        page.goto(demo_url + listing)
        href = page.get_attribute(link, "href")
        assert href, f"no detail page linked from {listing}"
        pages.append(href)
    found: list[str] = []
    for path in pages:
        response = page.goto(demo_url + path)
        assert response is not None and response.status == 200, path
        assert page.get_attribute("html", "lang") == language
        results = axe.run(page).response
        for violation in results["violations"]:
            if violation["impact"] in ("serious", "critical") or violation["id"] == "region":
                targets = [node["target"] for node in violation["nodes"][:3]]
                found.append(f"{path}: {violation['id']} ({violation['impact']}) {targets}")
    assert found == []


def _tab_to(page: Any, selector: str, limit: int = 80) -> None:
    """Press Tab until the focused element matches ``selector``: the keyboard's way to a field."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def _keyboard_file_chooser(page: Any, selector: str, tries: int = 3) -> Any:
    """Space on the focused file input opens the file dialog: the chooser. Under a loaded suite (two browsers beside
    PostgreSQL) Chromium once let a press pass without opening it (a 30 s timeout on a fresh clone, never alone), so
    the press is tried again, each time with the focus checked on the input: still the keyboard alone."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(tries):
        assert page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector)
        try:
            with page.expect_file_chooser(timeout=10_000) as chooser:
                page.keyboard.press("Space")
            return chooser.value
        except PlaywrightTimeout:
            if attempt == tries - 1:
                raise
    raise AssertionError("unreachable")


def _submit(page: Any) -> None:
    """Enter in the focused field or on the focused button submits its form; wait for the answer page."""
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state()


def _focused_alert(page: Any) -> str:
    """The text of the focused element, which must be the error summary, an alert."""
    page.wait_for_load_state()
    focused = page.evaluate("""() => { const e = document.activeElement;
        return {alert: e.getAttribute('role'), summary: e.hasAttribute('data-error-summary'), text: e.innerText}; }""")
    assert focused["alert"] == "alert" and focused["summary"], focused
    return str(focused["text"])


def test_keyboard_only_completes_a_report_through_a_refused_submit(browser: Any, demo_url: str) -> None:
    page = _signed_in(browser, demo_url)
    page.goto(f"{demo_url}/reports/new/")
    _tab_to(page, "input[name=title]")
    page.keyboard.type("   ")  # passes the browser's required check; the server refuses a blank title
    _submit(page)
    assert "Title" in _focused_alert(page)
    _shot(page, "a11y-report-refused")
    page.keyboard.press("Tab")  # the summary's link to the field in error
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.name") == "title"
    assert "id_title_error" in (page.evaluate("document.activeElement.getAttribute('aria-describedby')") or "")
    page.keyboard.type("Keyboard-only report")
    _submit(page)
    page.wait_for_selector("h1:has-text('Keyboard-only report')")


def test_keyboard_only_completes_a_meeting_through_a_refused_submit(browser: Any, demo_url: str) -> None:
    page = _signed_in(browser, demo_url)
    page.goto(f"{demo_url}/consultations/meetings/new/")
    _tab_to(page, "input[name=title]")
    page.keyboard.type("Keyboard-only meeting")
    _tab_to(page, "input[name=start]")
    page.keyboard.type("06102031")
    page.keyboard.press("Tab")
    page.keyboard.type("1000A")
    _tab_to(page, "input[name=end]")
    page.keyboard.type("06102031")
    page.keyboard.press("Tab")
    page.keyboard.type("0900A")  # ends before it starts: refused
    _submit(page)
    assert "end after it starts" in _focused_alert(page)
    _shot(page, "a11y-meeting-refused")
    _tab_to(page, "input[name=end]")
    page.keyboard.type("06102031")
    page.keyboard.press("Tab")
    page.keyboard.type("1100A")
    _tab_to(page, "input[name=link]")
    page.keyboard.type("https://meet.example.org/kizuna")
    _submit(page)
    page.wait_for_selector("h1:has-text('Keyboard-only meeting')")


def test_keyboard_only_completes_an_import_through_a_refused_submit(browser: Any, demo_url: str,
                                                                    tmp_path: Path) -> None:
    bad = tmp_path / "empty.json"
    bad.write_text("")  # the form refuses an empty file
    good = tmp_path / "bundle.json"
    good.write_text('{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [{'
                    '"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",'
                    '"created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "name": "Keyboard",'
                    '"pattern": "[ipv4-addr:value = \'198.51.100.7\']", "pattern_type": "stix",'
                    '"valid_from": "2026-01-01T00:00:00Z"}]}')
    page = _signed_in(browser, demo_url)
    page.goto(f"{demo_url}/threats/import/")
    for upload in (bad, good):
        _tab_to(page, "input[name=bundle]")
        _keyboard_file_chooser(page, "input[name=bundle]").set_files(str(upload))
        _tab_to(page, "button[type=submit]")
        _submit(page)
        if upload is bad:
            assert "File" in _focused_alert(page)
            _shot(page, "a11y-import-refused")
    page.wait_for_url("**/threats/import/*/")
