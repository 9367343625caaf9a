"""In a real browser against a real node: a Japanese officer signs in, creates a report labelled for Japan only with
the label picker, and a Korean officer of another nation can neither find it in the list nor open its address."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import PASSWORD, screenshot

TITLE = "Ship-to-ship transfer observed in the East China Sea"


def _login(browser: Any, node_url: str, username: str) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{node_url}/reports/")
    assert "/login/" in page.url  # every page needs a signed-in user
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]:has-text('Sign in')")
    page.wait_for_url(f"{node_url}/reports/**")
    page.console_errors = errors  # type: ignore[attr-defined]
    return page


def test_report_rel_to_japan_is_created_in_browser_and_hidden_from_korean_officer(browser: Any, node_url: str) -> None:
    japan = _login(browser, node_url, "aiko")
    japan.goto(f"{node_url}/reports/new/")
    japan.fill("input[name=title]", TITLE)
    japan.fill("textarea[name=summary]", "A tanker alongside a vessel listed by the 1718 Committee, hoses connected.")
    japan.fill("textarea[name=body]", "## Observation\n\nObserved by a patrol aircraft **about 250 km** west of Shanghai.")
    japan.check("input[name=label_preset][value=own_nation]")
    japan.check("input[name=label_communities][value=MARITIME]")
    japan.check("input[name=label_tlp][value=AMBER]")
    # The picker says, before saving, who will be able to see the item.
    japan.wait_for_function("document.querySelector('[data-testid=label-preview]')?.innerText.includes('Japan')")
    screenshot(japan, "report-form-label-picker")
    japan.click("button[type=submit]:has-text('Create report')")
    japan.wait_for_selector("h1:has-text('Ship-to-ship transfer')")
    chip = japan.inner_text("[data-testid=label-chip]")
    assert "REL TO JPN" in chip and "MARITIME" in chip and "TLP:AMBER" in chip
    assert "REL TO JPN" in japan.inner_text("[data-testid=banner-top]")
    assert japan.inner_text("[data-testid=banner-top]") == japan.inner_text("[data-testid=banner-bottom]")
    detail_url = japan.url
    screenshot(japan, "report-detail-jpn")
    japan.goto(f"{node_url}/reports/")
    assert TITLE in japan.inner_text("main")
    assert japan.console_errors == []

    korea = _login(browser, node_url, "jisoo")
    assert TITLE not in korea.inner_text("main")
    korea.goto(f"{node_url}/reports/?q=Ship-to-ship")
    assert TITLE not in korea.inner_text("main")
    response = korea.goto(detail_url)
    assert response is not None and response.status == 404
    assert TITLE not in korea.content()
    screenshot(korea, "report-detail-kor-404")


def test_label_picker_names_a_tlp_red_recipient_who_could_not_see_the_item(browser: Any, node_url: str) -> None:
    """Issue 10, item 8: the preview answers within the directory's rule — a recipient excluded by nation (a shared
    fact) is named; nothing about anyone's clearance or communities is said."""
    japan = _login(browser, node_url, "aiko")
    japan.goto(f"{node_url}/reports/new/")
    japan.check("input[name=label_preset][value=own_nation]")
    japan.check("input[name=label_tlp][value=RED]")
    japan.fill("input[name=label_recipients]", "user:aiko, user:jisoo")
    japan.press("input[name=label_recipients]", "Tab")
    japan.wait_for_selector("[data-testid=label-preview] .preview-recipients.warning")  # no eval under the CSP
    preview = japan.inner_text("[data-testid=label-preview]")
    assert "jisoo" in preview and "clearance" not in preview.split("would not be able to see it")[0]
    screenshot(japan, "report-form-label-picker-tlp-red")
    assert japan.console_errors == []
