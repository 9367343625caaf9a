"""The meeting page and its forms obey the label rules and the time rules: a meeting the reader may not see is a 404
like a missing one; the banner carries its label; times are shown in the viewer's zone, the home zone and each
participating capital (with the day where it differs); bad input is a form error with nothing written; a draft
agenda is the organisers' until published; RSVP, the .ics download and actions work through the pages."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
import pytest
from django.test import Client

from kizuna.consultations.models import ActionItem, ActionStatus, AgendaItem, Attendee, Meeting, Rsvp
from kizuna.consultations.services import (
    MeetingInput,
    SeriesInput,
    do_add_agenda_item,
    do_create_action,
    do_create_meeting,
    do_create_series,
)
from kizuna.core.models import AuditEntry
from kizuna.reports.services import ReportInput, do_create_report
from tests.conftest import make_label

pytestmark = pytest.mark.django_db

IP4 = ["IP4"]
# Tuesday 2 June 2026, 17:00 in Brussels (CEST, UTC+2) = 15:00 UTC = Wednesday 00:00 in Tokyo, 03:00 in Wellington.
START = datetime(2026, 6, 2, 15, 0, tzinfo=UTC)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _zone(user: Any, zone: str) -> Any:
    user.timezone = zone
    user.save(update_fields=["timezone"])
    return user


def meeting_of(user: Any, releasable_to: list[str] | None = None, attendees: list[Any] | None = None,
               series: Any = None, title: str = "Cyber defence staff talks") -> Meeting:
    return do_create_meeting(user, MeetingInput(
        title=title, label=make_label(releasable_to=releasable_to or IP4), start=START,
        end=START + timedelta(hours=2), time_zone="Europe/Brussels", link="https://meet.example.org/cyber",
        attendees=attendees or [], series=series))


def form_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "NATO–Japan space dialogue",
        "series": "",
        "time_zone": "Europe/Brussels",
        "start": "2026-06-02T17:00",
        "end": "2026-06-02T19:00",
        "mode": "virtual",
        "place": "",
        "link": "https://meet.example.org/space",
        "label_policy": "NATO",
        "label_preset": "custom",
        "label_classification": "UNCLASSIFIED",
        "label_releasable_to": ["JPN"],
        "label_tlp": "AMBER",
        "label_recipients": "",
    }
    data.update(overrides)
    return data


def label_data(releasable_to: list[str]) -> dict[str, Any]:
    return {"label_policy": "NATO", "label_preset": "custom", "label_classification": "UNCLASSIFIED",
            "label_releasable_to": releasable_to, "label_tlp": "AMBER", "label_recipients": ""}


# --- reading -------------------------------------------------------------------------------------------------------

def test_meeting_page_is_404_for_a_reader_who_may_not_see_it_like_a_missing_one(jpn_user: Any,
                                                                                  kor_user: Any) -> None:
    meeting = meeting_of(jpn_user, releasable_to=["JPN"])
    korea = client_for(kor_user)
    base = f"/consultations/meetings/{meeting.pk}"
    for url in (f"{base}/", f"{base}.ics", f"{base}/edit/", f"{base}/agenda/new/", f"{base}/actions/new/"):
        response = korea.get(url)
        assert response.status_code == 404, url
        assert "Cyber defence" not in response.content.decode()
    assert korea.post(f"{base}/rsvp/", {"answer": "accepted"}).status_code == 404
    assert korea.get(f"/consultations/meetings/{meeting.pk + 1000}/").status_code == 404
    assert client_for(jpn_user).get(f"{base}/").status_code == 200


def test_meeting_page_banner_and_chip_show_the_meeting_label_and_the_read_is_audited(jpn_user: Any) -> None:
    meeting = meeting_of(jpn_user, releasable_to=["JPN"])
    response = client_for(jpn_user).get(f"/consultations/meetings/{meeting.pk}/")
    body = response.content.decode()
    assert response.status_code == 200
    banner = re.search(r'data-testid="banner-top">([^<]*)<', body)
    assert banner is not None and banner.group(1) == "NATO UNCLASSIFIED REL TO JPN // TLP:AMBER"
    assert 'data-testid="label-chip">NATO UNCLASSIFIED REL TO JPN // TLP:AMBER<' in body
    assert AuditEntry.objects.filter(action="read", target_type="meeting", target_ids=str(meeting.pk)).exists()


def test_local_time_table_lists_the_series_capitals_and_the_day_where_it_differs(jpn_user: Any) -> None:
    series = do_create_series(jpn_user, SeriesInput(
        title="NATO–IP4 cyber defence consultations", label=make_label(releasable_to=IP4),
        time_zone="Europe/Brussels", nations=["BEL", "JPN", "NZL", "KOR"]))
    meeting = meeting_of(jpn_user, series=series)
    _zone(jpn_user, "Asia/Tokyo")
    body = client_for(jpn_user).get(f"/consultations/meetings/{meeting.pk}/").content.decode()
    table = body[body.index('data-testid="local-times"'):]
    table = table[:table.index("</table>")]
    rows = {m.group(1): m.group(2) for m in re.finditer(r'data-nation="(\w+)">(.*?)</tr>', table, re.S)}
    assert set(rows) == {"BEL", "JPN", "NZL", "KOR"}
    assert "Brussels" in rows["BEL"] and "17:00 – 19:00" in rows["BEL"] and "same day" in rows["BEL"]
    assert "Tokyo" in rows["JPN"] and "00:00 – 02:00" in rows["JPN"] and "Wed 3 Jun" in rows["JPN"]
    assert "Wellington" in rows["NZL"] and "03:00 – 05:00" in rows["NZL"] and "Wed 3 Jun" in rows["NZL"]
    assert "UTC+12:00" in rows["NZL"] and "UTC+02:00" in rows["BEL"]
    # The viewer reads it in their own zone (Tokyo), and the home zone beside it.
    assert re.search(r'data-testid="viewer-time">.*?Wed 3 Jun 2026, 00:00 – 02:00.*?Asia/Tokyo', body, re.S)
    assert re.search(r'data-testid="home-time">.*?Tue 2 Jun 2026, 17:00 – 19:00.*?Europe/Brussels', body, re.S)
    assert "NATO–IP4 cyber defence consultations" in body


def test_brussels_is_one_row_for_nato_hq_and_belgium_and_the_organisers_capital_is_listed(jpn_user: Any,
                                                                                            kor_user: Any) -> None:
    # The organiser (Japan) chose a series of NATO HQ, Belgium and Korea and invited only a Korean colleague.
    series = do_create_series(jpn_user, SeriesInput(
        title="NATO–Korea cyber talks", label=make_label(releasable_to=[*IP4, "NATO"]),
        time_zone="Europe/Brussels", nations=["NATO", "BEL", "KOR"]))
    meeting = meeting_of(jpn_user, series=series, attendees=[kor_user])
    body = client_for(kor_user).get(f"/consultations/meetings/{meeting.pk}/").content.decode()
    table = body[body.index('data-testid="local-times"'):]
    table = table[:table.index("</table>")]
    assert table.count("Brussels") == 1
    row = re.search(r'data-nations="([A-Z ]+)" data-nation="\w+">\s*<th scope="row">Brussels</th>\s*<td>([^<]*)</td>',
                    table)
    assert row is not None and set(row.group(1).split()) == {"NATO", "BEL"}
    assert set(row.group(2).split(", ")) == {"NATO", "BEL"}
    assert 'data-nation="KOR"' in table and "Seoul" in table
    assert 'data-nation="JPN"' in table and "Tokyo" in table  # the organiser's capital, though not an attendee


def test_without_a_series_the_table_lists_the_attendees_nations(jpn_user: Any, kor_user: Any) -> None:
    meeting = meeting_of(jpn_user, attendees=[jpn_user, kor_user])
    body = client_for(kor_user).get(f"/consultations/meetings/{meeting.pk}/").content.decode()
    assert 'data-nation="JPN"' in body and 'data-nation="KOR"' in body
    assert "Seoul" in body and "Tokyo" in body


def test_a_series_the_reader_may_not_see_is_not_named_on_the_meeting_page(jpn_user: Any, kor_user: Any) -> None:
    series = do_create_series(jpn_user, SeriesInput(
        title="Japan-only planning track", label=make_label(releasable_to=["JPN"]), time_zone="Asia/Tokyo",
        nations=["JPN", "NZL"]))
    meeting = meeting_of(jpn_user, series=series, attendees=[kor_user])
    body = client_for(kor_user).get(f"/consultations/meetings/{meeting.pk}/").content.decode()
    assert "Japan-only planning track" not in body
    assert 'data-nation="KOR"' in body and 'data-nation="NZL"' not in body


# --- create and edit -----------------------------------------------------------------------------------------------

def test_meeting_created_through_the_form_is_stored_in_utc_from_the_home_zone(jpn_user: Any, kor_user: Any,
                                                                              make_user: Any) -> None:
    colleague = make_user("taro", "JPN", "JPN-MOD")
    response = client_for(jpn_user).post("/consultations/meetings/new/",
                                         form_data(attendees=[str(colleague.pk)]))
    assert response.status_code == 302
    meeting = Meeting.objects.get()
    assert response["Location"] == f"/consultations/meetings/{meeting.pk}/"
    assert meeting.start == START and meeting.end == START + timedelta(hours=2)
    assert meeting.time_zone == "Europe/Brussels"
    assert list(meeting.attendees.values_list("user__username", flat=True)) == ["taro"]
    assert meeting.label.display == "NATO UNCLASSIFIED REL TO JPN // TLP:AMBER"


def test_new_meeting_form_is_prefilled_from_the_series_and_start(jpn_user: Any) -> None:
    series = do_create_series(jpn_user, SeriesInput(
        title="NATO–Japan space dialogue", label=make_label(releasable_to=["JPN"]), time_zone="Asia/Tokyo",
        duration_minutes=90))
    _zone(jpn_user, "Europe/Brussels")
    body = client_for(jpn_user).get(
        f"/consultations/meetings/new/?series={series.pk}&start=2026-06-02T01:00:00Z").content.decode()
    assert 'value="NATO–Japan space dialogue"' in body
    assert 'value="2026-06-02T10:00"' in body and 'value="2026-06-02T11:30"' in body  # 01:00 UTC in Tokyo
    assert re.search(r'<option value="Asia/Tokyo" selected>', body)
    assert re.search(rf'<option value="{series.pk}" selected>', body)


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"end": "2026-06-02T16:00"}, "end", "the meeting must end after it starts"),
    ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "unknown time zone"),
    ({"link": "http://insecure.example.org/"}, "link", "https://"),
])
def test_bad_meeting_input_is_a_form_error_and_nothing_is_written(jpn_user: Any, overrides: dict[str, Any],
                                                                 field: str, message: str) -> None:
    response = client_for(jpn_user).post("/consultations/meetings/new/", form_data(**overrides))
    body = response.content.decode()
    assert response.status_code == 400
    errors = re.search(rf'id="id_{field}_error">(.*?)</ul>', body, re.S)
    assert errors is not None and message in errors.group(1)
    assert not Meeting.objects.exists()
    assert not AuditEntry.objects.filter(target_type="meeting").exists()


def test_attendee_who_may_not_see_the_label_is_a_form_error_and_nothing_is_written(jpn_user: Any,
                                                                                    kor_user: Any) -> None:
    response = client_for(jpn_user).post("/consultations/meetings/new/", form_data(attendees=[str(kor_user.pk)]))
    body = response.content.decode()
    assert response.status_code == 400
    errors = re.search(r'id="id_attendees_error">(.*?)</ul>', body, re.S)
    assert errors is not None and "may not see a meeting with this label: minjun" in errors.group(1)
    assert not Meeting.objects.exists() and not Attendee.objects.exists()


def test_edit_changes_the_time_and_cancel_shows_the_banner(jpn_user: Any) -> None:
    meeting = meeting_of(jpn_user)
    client = client_for(jpn_user)
    response = client.post(f"/consultations/meetings/{meeting.pk}/edit/",
                           {**form_data(start="2026-06-02T18:00", end="2026-06-02T19:30"), **label_data(IP4)})
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.start == START + timedelta(hours=1) and meeting.sequence == 1
    response = client.post(f"/consultations/meetings/{meeting.pk}/cancel/", {"reason": "Typhoon over Tokyo"})
    assert response.status_code == 302
    body = client.get(f"/consultations/meetings/{meeting.pk}/").content.decode()
    assert 'data-testid="cancelled-notice"' in body and "Typhoon over Tokyo" in body
    assert client.get(f"/consultations/meetings/{meeting.pk}/edit/").status_code == 302  # no longer changeable


def test_only_organisers_may_open_the_edit_forms(jpn_user: Any, kor_user: Any) -> None:
    meeting = meeting_of(jpn_user, attendees=[kor_user])
    korea = client_for(kor_user)
    for url in ("edit/", "cancel/", "agenda/new/", "minutes/new/", "actions/new/"):
        assert korea.get(f"/consultations/meetings/{meeting.pk}/{url}").status_code == 403, url


# --- agenda, RSVP, .ics, actions -----------------------------------------------------------------------------------

def test_draft_agenda_is_hidden_from_an_attendee_until_published(jpn_user: Any, kor_user: Any) -> None:
    meeting = meeting_of(jpn_user, attendees=[kor_user])
    report = do_create_report(jpn_user, ReportInput(title="Ransomware trends 2026", label=make_label(
        releasable_to=["JPN"])))
    organiser = client_for(jpn_user)
    response = organiser.post(f"/consultations/meetings/{meeting.pk}/agenda/new/", {
        "title": "Threat picture", "presenter": "JPN delegation", "duration_minutes": "30",
        "reports": [str(report.pk)], **label_data(IP4)})
    assert response.status_code == 302
    item = AgendaItem.objects.get()
    assert list(item.reports.all()) == [report]
    url = f"/consultations/meetings/{meeting.pk}/"
    organiser_view = organiser.get(url).content.decode()
    assert "Threat picture" in organiser_view and 'data-testid="agenda-state">Draft<' in organiser_view
    korea = client_for(kor_user)
    attendee_view = korea.get(url).content.decode()
    assert "Threat picture" not in attendee_view and 'data-testid="agenda-unpublished"' in attendee_view
    assert korea.post(f"{url}agenda/publish/").status_code == 302  # refused: not an organiser
    assert "Threat picture" not in korea.get(url).content.decode()

    assert organiser.post(f"{url}agenda/publish/").status_code == 302
    attendee_view = korea.get(url).content.decode()
    assert "Threat picture" in attendee_view and "JPN delegation" in attendee_view
    assert "Ransomware trends 2026" not in attendee_view  # the linked report is Japan-only
    assert "Ransomware trends 2026" in organiser.get(url).content.decode()


def test_agenda_items_move_and_delete(jpn_user: Any) -> None:
    meeting = meeting_of(jpn_user)
    first = do_add_agenda_item(jpn_user, meeting, "Opening", make_label(releasable_to=IP4))
    second = do_add_agenda_item(jpn_user, meeting, "Threat picture", make_label(releasable_to=IP4))
    client = client_for(jpn_user)
    url = f"/consultations/meetings/{meeting.pk}/agenda/"
    assert client.post(f"{url}{second.pk}/move/", {"direction": "up"}).status_code == 302
    assert list(AgendaItem.objects.order_by("order").values_list("title", flat=True)) == ["Threat picture", "Opening"]
    assert client.post(f"{url}{first.pk}/delete/").status_code == 302
    assert list(AgendaItem.objects.values_list("title", "order")) == [("Threat picture", 1)]


def test_review_of_actions_opens_the_next_meetings_agenda(jpn_user: Any, kor_user: Any) -> None:
    series = do_create_series(jpn_user, SeriesInput(
        title="Maritime dialogue", label=make_label(releasable_to=IP4), time_zone="Asia/Tokyo", nations=["JPN"]))
    earlier = meeting_of(jpn_user, series=series)
    do_create_action(jpn_user, "Share the port-visit lessons", make_label(releasable_to=IP4), meeting=earlier,
                     owner_user=kor_user, due=date(2026, 5, 1))
    later = do_create_meeting(jpn_user, MeetingInput(
        title="Maritime dialogue #2", label=make_label(releasable_to=IP4), start=START + timedelta(days=28),
        end=START + timedelta(days=28, hours=1), time_zone="Asia/Tokyo", link="https://meet.example.org/m",
        series=series))
    body = client_for(jpn_user).get(f"/consultations/meetings/{later.pk}/").content.decode()
    review = body[body.index('data-testid="review-of-actions"'):]
    review = review[:review.index("</tr>")]
    assert "Share the port-visit lessons" in review and 'data-testid="overdue"' in review


def test_invited_attendee_answers_the_invitation(jpn_user: Any, kor_user: Any) -> None:
    meeting = meeting_of(jpn_user, attendees=[kor_user])
    korea = client_for(kor_user)
    url = f"/consultations/meetings/{meeting.pk}/"
    assert 'data-testid="rsvp-form"' in korea.get(url).content.decode()
    assert korea.post(f"{url}rsvp/", {"answer": "tentative"}).status_code == 302
    assert Attendee.objects.get(user=kor_user).rsvp == Rsvp.TENTATIVE
    assert 'data-testid="my-rsvp">Tentative<' in korea.get(url).content.decode()
    # The organiser is not invited: no buttons, and an answer is refused without a change.
    organiser = client_for(jpn_user)
    assert 'data-testid="rsvp-form"' not in organiser.get(url).content.decode()
    organiser.post(f"{url}rsvp/", {"answer": "accepted"})
    assert not Attendee.objects.filter(user=jpn_user).exists()


def test_ics_download_parses_and_has_the_meetings_instants(jpn_user: Any) -> None:
    meeting = meeting_of(jpn_user)
    response = client_for(jpn_user).get(f"/consultations/meetings/{meeting.pk}.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert response["Content-Disposition"] == f'attachment; filename="cyber-defence-staff-talks-{meeting.pk}.ics"'
    calendar = icalendar.Calendar.from_ical(response.content)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    event = events[0]
    assert str(event["uid"]) == meeting.uid
    assert event.decoded("dtstart") == START and event.decoded("dtend") == START + timedelta(hours=2)
    assert str(event.decoded("dtstart").tzinfo) == "Europe/Brussels"
    assert AuditEntry.objects.filter(action="download", target_type="meeting").exists()


def test_action_recorded_on_the_page_and_its_owner_moves_the_status(jpn_user: Any, kor_user: Any) -> None:
    meeting = meeting_of(jpn_user, attendees=[kor_user])
    organiser = client_for(jpn_user)
    url = f"/consultations/meetings/{meeting.pk}/"
    refused = organiser.post(f"{url}actions/new/", {
        "title": "Share indicators", "owner": f"user:{kor_user.pk}", "due": "2026-06-30", **label_data(["JPN"])})
    assert refused.status_code == 400
    errors = re.search(r'id="id_owner_error">(.*?)</ul>', refused.content.decode(), re.S)
    assert errors is not None and "minjun" in errors.group(1)
    assert not ActionItem.objects.exists()

    response = organiser.post(f"{url}actions/new/", {
        "title": "Share indicators", "owner": f"user:{kor_user.pk}", "due": "2026-06-30",
        "notes": "Through the **MISP** community.", **label_data(IP4)})
    assert response.status_code == 302
    action = ActionItem.objects.get()
    assert (action.owner_user, action.due, action.status) == (kor_user, date(2026, 6, 30), ActionStatus.OPEN)
    assert action.notes == "Through the **MISP** community."
    korea = client_for(kor_user)
    page = korea.get(url).content.decode()
    assert "Share indicators" in page and "<strong>MISP</strong>" in page
    assert korea.post(f"{url}actions/{action.pk}/status/", {f"a{action.pk}-status": "in_progress"}).status_code == 302
    action.refresh_from_db()
    assert action.status == ActionStatus.IN_PROGRESS
    assert 'data-testid="action-status">In progress<' in korea.get(url).content.decode()


def test_minutes_and_decisions_are_drafts_until_published(jpn_user: Any, kor_user: Any) -> None:
    meeting = meeting_of(jpn_user, attendees=[kor_user])
    item = do_add_agenda_item(jpn_user, meeting, "Threat picture", make_label(releasable_to=IP4))
    organiser = client_for(jpn_user)
    url = f"/consultations/meetings/{meeting.pk}/"
    assert organiser.post(f"{url}agenda/publish/").status_code == 302
    assert organiser.post(f"{url}minutes/new/", {"agenda_item": str(item.pk), "text": "Ransomware **rose**.",
                                                 **label_data(IP4)}).status_code == 302
    assert organiser.post(f"{url}decisions/new/", {"agenda_item": str(item.pk), "text": "Exchange IOCs weekly.",
                                                   **label_data(IP4)}).status_code == 302
    korea = client_for(kor_user)
    assert "Ransomware <strong>rose</strong>" not in korea.get(url).content.decode()
    assert organiser.post(f"{url}minutes/publish/").status_code == 302
    page = korea.get(url).content.decode()
    assert "Ransomware <strong>rose</strong>" in page and "Exchange IOCs weekly." in page
    assert f"/consultations/meetings/{meeting.pk}/minutes/print/" in page


def test_organiser_edits_and_deletes_a_decision_and_a_minutes_part_others_get_403(jpn_user: Any,
                                                                                  kor_user: Any) -> None:
    from kizuna.consultations.models import Decision, MinutesPart
    from kizuna.consultations.services import do_add_minutes, do_record_decision

    meeting = meeting_of(jpn_user, attendees=[kor_user])
    decision = do_record_decision(jpn_user, meeting, "Exchange IOCs weekly.", make_label(releasable_to=IP4))
    part = do_add_minutes(jpn_user, meeting, "The chair opened the session.", make_label(releasable_to=IP4))
    url = f"/consultations/meetings/{meeting.pk}/"
    organiser = client_for(jpn_user)
    assert f"{url}decisions/{decision.pk}/edit/" in organiser.get(url).content.decode()
    assert client_for(kor_user).post(f"{url}decisions/{decision.pk}/edit/", {"delete": "1"}).status_code == 403
    assert Decision.objects.filter(pk=decision.pk).exists()

    empty = organiser.post(f"{url}decisions/{decision.pk}/edit/", {"text": "", **label_data(IP4)})
    assert empty.status_code == 400
    decision.refresh_from_db()
    assert decision.text == "Exchange IOCs weekly."

    assert organiser.post(f"{url}decisions/{decision.pk}/edit/",
                          {"text": "Exchange IOCs daily.", **label_data(IP4)}).status_code == 302
    decision.refresh_from_db()
    assert decision.text == "Exchange IOCs daily."
    assert organiser.post(f"{url}decisions/{decision.pk}/edit/", {"delete": "1"}).status_code == 302
    assert not Decision.objects.filter(pk=decision.pk).exists()
    assert organiser.post(f"{url}minutes/{part.pk}/edit/", {"delete": "1"}).status_code == 302
    assert not MinutesPart.objects.filter(pk=part.pk).exists()
    assert AuditEntry.objects.filter(target_type="decision", target_ids=str(decision.pk)).count() >= 3


# --- the new-meeting form: default label, attendee search and groups, who could not read it (issue 13, point 11) ---

def _check(user: Any, releasable_to: list[str], attendees: list[Any], **extra: Any) -> str:
    query: dict[str, Any] = {"label_policy": "NATO", "label_preset": "custom", "label_classification": "UNCLASSIFIED",
                             "label_releasable_to": releasable_to, "label_tlp": "AMBER", "label_recipients": "",
                             "attendees": [str(a if isinstance(a, int) else a.pk) for a in attendees], **extra}
    response = client_for(user).get("/consultations/meetings/attendee-check/", query)
    assert response.status_code == 200
    return response.content.decode()


def test_new_meeting_starts_releasable_to_nato_and_the_partners_not_the_organisers_nation(jpn_user: Any) -> None:
    body = client_for(jpn_user).get("/consultations/meetings/new/").content.decode()
    assert re.search(r'name="label_preset" value="nato_ip4"[^>]*checked', body)
    assert not re.search(r'name="label_preset" value="own_nation"[^>]*checked', body)


def test_attendee_check_names_the_chosen_attendees_who_could_not_read_the_meeting(jpn_user: Any, kor_user: Any,
                                                                                  make_user: Any) -> None:
    taro = make_user("taro", "JPN", "JPN-MOD")
    body = _check(jpn_user, ["JPN"], [taro, kor_user])
    left_out = body.split('data-testid="attendees-left-out"')[1].split("</div>")[0]
    assert "minjun (KOR, KOR-MND)" in left_out and "taro" not in left_out
    assert 'data-testid="attendees-ok"' not in body
    # Widened to Korea: nobody is shut out by nation; their clearances are not the organiser's to know.
    body = _check(jpn_user, ["JPN", "KOR"], [taro, kor_user])
    assert 'data-testid="attendees-left-out"' not in body
    assert "The label's nations and recipients include all 2 chosen attendees." in body
    # The organiser may know their own clearance: choosing only themself, the check is sure.
    assert "The 1 chosen attendee can read it." in _check(jpn_user, ["JPN"], [jpn_user])


def test_attendee_check_tells_nothing_of_clearances_or_of_people_not_chosen(jpn_user: Any, make_user: Any) -> None:
    # Two Koreans, one cleared and in CYBER, one with neither: to the organiser both read alike.
    cleared = make_user("jiwoo", "KOR", "KOR-MND", clearance="RESTRICTED", communities=["CYBER"])
    bare = make_user("seoyeon", "KOR", "KOR-MND", clearance="", communities=[])
    inactive = make_user("gone", "KOR", "KOR-MND")
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    extra = {"label_communities": ["CYBER"], "label_classification": "RESTRICTED"}
    both = _check(jpn_user, ["KOR", "JPN"], [cleared, bare, inactive, 999_999], **extra)
    assert 'data-testid="attendees-left-out"' not in both
    undisclosed = both.split('data-testid="attendees-undisclosed"')[1]
    assert "jiwoo" in undisclosed and "seoyeon" in undisclosed
    assert "gone" not in both and "999999" not in both
    alone_cleared = _check(jpn_user, ["KOR", "JPN"], [cleared], **extra).replace("jiwoo", "X")
    alone_bare = _check(jpn_user, ["KOR", "JPN"], [bare], **extra).replace("seoyeon", "X")
    assert alone_cleared == alone_bare


def test_the_form_shows_the_check_before_sending_and_again_with_its_errors(jpn_user: Any, kor_user: Any) -> None:
    response = client_for(jpn_user).post("/consultations/meetings/new/", form_data(attendees=[str(kor_user.pk)]))
    assert response.status_code == 400
    body = response.content.decode()
    check = body.split('data-testid="attendee-check"')[1]
    assert "could not read the meeting with this label" in check and "minjun" in check
    assert 'hx-get="/consultations/meetings/attendee-check/"' in body


def test_attendee_picker_offers_search_and_groups_and_a_group_invites_its_people(jpn_user: Any, kor_user: Any,
                                                                                make_user: Any) -> None:
    other = make_user("jiwoo", "KOR", "KOR-MOFA")
    body = client_for(jpn_user).get("/consultations/meetings/new/").content.decode()
    assert 'data-attendee-search' in body
    assert re.search(r'type="checkbox" name="attendees" value="\d+"[^>]*data-nation="KOR" data-org="KOR-MND"', body)
    assert 'value="nation:KOR"' in body and 'value="org:KOR-MND"' in body
    # Without JavaScript a ticked group is expanded by the server.
    response = client_for(jpn_user).post("/consultations/meetings/new/", form_data(
        attendee_groups=["nation:KOR"], label_releasable_to=["JPN", "KOR"]))
    assert response.status_code == 302, response.content.decode()[:2000]
    meeting = Meeting.objects.get()
    assert sorted(meeting.attendees.values_list("user__username", flat=True)) == ["jiwoo", "minjun"]
    assert other.pk in set(meeting.attendees.values_list("user_id", flat=True))


def test_edit_form_checks_the_present_attendees_against_the_meeting_label(jpn_user: Any, kor_user: Any) -> None:
    meeting = meeting_of(jpn_user, releasable_to=["JPN", "KOR"], attendees=[kor_user])
    body = client_for(jpn_user).get(f"/consultations/meetings/{meeting.pk}/edit/").content.decode()
    check = body.split('data-testid="attendee-check"')[1]
    assert "include the 1 chosen attendee" in check and 'data-testid="attendees-left-out"' not in check
    assert re.search(rf'name="attendees" value="{kor_user.pk}"[^>]*checked', body)
