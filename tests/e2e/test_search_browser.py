"""In a real browser against the demo node (issue 14): a Korean coordinator types 사이버 방어 ("cyber defence") into the
search box in the header, in Korean, and finds an English demo report through the glossary; the results page is in
Korean, names the equivalents it also searched, and each hit opens its record's own page. The screenshot is written
to test-artifacts/search-ko.png."""

from __future__ import annotations

from typing import Any

from kizuna.demo.facts import DEMO_PASSWORD
from tests.e2e.conftest import screenshot, sign_in


def test_korean_user_finds_an_english_report_from_the_header_box(browser: Any, demo_url: str) -> None:
    page = sign_in(browser, demo_url, "minjun", DEMO_PASSWORD, "ko")
    page.goto(f"{demo_url}/reports/")
    page.fill("#site-search-q", "사이버 방어")
    with page.expect_navigation():
        page.press("#site-search-q", "Enter")
    assert "/search/" in page.url and page.get_attribute("html", "lang") == "ko"
    page.wait_for_selector("[data-testid=search-hits]")
    main = page.inner_text("main")
    assert "함께 검색한 말" in main and "cyber defence" in main
    assert "Locked Shields: lessons from partner participation" in main
    assert "검색" in page.inner_text("h1")
    shot = screenshot(page, "search-ko")
    assert shot.stat().st_size > 10_000
    with page.expect_navigation():
        page.click("text=Locked Shields: lessons from partner participation")
    assert "/reports/" in page.url and "Locked Shields" in page.inner_text("h1")
