"""The home dashboard in a real browser, on a node holding the demo scenario: signing in lands on `/` with the modules'
panels, a panel's item leads to the record's own page, and the page is kept as test-artifacts/dashboard.png."""

from __future__ import annotations

from typing import Any

import pytest

from kizuna.demo.people import DEMO_PASSWORD
from tests.e2e.conftest import screenshot, sign_in

PANELS = ["notifications", "meetings", "actions", "reports", "practices", "threats", "watch"]


def _sign_in(browser: Any, url: str, username: str, language: str = "en") -> Any:
    return sign_in(browser, url, username, DEMO_PASSWORD, language)


def test_signing_in_shows_the_dashboard_and_a_panel_leads_to_its_record(browser: Any, demo_url: str) -> None:
    page = _sign_in(browser, demo_url, "hanako")
    assert page.url.rstrip("/") == demo_url  # signing in lands on the dashboard
    assert page.locator("[data-testid=dashboard]").is_visible()
    for key in PANELS:
        assert page.locator(f"[data-testid=panel-{key}]").is_visible(), key
    # The demo's meetings lie ahead and its reports are new: both panels list records the reader may see.
    meetings = page.locator("[data-testid=panel-meetings] .panel__item a")
    reports = page.locator("[data-testid=panel-reports] .panel__item a")
    assert meetings.count() > 0 and reports.count() > 0
    assert page.locator("[data-testid=banner-top]").inner_text().strip().startswith("NATO")
    screenshot(page, "dashboard")
    title = meetings.first.inner_text().strip()
    meetings.first.click()
    page.wait_for_load_state()
    assert "/consultations/meetings/" in page.url
    assert title in page.locator("h1").first.inner_text()
    # The main navigation still leads to the reports list.
    page.click("nav.site-nav a[href='/reports/']")
    page.wait_for_load_state()
    assert page.url.endswith("/reports/")


@pytest.mark.parametrize(("language", "heading"), [("fr", "Réunions à venir"), ("ja", "今後の会議"), ("ko", "예정된 회의")])
def test_the_dashboard_in_each_language(browser: Any, demo_url: str, language: str, heading: str) -> None:
    page = _sign_in(browser, demo_url, "hanako", language=language)
    assert page.get_attribute("html", "lang") == language
    assert heading in page.locator("[data-testid=panel-meetings] h2").inner_text()
    screenshot(page, f"dashboard-{language}")
