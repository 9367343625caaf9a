"""In a real browser against a real node: a Japanese officer arranges a meeting with a Korean colleague through the
form (17:00 in Brussels on a Tuesday), adds an agenda item and publishes the agenda, records an action for the colleague, and the
meeting page shows the local time in Tokyo and Seoul — already the next day there; the colleague then reads the
published agenda and the action, and answers the invitation."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import PASSWORD, screenshot

TITLE = "NATO–IP4 cyber defence consultations, round 7"


def _login(browser: Any, node_url: str, username: str) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{node_url}/consultations/meetings/new/")
    assert "/login/" in page.url  # every page needs a signed-in user
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]:has-text('Sign in')")
    page.wait_for_url(f"{node_url}/consultations/**")
    page.console_errors = errors  # type: ignore[attr-defined]
    return page


def _option_value(page: Any, select: str, text: str) -> str:
    value = page.locator(f"{select} option", has_text=text).first.get_attribute("value")
    assert value, f"no option {text!r} in {select}"
    return str(value)


def test_meeting_is_arranged_its_agenda_published_and_an_action_recorded_in_browser(browser: Any,
                                                                                    node_url: str) -> None:
    japan = _login(browser, node_url, "aiko")
    japan.wait_for_selector("h1:has-text('New meeting')")
    japan.fill("input[name=title]", TITLE)
    japan.select_option("select[name=time_zone]", "Europe/Brussels")
    japan.fill("input[name=start]", "2027-06-01T17:00")
    japan.fill("input[name=end]", "2027-06-01T19:00")
    japan.select_option("select[name=mode]", "virtual")
    japan.fill("input[name=link]", "https://vtc.example.org/room/cyber-7")
    japan.select_option("select[name=attendees]", [_option_value(japan, "select[name=attendees]", "jisoo")])
    japan.check("input[name=label_preset][value=nato_ip4]")
    japan.wait_for_selector("[data-testid=label-preview]:has-text('Korea')")
    screenshot(japan, "consultations-meeting-form")
    japan.click("button[type=submit]:has-text('Create meeting')")
    japan.wait_for_selector(f"h1:has-text('{TITLE}')")
    meeting_url = japan.url
    assert "REL TO NATO, IP4" in japan.inner_text("[data-testid=banner-top]")

    # The local-time table: Brussels' 17:00 is already Wednesday in Tokyo and Seoul.
    table = japan.locator("[data-testid=local-times]")
    assert table.is_visible()
    tokyo = table.locator("tr[data-nation=JPN]").inner_text()
    seoul = table.locator("tr[data-nation=KOR]").inner_text()
    assert "Tokyo" in tokyo and "00:00 – 02:00" in tokyo and "Wed 2 Jun" in tokyo
    assert "Seoul" in seoul and "00:00 – 02:00" in seoul and "Wed 2 Jun" in seoul

    japan.click("a:has-text('Add agenda item')")
    japan.fill("input[name=title]", "Ransomware against ports: the threat picture")
    japan.fill("input[name=presenter]", "JPN delegation")
    japan.fill("input[name=duration_minutes]", "30")
    japan.click("button[type=submit]:has-text('Add to agenda')")
    japan.wait_for_selector("[data-testid=agenda-item]:has-text('Ransomware against ports')")
    assert japan.inner_text("[data-testid=agenda-state]") == "Draft"
    japan.click("button:has-text('Publish agenda')")
    japan.wait_for_selector("[data-testid=agenda-state]:has-text('Published')")

    japan.click("a:has-text('Record an action')")
    japan.fill("input[name=title]", "Share the port-sector indicators with all partners")
    japan.select_option("select[name=owner]", _option_value(japan, "select[name=owner]", "jisoo"))
    japan.fill("input[name=due]", "2027-06-30")
    japan.click("button[type=submit]:has-text('Record action')")
    japan.wait_for_selector("[data-testid=action]:has-text('Share the port-sector indicators')")
    assert japan.locator("[data-testid=local-times]").is_visible()
    shot = screenshot(japan, "consultations-meeting-page")
    assert shot.exists()
    assert japan.console_errors == []

    korea = _login(browser, node_url, "jisoo")
    korea.goto(meeting_url)
    assert "Ransomware against ports" in korea.inner_text("[data-testid=agenda]")
    assert "Share the port-sector indicators" in korea.inner_text("[data-testid=actions]")
    korea.click("[data-testid=rsvp-form] button[value=accepted]")
    korea.wait_for_selector("[data-testid=my-rsvp]:has-text('Accepted')")
    assert korea.console_errors == []
