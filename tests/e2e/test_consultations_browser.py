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


def _attendee(page: Any, text: str) -> Any:
    """The tick box of one person in the meeting form's attendee list."""
    return page.locator("[data-testid=attendee-list] label", has_text=text).locator("input[name=attendees]")


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
    _attendee(japan, "jisoo").check()
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


def test_organiser_finds_and_invites_a_nation_and_sees_who_could_not_read_the_meeting_before_sending(
        browser: Any, node_url: str) -> None:
    """Issue 13, point 11: the form starts releasable to NATO + IP4; the organiser searches the people, invites all of
    Korea with one tick, and — with the label narrowed to Japan — is told before sending that jisoo could not read it."""
    japan = _login(browser, node_url, "aiko")
    japan.wait_for_selector("h1:has-text('New meeting')")
    assert japan.is_checked("input[name=label_preset][value=nato_ip4]")
    japan.fill("input[name=title]", "Maritime domain awareness, staff talks")
    japan.select_option("select[name=time_zone]", "Asia/Tokyo")
    japan.fill("input[name=start]", "2027-07-06T16:00")
    japan.fill("input[name=end]", "2027-07-06T17:30")
    japan.fill("input[name=link]", "https://vtc.example.org/room/mda")

    # Search: typing hides everyone who does not match.
    japan.fill("[data-attendee-search]", "kor")
    assert _attendee(japan, "jisoo").is_visible()
    assert not _attendee(japan, "aiko").is_visible()
    japan.fill("[data-attendee-search]", "")
    assert _attendee(japan, "aiko").is_visible()

    # A group: every Korean at once; the group box is a one-shot action, the person stays removable.
    japan.click("[data-testid=attendee-groups] summary")
    japan.click("input[name=attendee_groups][value='nation:KOR']")  # not check(): it unticks itself
    assert _attendee(japan, "jisoo").is_checked()
    assert not japan.is_checked("input[name=attendee_groups][value='nation:KOR']")
    japan.wait_for_selector("[data-testid=attendees-ok]")

    # Narrowed to Japan only: the check names jisoo before anything is sent.
    japan.check("input[name=label_preset][value=own_nation]")
    warning = japan.wait_for_selector("[data-testid=attendees-left-out]:has-text('jisoo')")
    assert "could not read the meeting" in warning.inner_text()
    assert "You are included" in japan.inner_text("[data-testid=label-preview]")
    warning.scroll_into_view_if_needed()
    screenshot(japan, "consultations-attendee-check")

    # Widened again: the warning goes, and the meeting is created with jisoo invited.
    japan.check("input[name=label_preset][value=nato_ip4]")
    japan.wait_for_selector("[data-testid=attendees-left-out]", state="detached")
    japan.wait_for_selector("[data-testid=attendees-ok]")
    japan.click("button[type=submit]:has-text('Create meeting')")
    japan.wait_for_selector("h1:has-text('Maritime domain awareness')")
    assert "jisoo" in japan.inner_text("#attendees")
    assert japan.console_errors == []


def test_scheduling_assistant_proposes_working_hours_over_many_days_and_pages_on(browser: Any,
                                                                                 node_url: str) -> None:
    """Issue 13, point 8: NATO HQ with the four partners. The best slots are not the middle of the night in Brussels,
    they spread over the days, each says who is outside and by how much, and "More slots" pages on."""
    japan = _login(browser, node_url, "aiko")
    japan.goto(f"{node_url}/consultations/schedule/")
    for code in ("AUS", "JPN", "KOR", "NATO", "NZL"):
        japan.check(f"input[name=nations][value={code}]")
    japan.fill("input[name=duration_minutes]", "90")
    japan.fill("input[name=first_day]", "2027-03-01")
    japan.fill("input[name=last_day]", "2027-03-26")
    japan.click("button[type=submit]:has-text('Propose slots')")
    japan.wait_for_selector("[data-testid=slot]")
    rows = japan.locator("[data-testid=slot]")
    assert rows.count() == 20
    days = set()
    for index in range(rows.count()):
        text = rows.nth(index).inner_text()
        days.add(rows.nth(index).locator("time").inner_text().split(" 2027")[0])
        brussels = next(line for line in text.splitlines() if "Brussels" in line)
        hour = int(brussels.split(": ", 1)[1][:2])
        assert 5 <= hour <= 20, brussels  # never the middle of the night at NATO HQ
    assert len(days) >= 10, days
    assert " by " in rows.first.inner_text()  # who is outside, and by how much
    screenshot(japan, "consultations-schedule")
    japan.click("[data-testid=more-slots]")
    japan.wait_for_selector("[data-testid=slot] td.num:text-is('21')")
    assert japan.console_errors == []


def test_printed_minutes_carry_the_overall_marking_of_their_parts(browser: Any, demo_url: str) -> None:
    """Issue 13, point 12, on the demo as a reader finds it: the session's meeting is NATO UNCLASSIFIED // TLP:GREEN
    and every minutes part NATO RESTRICTED REL TO NATO, IP4 // TLP:AMBER; the printable minutes are marked with their
    least upper bound, top and bottom (they showed only "NATO RESTRICTED")."""
    from tests.e2e.test_accessibility_browser import _signed_in

    page = _signed_in(browser, demo_url)  # hanako, of Japan's Ministry of Defense
    page.goto(f"{demo_url}/consultations/series/")
    page.click("text=NATO–IP4 Cyber Defence Consultations")
    page.click("text=Cyber Defence Consultations — session 2")
    page.click("[data-testid=print-link]")
    page.wait_for_selector("[data-testid=banner-top]")
    marking = "NATO RESTRICTED REL TO NATO, IP4 // TLP:AMBER"
    assert page.inner_text("[data-testid=banner-top]") == marking
    assert page.inner_text("[data-testid=banner-bottom]") == marking
    screenshot(page, "consultations-printed-minutes")
