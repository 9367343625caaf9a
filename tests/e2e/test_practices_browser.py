"""The worked example in a real browser: an officer writes a best-practice note for Japan only through the form and
the label picker, finds it under "Best practice" in the navigation with its chip and the banners, and an officer of
another nation neither finds it nor opens its address."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import PASSWORD, screenshot

TITLE = "Sharing indicators with a partner CERT within the hour"


def _login(browser: Any, node_url: str, username: str) -> Any:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{node_url}/practices/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]:has-text('Sign in')")
    page.wait_for_url(f"{node_url}/practices/**")
    return page


def test_a_note_for_japan_is_written_in_the_browser_and_missing_for_a_korean_officer(
    browser: Any, node_url: str
) -> None:
    japan = _login(browser, node_url, "aiko")
    japan.click("[data-testid=nav-practices]")
    japan.click("a:has-text('New note')")
    japan.fill("input[name=title]", TITLE)
    japan.fill("textarea[name=body]", "1. Agree the **TLP** first.\n2. Send the STIX bundle over TAXII.")
    japan.check("input[name=label_preset][value=own_nation]")
    japan.check("input[name=label_tlp][value=GREEN]")
    japan.click("button[type=submit]:has-text('Create note')")
    japan.wait_for_selector(f"h1:has-text('{TITLE}')")
    chip = japan.inner_text("[data-testid=label-chip]")
    assert "REL TO JPN" in chip and "TLP:GREEN" in chip
    assert "REL TO JPN" in japan.inner_text("[data-testid=banner-top]")
    assert japan.inner_text("[data-testid=banner-top]") == japan.inner_text("[data-testid=banner-bottom]")
    assert japan.get_attribute("[data-testid=nav-practices]", "aria-current") == "page"
    detail_url = japan.url
    screenshot(japan, "practice-detail-jpn")
    japan.goto(f"{node_url}/practices/")
    assert TITLE in japan.inner_text("main")
    screenshot(japan, "practice-list-jpn")

    korea = _login(browser, node_url, "jisoo")
    assert TITLE not in korea.inner_text("main")
    response = korea.goto(detail_url)
    assert response is not None and response.status == 404
    assert TITLE not in korea.content()
