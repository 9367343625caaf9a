"""The calendar, series, scheduling assistant and "my actions" pages: times in the viewer's zone, only what the viewer
may see (a hidden series is a 404), banners that match what is shown, form errors that write nothing, and status
changes by an action's owner."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from kizuna.consultations.models import ActionItem, ActionStatus, Meeting, Series
from kizuna.consultations.services import (
    MeetingInput,
    SeriesInput,
    do_cancel_meeting,
    do_create_action,
    do_create_meeting,
    do_create_series,
)
from kizuna.core.models import AuditEntry
from tests.conftest import make_label
from tests.web.helpers import audit_page

pytestmark = pytest.mark.django_db

LINK = "https://meet.example.org/room"


def client_for(user: Any, zone: str | None = None) -> Client:
    if zone is not None:
        user.timezone = zone
        user.save(update_fields=["timezone"])
    client = Client()
    client.force_login(user)
    return client


def meeting(user: Any, title: str, start: datetime, hours: int = 2, series: Series | None = None,
            **label: Any) -> Meeting:
    return do_create_meeting(user, MeetingInput(
        title=title, label=make_label(**(label or {"releasable_to": ["IP4"]})), start=start,
        end=start + timedelta(hours=hours), time_zone="Europe/Brussels", link=LINK, series=series))


def series_of(user: Any, title: str = "NATO–IP4 Cyber Defence Consultations", **label: Any) -> Series:
    return do_create_series(user, SeriesInput(
        title=title, label=make_label(**(label or {"releasable_to": ["IP4"]})), time_zone="Europe/Brussels",
        rrule="FREQ=WEEKLY;BYDAY=TU", first_date=date(2026, 1, 6), start_time=time(9, 0), duration_minutes=90,
        nations=["BEL", "JPN", "KOR"], focus_areas=["cyber"]))


def cell(body: str, day: str) -> str:
    """The HTML of one day of the month grid (or one day of the week view)."""
    match = re.search(rf'data-date="{day}">(.*?)</(?:td|section)>', body, re.S)
    assert match, f"no cell for {day}"
    return match.group(1)


def banner(body: str) -> str:
    match = re.search(r'data-testid="banner-top">([^<]*)<', body)
    assert match
    return match.group(1)


def series_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "NATO–Japan Space Dialogue", "focus_areas": ["space"], "nations": ["BEL", "JPN"], "chair": "",
        "time_zone": "Asia/Tokyo", "preset": "custom", "rrule": "FREQ=MONTHLY;BYDAY=1WE",
        "first_date": "2026-01-07", "start_time": "17:00", "duration_minutes": "60",
        "label_policy": "NATO", "label_preset": "custom", "label_classification": "UNCLASSIFIED",
        "label_releasable_to": ["JPN"], "label_tlp": "AMBER", "label_recipients": "",
    }
    data.update(overrides)
    return data


# --- calendar ------------------------------------------------------------------------------------------------------

def test_month_view_shows_times_in_the_viewers_zone_and_says_which(jpn_user: Any) -> None:
    meeting(jpn_user, "Cyber round", datetime(2026, 6, 10, 8, 0, tzinfo=UTC))
    response = client_for(jpn_user, "Asia/Tokyo").get("/consultations/?date=2026-06-01")
    body = response.content.decode()
    assert response.status_code == 200
    assert "All times in Asia/Tokyo (UTC+09:00)" in body
    day = cell(body, "2026-06-10")
    assert "Cyber round" in day
    assert "17:00–19:00" in day
    assert 'data-testid="calendar-month"' in body
    assert audit_page(body).violations == []


def test_a_meeting_across_midnight_sits_on_the_viewers_local_day(jpn_user: Any, make_user: Any) -> None:
    meeting(jpn_user, "Late call", datetime(2026, 6, 30, 20, 0, tzinfo=UTC), releasable_to=["NATO", "IP4"])
    tokyo = client_for(jpn_user, "Asia/Tokyo")
    july = tokyo.get("/consultations/?view=month&date=2026-07-15").content.decode()
    assert "Late call" in cell(july, "2026-07-01")
    assert "05:00–07:00" in cell(july, "2026-07-01")
    june = tokyo.get("/consultations/?view=month&date=2026-06-15").content.decode()
    assert "Late call" not in cell(june, "2026-06-30")
    brussels_user = make_user("anne", "BEL", "BEL-MOD")
    brussels = client_for(brussels_user, "Europe/Brussels").get("/consultations/?date=2026-06-15").content.decode()
    assert "22:00–00:00" not in brussels  # the end on another day names that day
    assert "Late call" in cell(brussels, "2026-06-30")


def test_week_and_list_views_use_the_viewers_zone(jpn_user: Any) -> None:
    meeting(jpn_user, "Cyber round", datetime(2026, 6, 10, 8, 0, tzinfo=UTC))
    client = client_for(jpn_user, "Asia/Tokyo")
    week = client.get("/consultations/?view=week&date=2026-06-11").content.decode()
    assert 'data-testid="calendar-week"' in week
    assert "17:00–19:00" in cell(week, "2026-06-10")
    listing = client.get("/consultations/?view=list&date=2026-06-01").content.decode()
    assert 'data-testid="calendar-list"' in listing
    assert "17:00–19:00" in listing and "Cyber round" in listing
    later = client.get("/consultations/?view=list&date=2026-06-20").content.decode()
    assert "Cyber round" not in later


def test_a_utc_viewer_sees_utc(jpn_user: Any) -> None:
    meeting(jpn_user, "Cyber round", datetime(2026, 6, 10, 8, 0, tzinfo=UTC))
    body = client_for(jpn_user, "UTC").get("/consultations/?view=week&date=2026-06-10").content.decode()
    assert "08:00–10:00" in body
    assert "All times in UTC" in body


def test_calendar_navigation_keeps_view_and_series(jpn_user: Any) -> None:
    series = series_of(jpn_user)
    body = client_for(jpn_user).get(f"/consultations/?view=week&date=2026-06-10&series={series.pk}").content.decode()
    assert f"?view=week&amp;date=2026-06-01&amp;series={series.pk}" in body  # previous week
    assert f"?view=week&amp;date=2026-06-15&amp;series={series.pk}" in body  # next week
    assert f"?view=week&amp;series={series.pk}" in body  # today


def test_invisible_meetings_are_absent_and_their_series_is_a_404(jpn_user: Any, kor_user: Any) -> None:
    hidden_series = series_of(kor_user, "NATO–Korea staff talks", releasable_to=["KOR"])
    meeting(kor_user, "Korea only", datetime(2026, 6, 10, 1, 0, tzinfo=UTC), series=hidden_series,
            releasable_to=["KOR"])
    meeting(jpn_user, "Shared round", datetime(2026, 6, 11, 1, 0, tzinfo=UTC))
    client = client_for(jpn_user)
    for view in ("month", "week", "list"):
        body = client.get(f"/consultations/?view={view}&date=2026-06-10").content.decode()
        assert "Shared round" in body
        assert "Korea only" not in body and "Korea staff talks" not in body
    assert client.get(f"/consultations/series/{hidden_series.pk}/").status_code == 404
    assert client.get(f"/consultations/series/{hidden_series.pk}/edit/").status_code == 404
    assert client.get("/consultations/series/999999/").status_code == 404
    assert client.get(f"/consultations/?series={hidden_series.pk}").status_code == 400
    assert client.get(f"/consultations/schedule/?series={hidden_series.pk}").status_code == 404
    assert "Korea staff talks" not in client.get("/consultations/series/").content.decode()
    korean = client_for(kor_user).get("/consultations/?view=week&date=2026-06-10").content.decode()
    assert "Korea only" in korean


def test_a_visible_meeting_of_a_hidden_series_does_not_name_the_series(jpn_user: Any, kor_user: Any) -> None:
    hidden_series = series_of(kor_user, "Korea staff talks", releasable_to=["KOR"])
    meeting(kor_user, "Open session", datetime(2026, 6, 10, 1, 0, tzinfo=UTC), series=hidden_series,
            releasable_to=["IP4"])
    body = client_for(jpn_user).get("/consultations/?view=week&date=2026-06-10").content.decode()
    assert "Open session" in body
    assert "Korea staff talks" not in body


def test_banner_and_chips_follow_the_meetings_shown(jpn_user: Any) -> None:
    meeting(jpn_user, "Open round", datetime(2026, 6, 10, 1, 0, tzinfo=UTC))
    client = client_for(jpn_user)
    body = client.get("/consultations/?view=week&date=2026-06-10").content.decode()
    assert banner(body) == "NATO UNCLASSIFIED REL TO IP4 // TLP:AMBER"
    assert 'data-testid="label-chip">NATO UNCLASSIFIED REL TO IP4 // TLP:AMBER<' in body
    meeting(jpn_user, "Restricted round", datetime(2026, 6, 11, 1, 0, tzinfo=UTC), releasable_to=["JPN"],
            classification="RESTRICTED")
    body = client.get("/consultations/?view=week&date=2026-06-10").content.decode()
    assert banner(body) == "NATO RESTRICTED"
    assert AuditEntry.objects.filter(action="list", target_type="meeting").exists()


def test_cancelled_meetings_are_struck_through(jpn_user: Any) -> None:
    cancelled = meeting(jpn_user, "Called off", datetime(2026, 6, 10, 1, 0, tzinfo=UTC))
    do_cancel_meeting(jpn_user, cancelled, "typhoon")
    body = client_for(jpn_user).get("/consultations/?date=2026-06-10").content.decode()
    entry = cell(body, "2026-06-10")
    assert "cal-entry--cancelled" in entry and "Cancelled" in entry


def test_entries_link_to_the_meeting_page(jpn_user: Any) -> None:
    m = meeting(jpn_user, "Cyber round", datetime(2026, 6, 10, 8, 0, tzinfo=UTC))
    body = client_for(jpn_user).get("/consultations/?date=2026-06-10").content.decode()
    assert f'href="/consultations/meetings/{m.pk}/"' in body


def test_bad_calendar_parameters_are_shown_not_a_server_error(jpn_user: Any) -> None:
    response = client_for(jpn_user).get("/consultations/?view=year&date=yesterday")
    assert response.status_code == 400
    assert 'data-testid="calendar-error"' in response.content.decode()


def test_pages_need_a_login(client: Client) -> None:
    for url in ("/consultations/", "/consultations/series/", "/consultations/schedule/", "/consultations/actions/"):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


def test_main_navigation_links_the_calendar_and_my_actions_is_a_consultations_tab(jpn_user: Any) -> None:
    body = client_for(jpn_user).get("/reports/").content.decode()
    assert 'href="/consultations/" data-testid="nav-consultations"' in body
    assert 'href="/consultations/actions/"' not in body  # one "My actions": the tab, not a second main entry
    assert 'href="/consultations/actions/"' in client_for(jpn_user).get("/consultations/").content.decode()


# --- series --------------------------------------------------------------------------------------------------------

def test_series_page_shows_cadence_occurrences_in_both_zones_and_open_actions(jpn_user: Any) -> None:
    series = series_of(jpn_user)
    past = meeting(jpn_user, "Round one", timezone.now() - timedelta(days=20), series=series)
    meeting(jpn_user, "Round two", timezone.now() + timedelta(days=20), series=series)
    do_create_action(jpn_user, "Share indicators", make_label(releasable_to=["IP4"]), meeting=past,
                     owner_user=jpn_user, due=timezone.now().date() - timedelta(days=3))
    response = client_for(jpn_user, "Asia/Tokyo").get(f"/consultations/series/{series.pk}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Every week, on Tuesday, at 09:00 (Europe/Brussels), 90 minutes" in body
    assert "RRULE:FREQ=WEEKLY;BYDAY=TU" in body
    occurrences = body.split('data-testid="occurrences"')[1].split("</table>")[0]
    assert "Tue" in occurrences and "09:00" in occurrences  # home time
    assert "16:00" in occurrences or "17:00" in occurrences  # Tokyo: 16:00 in summer, 17:00 in winter
    assert f"/consultations/meetings/new/?series={series.pk}&amp;start=" in body
    assert "Round one" in body.split('<section id="history">')[1]
    assert "Round two" in body.split('<section id="upcoming">')[1].split('<section id="actions">')[0]
    actions = body.split('<section id="actions">')[1].split('<section id="history">')[0]
    assert "Share indicators" in actions and 'data-testid="overdue"' in actions
    assert banner(body) == "NATO UNCLASSIFIED REL TO IP4 // TLP:AMBER"
    assert AuditEntry.objects.filter(action="read", target_type="series", target_ids=str(series.pk)).exists()
    assert audit_page(body).violations == []


def test_series_create_with_a_bad_rrule_shows_a_form_error_and_writes_nothing(jpn_user: Any) -> None:
    client = client_for(jpn_user)
    before = AuditEntry.objects.count()
    response = client.post("/consultations/series/new/", series_form(rrule="FREQ=FORTNIGHTLY"))
    assert response.status_code == 400
    body = response.content.decode()
    assert re.search(r'id="id_rrule_error"><li>(invalid RRULE|the cadence must be)', body)
    response = client.post("/consultations/series/new/", series_form(time_zone="Mars/Olympus"))
    assert response.status_code == 400
    assert 'id="id_time_zone_error"><li>unknown time zone' in response.content.decode()
    assert not Series.objects.exists()
    assert AuditEntry.objects.count() == before


def test_series_create_with_a_preset_and_edit(jpn_user: Any) -> None:
    client = client_for(jpn_user)
    assert client.get("/consultations/series/new/").status_code == 200
    response = client.post("/consultations/series/new/", series_form(preset="quarterly", rrule="ignored"))
    assert response.status_code == 302
    series = Series.objects.get()
    assert response["Location"] == f"/consultations/series/{series.pk}/"
    assert series.rrule == "FREQ=MONTHLY;INTERVAL=3"
    assert series.nations == ["BEL", "JPN"] and series.time_zone == "Asia/Tokyo"
    edit = client.get(f"/consultations/series/{series.pk}/edit/")
    assert edit.status_code == 200 and "FREQ=MONTHLY;INTERVAL=3" in edit.content.decode()
    response = client.post(f"/consultations/series/{series.pk}/edit/",
                           series_form(title="NATO–Japan Space Dialogue (renamed)", rrule="FREQ=WEEKLY;BYDAY=WE"))
    assert response.status_code == 302
    series.refresh_from_db()
    assert series.title.endswith("(renamed)") and series.rrule == "FREQ=WEEKLY;BYDAY=WE"
    bad = client.post(f"/consultations/series/{series.pk}/edit/", series_form(rrule="FREQ=WEEKLY;BYDAY=XX"))
    assert bad.status_code == 400
    series.refresh_from_db()
    assert series.rrule == "FREQ=WEEKLY;BYDAY=WE"


def test_series_edit_is_refused_to_a_reader_who_does_not_organise(jpn_user: Any, kor_user: Any) -> None:
    series = series_of(jpn_user)
    response = client_for(kor_user).get(f"/consultations/series/{series.pk}/edit/")
    assert response.status_code == 403


# --- scheduling assistant ------------------------------------------------------------------------------------------

def test_scheduling_assistant_ranks_slots_with_local_times(jpn_user: Any) -> None:
    response = client_for(jpn_user, "Asia/Tokyo").get("/consultations/schedule/", {
        "nations": ["BEL", "JPN", "NZL"], "duration_minutes": "60", "first_day": "2026-03-02",
        "last_day": "2026-03-13"})
    body = response.content.decode()
    assert response.status_code == 200
    slots = body.split('data-testid="slots"')[1]
    assert slots.count('data-testid="slot"') == 20
    first = slots.split('data-testid="slot"')[1]
    assert "Brussels" in first and "Tokyo" in first and "Wellington" in first
    assert "/ 3" in first
    assert "Slots in Asia/Tokyo" in body
    assert "/consultations/meetings/new/?start=" in body
    # Three capitals 8 to 12 hours apart: nobody finds an hour inside everyone's day, and the page says why.
    assert "before 08:00" in slots or "after 18:00" in slots or "spans midnight" in slots


def test_scheduling_assistant_rejects_a_bad_range(jpn_user: Any) -> None:
    client = client_for(jpn_user)
    response = client.get("/consultations/schedule/", {
        "nations": ["BEL"], "duration_minutes": "60", "first_day": "2026-03-13", "last_day": "2026-03-02"})
    assert response.status_code == 400
    assert "The last day must not be before the first day." in response.content.decode()
    response = client.get("/consultations/schedule/", {
        "nations": ["BEL"], "duration_minutes": "60", "first_day": "2026-01-01", "last_day": "2026-12-31"})
    assert response.status_code == 400
    assert "limited to 93 days" in response.content.decode()
    response = client.get("/consultations/schedule/", {"nations": ["XXX"], "duration_minutes": "60",
                                                       "first_day": "2026-03-02", "last_day": "2026-03-03"})
    assert response.status_code == 400


def test_scheduling_assistant_starts_from_the_series(jpn_user: Any) -> None:
    series = series_of(jpn_user)
    body = client_for(jpn_user).get(f"/consultations/schedule/?series={series.pk}").content.decode()
    for code in ("BEL", "JPN", "KOR"):
        assert re.search(rf'value="{code}"[^>]*checked', body)
    assert not re.search(r'value="NZL"[^>]*checked', body)
    assert 'value="90"' in body


# --- my actions ----------------------------------------------------------------------------------------------------

def _actions(jpn_user: Any) -> dict[str, ActionItem]:
    m = meeting(jpn_user, "Cyber round", datetime(2026, 6, 10, 8, 0, tzinfo=UTC))
    today = timezone.now().date()
    ip4 = make_label(releasable_to=["IP4"])
    made = {
        "late": do_create_action(jpn_user, "Late report", ip4, meeting=m, owner_user=jpn_user,
                                 due=today - timedelta(days=5)),
        "soon": do_create_action(jpn_user, "Upcoming paper", ip4, meeting=m, owner_user=jpn_user,
                                 due=today + timedelta(days=5)),
        "done": do_create_action(jpn_user, "Finished memo", ip4, meeting=m, owner_user=jpn_user,
                                 due=today - timedelta(days=9)),
    }
    ActionItem.objects.filter(pk=made["done"].pk).update(status=ActionStatus.DONE)
    return made


def test_my_actions_tabs_and_overdue_flag(jpn_user: Any) -> None:
    _actions(jpn_user)
    client = client_for(jpn_user)
    body = client.get("/consultations/actions/").content.decode()
    assert "Late report" in body and "Upcoming paper" in body and "Finished memo" not in body
    late_row = body.split("Late report")[1].split("</tr>")[0]
    assert body.count('data-testid="overdue"') == 1
    assert "action--overdue" in body.split("Late report")[0].rsplit("<tr", 1)[1]
    assert 'data-testid="set-done"' in late_row
    overdue = client.get("/consultations/actions/?tab=overdue").content.decode()
    assert "Late report" in overdue and "Upcoming paper" not in overdue
    done = client.get("/consultations/actions/?tab=done").content.decode()
    assert "Finished memo" in done and "Late report" not in done
    assert "Finished memo" in client.get("/consultations/actions/?state=done").content.decode()  # the API's name
    everything = client.get("/consultations/actions/?tab=all").content.decode()
    assert all(t in everything for t in ("Late report", "Upcoming paper", "Finished memo"))
    assert audit_page(everything).violations == []


def test_owner_changes_status_and_others_cannot(jpn_user: Any, kor_user: Any, make_user: Any) -> None:
    made = _actions(jpn_user)
    client = client_for(jpn_user)
    response = client.post(f"/consultations/actions/{made['late'].pk}/status/", {"status": "done", "tab": "overdue"})
    assert response.status_code == 302 and response["Location"] == "/consultations/actions/?tab=overdue"
    made["late"].refresh_from_db()
    assert made["late"].status == ActionStatus.DONE
    assert "is now Done" in client.get(response["Location"]).content.decode()
    # Someone who may see the action but neither owns nor organises it: refused with a message, nothing changed.
    outsider = client_for(make_user("ken", "JPN", "JPN-NISC"))
    response = outsider.post(f"/consultations/actions/{made['soon'].pk}/status/", {"status": "dropped"}, follow=True)
    assert "only the owner or the organisers" in response.content.decode()
    made["soon"].refresh_from_db()
    assert made["soon"].status == ActionStatus.OPEN
    bad = client.post(f"/consultations/actions/{made['soon'].pk}/status/", {"status": "finished"}, follow=True)
    assert "Unknown status" in bad.content.decode()


def test_status_change_of_an_invisible_action_is_a_404(jpn_user: Any, kor_user: Any) -> None:
    m = meeting(kor_user, "Korea only", datetime(2026, 6, 10, 1, 0, tzinfo=UTC), releasable_to=["KOR"])
    hidden = do_create_action(kor_user, "Secret task", make_label(releasable_to=["KOR"]), meeting=m,
                              owner_user=kor_user)
    response = client_for(jpn_user).post(f"/consultations/actions/{hidden.pk}/status/", {"status": "done"})
    assert response.status_code == 404
    assert "Secret task" not in client_for(jpn_user).get("/consultations/actions/?tab=all").content.decode()


def test_navigation_counts_unread_consultation_notifications(jpn_user: Any, kor_user: Any) -> None:
    client = client_for(jpn_user)
    assert 'data-testid="inbox-unread"' not in client.get("/consultations/").content.decode()
    start = datetime(2026, 6, 10, 1, 0, tzinfo=UTC)
    do_create_meeting(kor_user, MeetingInput(
        title="Invitation", label=make_label(releasable_to=["IP4"]), start=start, end=start + timedelta(hours=1),
        time_zone="Asia/Seoul", link=LINK, attendees=[jpn_user]))
    body = client.get("/consultations/").content.decode()
    assert re.search(r'href="/inbox/" data-testid="nav-inbox">Inbox <span[^>]*data-testid="inbox-unread">1 new<', body)


def test_pages_render_in_japanese(jpn_user: Any) -> None:
    from django.conf import settings

    series = series_of(jpn_user)
    m = meeting(jpn_user, "Cyber round", datetime(2026, 6, 10, 8, 0, tzinfo=UTC), series=series)
    do_create_action(jpn_user, "Share indicators", make_label(releasable_to=["IP4"]), meeting=m, owner_user=jpn_user,
                     due=date(2026, 6, 1))
    client = client_for(jpn_user, "Asia/Tokyo")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    for url in ("/consultations/?date=2026-06-10", "/consultations/?view=week&date=2026-06-10",
                "/consultations/?view=list&date=2026-06-01", "/consultations/series/",
                f"/consultations/series/{series.pk}/", "/consultations/series/new/",
                f"/consultations/schedule/?series={series.pk}", "/consultations/actions/?tab=all"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert '<html lang="ja">' in response.content.decode()


def test_an_action_of_a_hidden_meeting_does_not_name_the_meeting(jpn_user: Any, kor_user: Any) -> None:
    hidden = meeting(kor_user, "Korea only round", datetime(2026, 6, 10, 1, 0, tzinfo=UTC), releasable_to=["KOR"])
    do_create_action(kor_user, "Send the Japanese summary", make_label(releasable_to=["IP4"]), meeting=hidden,
                     owner_user=jpn_user)
    body = client_for(jpn_user).get("/consultations/actions/").content.decode()
    assert "Send the Japanese summary" in body
    assert "Korea only round" not in body and f"/consultations/meetings/{hidden.pk}/" not in body


def test_scheduling_assistant_pages_through_more_slots_and_says_by_how_much(jpn_user: Any) -> None:
    query = {"nations": ["AUS", "BEL", "JPN", "KOR", "NATO", "NZL"], "duration_minutes": "90",
             "first_day": "2026-12-07", "last_day": "2027-01-03"}
    client = client_for(jpn_user, "Europe/Brussels")
    body = client.get("/consultations/schedule/", query).content.decode()
    assert 'data-testid="more-slots"' in body and "page=2" in body
    assert "Page 1 of" in body
    # For whom and by how much, not only why.
    assert re.search(r"<strong>NZL</strong>: after 18:00, by \d+ h( \d+ min)?", body)
    # One row for Brussels though NATO HQ and Belgium's capital are the same place.
    slots = body.split('data-testid="slots"')[1]
    first = slots.split('data-testid="slot"')[1]
    assert first.count("Brussels") == 1
    second = client.get("/consultations/schedule/", {**query, "page": "2"}).content.decode()
    ranks = re.findall(r'<tr data-testid="slot">\s*<td class="num">(\d+)</td>', second)
    assert ranks[:2] == ["21", "22"]
    assert 'rel="prev"' in second


def test_series_page_says_the_second_thursday_of_every_third_month_in_english_and_japanese(jpn_user: Any) -> None:
    from django.conf import settings

    series = do_create_series(jpn_user, SeriesInput(
        title="NATO–Japan strategic dialogue", label=make_label(releasable_to=["JPN"]), time_zone="Asia/Tokyo",
        rrule="FREQ=MONTHLY;INTERVAL=3;BYDAY=TH;BYSETPOS=2", first_date=date(2026, 1, 8), start_time=time(16, 0),
        duration_minutes=120))
    client = client_for(jpn_user)
    english = client.get(f"/consultations/series/{series.pk}/").content.decode()
    assert ('data-testid="cadence">The second Thursday of every third month, at 16:00 (Asia/Tokyo), 120 minutes'
            in english)
    assert "BYSETPOS=2<br>" not in english and "and BYSETPOS" not in english
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    japanese = client.get(f"/consultations/series/{series.pk}/").content.decode()
    assert 'data-testid="cadence">3か月ごとの第2木曜日、16:00（Asia/Tokyo）、120 分' in japanese
    assert "その他の規則" not in japanese


def test_new_series_starts_releasable_to_nato_and_the_partners(jpn_user: Any) -> None:
    body = client_for(jpn_user).get("/consultations/series/new/").content.decode()
    assert re.search(r'name="label_preset" value="nato_ip4"[^>]*checked', body)
