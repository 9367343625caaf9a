"""/api/v1/consultations: series, meetings, agendas, minutes, actions and the scheduling assistant. Bad input answers
400 naming the field with nothing written; what the caller may not see answers the same 404 as what does not exist;
draft agendas reach attendees only once published. Every response is checked against the OpenAPI document by the
``Api`` client."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
import pytest

from kizuna.consultations.models import ActionItem, AgendaItem, Attendee, Meeting, Series
from kizuna.core.models import AuditEntry
from kizuna.reports.services import ReportInput, do_create_report
from tests.api.conftest import label_api, openapi_document
from tests.api.test_visibility_matrix import MATRIX
from tests.conftest import make_label

BASE = "consultations"
IP4 = {"releasable_to": ["IP4"]}
JPN_ONLY = {"releasable_to": ["JPN"]}


def _iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _meeting_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Cyber defence round",
        "label": label_api(**IP4),
        "start": "2026-12-08T09:00:00+01:00",
        "end": "2026-12-08T11:00:00+01:00",
        "time_zone": "Europe/Brussels",
        "link": "https://meet.example.org/cyber",
    }
    body.update(overrides)
    return body


def _series_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "NATO-IP4 Cyber Defence Consultations",
        "label": label_api(**IP4),
        "time_zone": "Europe/Brussels",
        "rrule": "FREQ=WEEKLY;BYDAY=TU",
        "first_date": "2026-03-17",
        "start_time": "09:00",
        "duration_minutes": 90,
        "focus_areas": ["cyber"],
        "nations": ["NATO", "JPN", "NZL"],
    }
    body.update(overrides)
    return body


@pytest.fixture
def organiser(jpn_user: Any, api_for: Any) -> Any:
    return api_for(jpn_user)


@pytest.fixture
def attendee(make_user: Any) -> Any:
    """Same nation as the organiser, another organisation: may see the meeting, may not organise it."""
    return make_user("kenji", "JPN", "JPN-NISC")


def _create_meeting(api: Any, **overrides: Any) -> dict[str, Any]:
    response = api.post(f"{BASE}/meetings", _meeting_body(**overrides))
    assert response.status_code == 201, response.content
    return response.json()  # type: ignore[no-any-return]


# --- bad input: 400 naming the field, nothing written --------------------------------------------------------------

def test_series_with_an_invalid_rrule_is_400_on_rrule_and_writes_nothing(organiser: Any) -> None:
    response = organiser.post(f"{BASE}/series", _series_body(rrule="FREQ=FORTNIGHTLY;BYDAY=TU"))
    assert response.status_code == 400
    assert response.json()["field"] == "rrule"
    response = organiser.post(f"{BASE}/series", _series_body(rrule="every other Tuesday"))
    assert (response.status_code, response.json()["field"]) == (400, "rrule")
    assert not Series.objects.exists()
    assert not AuditEntry.objects.filter(target_type="series").exists()


def test_meeting_ending_before_it_starts_is_400_on_end_and_writes_nothing(organiser: Any) -> None:
    response = organiser.post(f"{BASE}/meetings", _meeting_body(end="2026-12-08T08:00:00+01:00"))
    assert response.status_code == 400
    assert response.json()["field"] == "end"
    assert not Meeting.objects.exists()


def test_unknown_time_zone_is_400_on_time_zone(organiser: Any) -> None:
    meeting = organiser.post(f"{BASE}/meetings", _meeting_body(time_zone="Europe/Atlantis"))
    series = organiser.post(f"{BASE}/series", _series_body(time_zone="CET+1"))
    assert (meeting.status_code, meeting.json()["field"]) == (400, "time_zone")
    assert (series.status_code, series.json()["field"]) == (400, "time_zone")
    assert "Europe/Atlantis" in meeting.json()["message"]
    assert not Meeting.objects.exists() and not Series.objects.exists()


def test_attendee_who_may_not_see_the_label_or_does_not_exist_is_400_on_attendees(
    organiser: Any, kor_user: Any
) -> None:
    refused = organiser.post(f"{BASE}/meetings", _meeting_body(label=label_api(**JPN_ONLY), attendees=["minjun"]))
    assert refused.status_code == 400
    assert refused.json()["field"] == "attendees"
    assert "minjun" in refused.json()["message"]
    unknown = organiser.post(f"{BASE}/meetings", _meeting_body(attendees=["nobody-here"]))
    assert (unknown.status_code, unknown.json()["field"]) == (400, "attendees")
    assert not Meeting.objects.exists() and not Attendee.objects.exists()


def test_attendee_refusal_is_no_clearance_or_community_oracle(organiser: Any, make_user: Any) -> None:
    """Issue 10 #8: a contributor learns from the answer only what the directory shares (kizuna/directory/disclosure.py):
    a colleague without the clearance or the community is invited exactly like one who holds them."""
    make_user("taro", "JPN", "JPN-MOD", clearance="UNCLASSIFIED")
    make_user("kenji", "JPN", "JPN-NISC", communities=["MARITIME"])
    make_user("yuki", "JPN", "JPN-NISC")
    label = label_api(releasable_to=["JPN"], classification="RESTRICTED", communities=["CYBER"])
    answers = [organiser.post(f"{BASE}/meetings", _meeting_body(label=label, attendees=[name]))
               for name in ("taro", "kenji", "yuki")]
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert [[x["username"] for x in a.json()["attendees"]] for a in answers] == [["taro"], ["kenji"], ["yuki"]]


def test_patch_refuses_null_and_a_relabel_that_would_exclude_an_attendee(organiser: Any, kor_user: Any) -> None:
    meeting = _create_meeting(organiser, attendees=["minjun"])
    response = organiser.patch(f"{BASE}/meetings/{meeting['id']}", {"title": None})
    assert (response.status_code, response.json()["field"]) == (400, "title")
    response = organiser.patch(f"{BASE}/meetings/{meeting['id']}", {"label": label_api(**JPN_ONLY)})
    assert (response.status_code, response.json()["field"]) == (400, "attendees")
    stored = Meeting.objects.get(pk=meeting["id"])
    assert (stored.title, stored.sequence) == ("Cyber defence round", 0)


# --- series ---------------------------------------------------------------------------------------------------------

def test_series_create_read_list_patch_and_occurrences_across_a_clock_change(
    organiser: Any, kor_user: Any, make_user: Any, api_for: Any
) -> None:
    created = organiser.post(f"{BASE}/series", _series_body())
    assert created.status_code == 201, created.content
    data = created.json()
    assert (data["rrule"], data["start_time"], data["nations"]) == ("FREQ=WEEKLY;BYDAY=TU", "09:00:00",
                                                                    ["JPN", "NATO", "NZL"])
    assert data["label_display"].startswith("NATO UNCLASSIFIED REL TO IP4")
    korea = api_for(kor_user)
    assert [s["id"] for s in korea.get(f"{BASE}/series").json()["items"]] == [data["id"]]
    outsider = api_for(make_user("sam", "USA", "USA-DOD"))
    assert outsider.get(f"{BASE}/series").json() == {"items": [], "next_cursor": None}
    assert outsider.get(f"{BASE}/series/{data['id']}").status_code == 404

    patched = organiser.patch(f"{BASE}/series/{data['id']}", {"title": "Cyber Defence Consultations"})
    assert patched.status_code == 200 and patched.json()["title"] == "Cyber Defence Consultations"
    assert korea.patch(f"{BASE}/series/{data['id']}", {"title": "taken"}).status_code == 400

    # 09:00 in Brussels is 08:00 UTC before Europe's change on 29 March 2026, 07:00 UTC after it.
    occ = organiser.get(f"{BASE}/series/{data['id']}/occurrences?start=2026-03-20T00:00:00Z&end=2026-04-05T00:00:00Z")
    assert occ.status_code == 200
    assert [(_iso(o["start"]), _iso(o["end"])) for o in occ.json()] == [
        (datetime(2026, 3, 24, 8, 0, tzinfo=UTC), datetime(2026, 3, 24, 9, 30, tzinfo=UTC)),
        (datetime(2026, 3, 31, 7, 0, tzinfo=UTC), datetime(2026, 3, 31, 8, 30, tzinfo=UTC)),
    ]
    bad = organiser.get(f"{BASE}/series/{data['id']}/occurrences?start=2026-04-05T00:00:00Z&end=2026-03-20T00:00:00Z")
    assert (bad.status_code, bad.json()["field"]) == (400, "end")


def test_series_list_pages_by_cursor_without_a_count(organiser: Any) -> None:
    ids = [organiser.post(f"{BASE}/series", _series_body(title=f"S{i}")).json()["id"] for i in range(3)]
    first = organiser.get(f"{BASE}/series?limit=2").json()
    assert set(first) == {"items", "next_cursor"}
    second = organiser.get(f"{BASE}/series?limit=2&cursor={first['next_cursor']}").json()
    assert [s["id"] for s in first["items"] + second["items"]] == ids[::-1]
    assert second["next_cursor"] is None
    assert organiser.get(f"{BASE}/series?cursor=%%%").json()["field"] == "cursor"


# --- meetings -------------------------------------------------------------------------------------------------------

def test_naive_times_are_wall_clock_in_the_home_zone_and_offsets_are_instants(organiser: Any) -> None:
    naive = _create_meeting(organiser, start="2026-12-08T09:00:00", end="2026-12-08T10:00:00", time_zone="Asia/Tokyo")
    assert _iso(naive["start"]) == datetime(2026, 12, 8, 0, 0, tzinfo=UTC)
    aware = _create_meeting(organiser, start="2026-12-08T09:00:00+01:00", end="2026-12-08T10:00:00+01:00",
                            time_zone="Asia/Tokyo")
    assert _iso(aware["start"]) == datetime(2026, 12, 8, 8, 0, tzinfo=UTC)


def test_meeting_detail_has_attendees_rsvp_and_local_times_of_the_nations(
    organiser: Any, attendee: Any, api_for: Any
) -> None:
    series = organiser.post(f"{BASE}/series", _series_body()).json()
    # 14:00 in Brussels on 8 December is 22:00 in Tokyo and 02:00 on the 9th in Wellington (NZDT).
    meeting = _create_meeting(organiser, series=series["id"], attendees=["kenji"],
                              start="2026-12-08T14:00:00", end="2026-12-08T15:30:00")
    response = organiser.get(f"{BASE}/meetings/{meeting['id']}", REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 200
    data = response.json()
    assert data["series"] == {"id": series["id"], "title": series["title"]}
    assert data["attendees"] == [{"username": "kenji", "rsvp": "pending"}]
    assert data["agenda_published_at"] is None and data["minutes_published_at"] is None
    assert data["may_organise"] is True
    rows = {r["nation"]: r for r in data["local_times"]}
    assert list(rows) == ["JPN", "NATO", "NZL"]
    assert (rows["JPN"]["start"][11:16], rows["JPN"]["utc_offset"], rows["JPN"]["day_differs"]) == (
        "22:00", "+09:00", False)
    assert (rows["NZL"]["start"][11:16], rows["NZL"]["utc_offset"], rows["NZL"]["day"]) == ("02:00", "+13:00",
                                                                                            "Wed 9 Dec")
    entry = AuditEntry.objects.filter(action="read", target_type="meeting").latest("id")
    assert (entry.actor, entry.target_ids, entry.address) == ("hanako", str(meeting["id"]), "198.51.100.4")

    answer = api_for(attendee).post(f"{BASE}/meetings/{meeting['id']}/rsvp", {"answer": "accepted"})
    assert answer.status_code == 200
    assert answer.json() == {"username": "kenji", "rsvp": "accepted"}
    assert organiser.get(f"{BASE}/meetings/{meeting['id']}").json()["attendees"][0]["rsvp"] == "accepted"


def test_meeting_list_is_a_time_range_filtered_by_series(organiser: Any) -> None:
    series = organiser.post(f"{BASE}/series", _series_body()).json()
    inside = _create_meeting(organiser, series=series["id"])
    other = _create_meeting(organiser, title="Other", start="2026-12-09T09:00:00+01:00",
                            end="2026-12-09T10:00:00+01:00")
    _create_meeting(organiser, title="Next year", start="2027-02-01T09:00:00+01:00", end="2027-02-01T10:00:00+01:00")
    window = "start=2026-12-01T00:00:00Z&end=2027-01-01T00:00:00Z"
    items = organiser.get(f"{BASE}/meetings?{window}").json()["items"]
    assert [m["id"] for m in items] == [inside["id"], other["id"]]
    items = organiser.get(f"{BASE}/meetings?{window}&series={series['id']}").json()["items"]
    assert [m["id"] for m in items] == [inside["id"]]
    bad = organiser.get(f"{BASE}/meetings?start=2026-12-01T00:00:00Z&end=2029-01-01T00:00:00Z")
    assert (bad.status_code, bad.json()["field"]) == (400, "end")


def test_update_raises_sequence_and_cancel_keeps_the_meeting(organiser: Any) -> None:
    meeting = _create_meeting(organiser)
    changed = organiser.patch(f"{BASE}/meetings/{meeting['id']}", {"title": "Cyber round 2"}).json()
    assert (changed["title"], changed["sequence"], changed["uid"]) == ("Cyber round 2", 1, meeting["uid"])
    cancelled = organiser.post(f"{BASE}/meetings/{meeting['id']}/cancel", {"reason": "typhoon"})
    assert cancelled.status_code == 200
    assert (cancelled.json()["status"], cancelled.json()["sequence"]) == ("cancelled", 2)


def test_ics_parses_with_icalendar_and_keeps_the_instants(organiser: Any) -> None:
    meeting = _create_meeting(organiser, start="2026-12-08T09:00:00", end="2026-12-08T11:00:00",
                              time_zone="Pacific/Auckland")
    response = organiser.get(f"{BASE}/meetings/{meeting['id']}.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "attachment" in response["Content-Disposition"]
    calendar = icalendar.Calendar.from_ical(response.content)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert str(event["UID"]) == meeting["uid"]
    assert event.decoded("DTSTART") == _iso(meeting["start"]) == datetime(2026, 12, 7, 20, 0, tzinfo=UTC)
    assert event.decoded("DTEND") == _iso(meeting["end"])
    assert AuditEntry.objects.filter(action="download", target_type="meeting", target_ids=str(meeting["id"])).exists()


# --- 404 like missing -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"title": "taken over"}),
        ("GET", ".ics", None),
        ("GET", "/agenda", None),
        ("GET", "/minutes", None),
        ("POST", "/agenda/items", {"title": "x", "label": label_api(**IP4)}),
        ("POST", "/agenda/publish", None),
        ("POST", "/minutes/parts", {"text": "x", "label": label_api(**IP4)}),
        ("POST", "/decisions", {"text": "x", "label": label_api(**IP4)}),
        ("POST", "/cancel", {}),
        ("POST", "/rsvp", {"answer": "accepted"}),
    ],
)
def test_a_korean_token_gets_404_on_everything_of_a_japan_only_meeting(
    method: str, suffix: str, body: Any, organiser: Any, kor_user: Any, api_for: Any
) -> None:
    meeting = _create_meeting(organiser, label=label_api(**JPN_ONLY))
    korea = api_for(kor_user)
    response = korea.call(method, f"{BASE}/meetings/{meeting['id']}{suffix}", body)
    missing = korea.call(method, f"{BASE}/meetings/{meeting['id'] + 10_000}{suffix}", body)
    assert response.status_code == 404
    assert response.content == missing.content == b'{"message": "not found"}'
    stored = Meeting.objects.get(pk=meeting["id"])
    assert (stored.title, stored.status, stored.sequence) == ("Cyber defence round", "scheduled", 0)
    assert not AgendaItem.objects.exists()


def test_a_japan_only_meeting_is_absent_from_a_korean_list_and_its_parts_are_404(
    organiser: Any, kor_user: Any, api_for: Any
) -> None:
    hidden = _create_meeting(organiser, label=label_api(**JPN_ONLY))
    shared = _create_meeting(organiser, title="Shared")
    item = organiser.post(f"{BASE}/meetings/{hidden['id']}/agenda/items",
                          {"title": "Opening", "label": label_api(**IP4)}).json()
    korea = api_for(kor_user)
    items = korea.get(f"{BASE}/meetings?start=2026-12-01T00:00:00Z&end=2027-01-01T00:00:00Z").json()["items"]
    assert [m["id"] for m in items] == [shared["id"]]
    # The item's own label would let Korea read it; the meeting's does not, so it does not exist for Korea.
    assert korea.patch(f"{BASE}/agenda-items/{item['id']}", {"title": "x"}).json() == {"message": "not found"}
    assert korea.delete(f"{BASE}/agenda-items/{item['id']}").status_code == 404
    assert AgendaItem.objects.get(pk=item["id"]).title == "Opening"


# --- agenda and minutes ---------------------------------------------------------------------------------------------

def test_draft_agenda_is_invisible_to_an_attendee_until_published(
    organiser: Any, attendee: Any, api_for: Any
) -> None:
    meeting = _create_meeting(organiser, attendees=["kenji"])
    created = organiser.post(f"{BASE}/meetings/{meeting['id']}/agenda/items",
                             {"title": "Threat picture", "label": label_api(**IP4), "presenter": "JPN",
                              "duration_minutes": 20})
    assert created.status_code == 201, created.content
    reader = api_for(attendee)
    draft = reader.get(f"{BASE}/meetings/{meeting['id']}/agenda")
    assert draft.status_code == 200
    assert (draft.json()["published"], draft.json()["items"], draft.json()["review_of_actions"]) == (False, [], [])
    assert reader.patch(f"{BASE}/agenda-items/{created.json()['id']}", {"title": "x"}).status_code == 404
    assert [i["title"] for i in organiser.get(f"{BASE}/meetings/{meeting['id']}/agenda").json()["items"]] == [
        "Threat picture"]

    assert reader.post(f"{BASE}/meetings/{meeting['id']}/agenda/publish").status_code == 400
    published = organiser.post(f"{BASE}/meetings/{meeting['id']}/agenda/publish")
    assert published.status_code == 200 and published.json()["published"] is True
    seen = reader.get(f"{BASE}/meetings/{meeting['id']}/agenda").json()
    assert [(i["title"], i["presenter"], i["duration_minutes"]) for i in seen["items"]] == [("Threat picture", "JPN", 20)]
    assert reader.get(f"{BASE}/meetings/{meeting['id']}").json()["agenda_published_at"] is not None


def test_draft_minutes_and_decisions_reach_attendees_once_published(
    organiser: Any, attendee: Any, api_for: Any
) -> None:
    meeting = _create_meeting(organiser, attendees=["kenji"])
    part = organiser.post(f"{BASE}/meetings/{meeting['id']}/minutes/parts",
                          {"text": "**Agreed** to share indicators.", "label": label_api(**IP4)})
    assert part.status_code == 201, part.content
    assert "<strong>Agreed</strong>" in part.json()["text_html"]
    decision = organiser.post(f"{BASE}/meetings/{meeting['id']}/decisions",
                              {"text": "Next round in Canberra", "label": label_api(**IP4)})
    assert decision.status_code == 201, decision.content
    reader = api_for(attendee)
    assert reader.get(f"{BASE}/meetings/{meeting['id']}/minutes").json()["parts"] == []
    assert reader.patch(f"{BASE}/decisions/{decision.json()['id']}", {"text": "x"}).status_code == 404
    assert organiser.post(f"{BASE}/meetings/{meeting['id']}/minutes/publish").status_code == 200
    minutes = reader.get(f"{BASE}/meetings/{meeting['id']}/minutes").json()
    assert [p["id"] for p in minutes["parts"]] == [part.json()["id"]]
    assert [d["text"] for d in minutes["decisions"]] == ["Next round in Canberra"]


# --- actions --------------------------------------------------------------------------------------------------------

def test_action_owner_moves_the_status_and_an_outsider_cannot(
    organiser: Any, kor_user: Any, make_user: Any, api_for: Any
) -> None:
    meeting = _create_meeting(organiser)
    created = organiser.post(f"{BASE}/actions", {"title": "Share IOCs", "label": label_api(**IP4),
                                                 "meeting": meeting["id"], "owner_user": "minjun",
                                                 "due": "2027-01-15"})
    assert created.status_code == 201, created.content
    action = created.json()
    assert (action["owner_user"], action["status"], action["overdue"]) == ("minjun", "open", False)
    assert action["meeting"] == {"id": meeting["id"], "title": "Cyber defence round"}

    owner = api_for(kor_user)
    moved = owner.patch(f"{BASE}/actions/{action['id']}", {"status": "in_progress"})
    assert moved.status_code == 200, moved.content
    assert moved.json()["status"] == "in_progress"
    outsider = api_for(make_user("ken", "JPN", "JPN-NISC"))
    refused = outsider.patch(f"{BASE}/actions/{action['id']}", {"status": "done"})
    assert refused.status_code == 400
    bad = owner.patch(f"{BASE}/actions/{action['id']}", {"status": "finished"})
    assert (bad.status_code, bad.json()["field"]) == (400, "status")
    assert ActionItem.objects.get(pk=action["id"]).status == "in_progress"


def test_action_create_refuses_unknown_owner_and_invisible_meeting(organiser: Any, kor_user: Any, api_for: Any) -> None:
    meeting = _create_meeting(organiser)
    hidden = _create_meeting(api_for(kor_user), label=label_api(releasable_to=["KOR"]))
    unknown = organiser.post(f"{BASE}/actions", {"title": "x", "label": label_api(**IP4), "meeting": meeting["id"],
                                                 "owner_user": "nobody-here"})
    assert (unknown.status_code, unknown.json()["field"]) == (400, "owner_user")
    org = organiser.post(f"{BASE}/actions", {"title": "x", "label": label_api(**IP4), "meeting": meeting["id"],
                                             "owner_organisation": "XXX-NONE"})
    assert (org.status_code, org.json()["field"]) == (400, "owner_organisation")
    invisible = organiser.post(f"{BASE}/actions", {"title": "x", "label": label_api(**IP4), "meeting": hidden["id"],
                                                   "owner_organisation": "JPN-MOD"})
    assert (invisible.status_code, invisible.json()["field"]) == (400, "meeting")
    assert not ActionItem.objects.exists()


def test_my_actions_lists_overdue_ones_flagged(organiser: Any, kor_user: Any, api_for: Any) -> None:
    meeting = _create_meeting(organiser)
    today = date.today()
    late = organiser.post(f"{BASE}/actions", {"title": "Late", "label": label_api(**IP4), "meeting": meeting["id"],
                                              "owner_user": "minjun",
                                              "due": (today - timedelta(days=3)).isoformat()}).json()
    later = organiser.post(f"{BASE}/actions", {"title": "Later", "label": label_api(**IP4), "meeting": meeting["id"],
                                               "owner_organisation": "KOR-MND",
                                               "due": (today + timedelta(days=10)).isoformat()}).json()
    organiser.post(f"{BASE}/actions", {"title": "Not Korea's", "label": label_api(**IP4), "meeting": meeting["id"],
                                       "owner_organisation": "JPN-MOD"})
    korea = api_for(kor_user)
    overdue = korea.get(f"{BASE}/actions?state=overdue")
    assert overdue.status_code == 200
    assert [(a["id"], a["overdue"]) for a in overdue.json()["items"]] == [(late["id"], True)]
    open_ = korea.get(f"{BASE}/actions").json()["items"]
    assert [(a["id"], a["overdue"]) for a in open_] == [(late["id"], True), (later["id"], False)]
    assert korea.get(f"{BASE}/actions/{late['id']}").json()["overdue"] is True
    bad = korea.get(f"{BASE}/actions?state=late")
    assert (bad.status_code, bad.json()["field"]) == (400, "state")


def test_series_actions_lists_its_open_actions(organiser: Any) -> None:
    series = organiser.post(f"{BASE}/series", _series_body()).json()
    meeting = _create_meeting(organiser, series=series["id"])
    first = organiser.post(f"{BASE}/actions", {"title": "Open one", "label": label_api(**IP4),
                                               "meeting": meeting["id"], "owner_organisation": "JPN-MOD"}).json()
    assert first["series"] == {"id": series["id"], "title": series["title"]}
    done = organiser.post(f"{BASE}/actions", {"title": "Done one", "label": label_api(**IP4),
                                              "series": series["id"], "owner_organisation": "JPN-MOD"}).json()
    assert organiser.patch(f"{BASE}/actions/{done['id']}", {"status": "done"}).status_code == 200
    listed = organiser.get(f"{BASE}/series/{series['id']}/actions").json()
    assert [a["id"] for a in listed] == [first["id"]]


# --- scheduling -----------------------------------------------------------------------------------------------------

def test_schedule_ranks_slots_and_says_who_is_outside(organiser: Any) -> None:
    # Monday 7 December 2026: Brussels works 07:00-17:00 UTC, Tokyo 23:00 (Sunday)-09:00 UTC; both from 07:00.
    body = {"nations": ["BEL", "JPN"], "duration_minutes": 60, "first_day": "2026-12-07", "last_day": "2026-12-07"}
    response = organiser.post(f"{BASE}/schedule", {**body, "limit": 100})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["participants"] == 2
    best = data["slots"][0]
    assert (_iso(best["start"]), best["score"], best["outside"]) == (datetime(2026, 12, 7, 7, 0, tzinfo=UTC), 2, [])
    partial = next(s for s in data["slots"] if _iso(s["start"]) == datetime(2026, 12, 7, 10, 0, tzinfo=UTC))
    assert partial["inside"] == ["BEL"]
    assert [(o["nation"], o["reason"]) for o in partial["outside"]] == [("JPN", "after 18:00")]
    assert len(data["slots"]) == 47  # every 30 minutes from 00:00 to 23:00 UTC
    assert len(organiser.post(f"{BASE}/schedule", body).json()["slots"]) == 20  # the default limit

    narrow = organiser.post(f"{BASE}/schedule", {**body, "hours": {"JPN": {"start": "16:00", "end": "18:00"}},
                                                 "limit": 3}).json()["slots"]
    assert _iso(narrow[0]["start"]) == datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    assert len(narrow) == 3


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"last_day": "2026-12-01"}, "last_day"),
        ({"nations": ["BEL", "ATL"]}, "nations"),
        ({"nations": []}, "nations"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 10**15}, "duration_minutes"),  # once an OverflowError (500) in timedelta
        ({"step_minutes": -(10**15)}, "step_minutes"),
        ({"hours": {"JPN": {"start": "18:00", "end": "08:00"}}}, "hours"),
        ({"limit": 0}, "limit"),
    ],
)
def test_schedule_bad_input_is_400_naming_the_field(organiser: Any, change: dict[str, Any], field: str) -> None:
    body = {"nations": ["BEL", "JPN"], "duration_minutes": 60, "first_day": "2026-12-07", "last_day": "2026-12-07"}
    response = organiser.post(f"{BASE}/schedule", {**body, **change})
    assert response.status_code == 400
    assert response.json()["field"] == field


# --- the document ---------------------------------------------------------------------------------------------------

def test_openapi_document_describes_every_consultations_endpoint(db: Any) -> None:
    paths = openapi_document()["paths"]
    expected = {
        "/series": {"get", "post"}, "/series/{id}": {"get", "patch"}, "/series/{id}/occurrences": {"get"},
        "/series/{id}/actions": {"get"}, "/meetings": {"get", "post"}, "/meetings/{id}": {"get", "patch"},
        "/meetings/{id}/cancel": {"post"}, "/meetings/{id}.ics": {"get"}, "/meetings/{id}/rsvp": {"post"},
        "/meetings/{id}/agenda": {"get"}, "/meetings/{id}/agenda/items": {"post"},
        "/agenda-items/{id}": {"patch", "delete"}, "/meetings/{id}/agenda/publish": {"post"},
        "/meetings/{id}/agenda/unpublish": {"post"}, "/meetings/{id}/minutes": {"get"},
        "/meetings/{id}/minutes/parts": {"post"}, "/minutes-parts/{id}": {"patch", "delete"},
        "/meetings/{id}/decisions": {"post"}, "/decisions/{id}": {"patch", "delete"},
        "/meetings/{id}/minutes/publish": {"post"}, "/meetings/{id}/minutes/unpublish": {"post"},
        "/actions": {"get", "post"}, "/actions/{id}": {"get", "patch"}, "/schedule": {"post"},
    }
    for path, methods in expected.items():
        operations = paths[f"/api/v1/consultations{path}"]
        assert set(operations) == methods, path
        for method in methods:
            operation = operations[method]
            assert operation["summary"], (method, path)
            assert {"400", "401", "404"} <= {str(code) for code in operation["responses"]}, (method, path)
    ics = paths["/api/v1/consultations/meetings/{id}.ics"]["get"]["responses"]
    assert "text/calendar" in ics["200"]["content"]


# --- the label matrix, and what a visible record points at ----------------------------------------------------------

@pytest.mark.parametrize("name", list(MATRIX))
def test_meeting_detail_ics_and_list_follow_the_label_matrix(
    name: str, jpn_user: Any, make_user: Any, api_for: Any
) -> None:
    case = MATRIX[name]
    meeting = _create_meeting(api_for(jpn_user), label=label_api(**case.label))
    reader = api_for(make_user("reader", case.nation, case.org, clearance=case.clearance,
                               communities=case.communities))
    window = "start=2026-12-01T00:00:00Z&end=2027-01-01T00:00:00Z"
    listed = [m["id"] for m in reader.get(f"{BASE}/meetings?{window}").json()["items"]]
    assert (listed == [meeting["id"]]) is case.visible
    for suffix in ("", ".ics", "/agenda", "/minutes"):
        response = reader.get(f"{BASE}/meetings/{meeting['id']}{suffix}")
        if case.visible:
            assert response.status_code == 200, (suffix, response.content)
        else:
            missing = reader.get(f"{BASE}/meetings/{meeting['id'] + 10_000}{suffix}")
            assert (response.status_code, response.content) == (404, missing.content), suffix


def test_agenda_item_names_only_the_linked_reports_the_reader_may_see(
    organiser: Any, jpn_user: Any, kor_user: Any, api_for: Any
) -> None:
    shared = do_create_report(jpn_user, ReportInput(title="Shared trends", label=make_label(releasable_to=["IP4"])))
    national = do_create_report(jpn_user, ReportInput(title="Tokyo only", label=make_label(releasable_to=["JPN"])))
    meeting = _create_meeting(organiser, attendees=["minjun"])
    created = organiser.post(f"{BASE}/meetings/{meeting['id']}/agenda/items", {
        "title": "Threat picture", "label": label_api(**IP4), "reports": [national.pk, shared.pk]})
    assert created.status_code == 201, created.content
    assert [r["id"] for r in created.json()["reports"]] == sorted([shared.pk, national.pk])
    organiser.post(f"{BASE}/meetings/{meeting['id']}/agenda/publish")
    items = api_for(kor_user).get(f"{BASE}/meetings/{meeting['id']}/agenda").json()["items"]
    assert [r["title"] for r in items[0]["reports"]] == ["Shared trends"]
    # A report the author may not see cannot be linked, and is refused like one that does not exist.
    hidden = do_create_report(kor_user, ReportInput(title="Seoul only", label=make_label(releasable_to=["KOR"])))
    refused = organiser.post(f"{BASE}/meetings/{meeting['id']}/agenda/items", {
        "title": "Leak", "label": label_api(**IP4), "reports": [hidden.pk]})
    assert (refused.status_code, refused.json()["field"]) == (400, "reports")
    assert AgendaItem.objects.count() == 1


def test_action_owner_can_be_switched_between_person_and_organisation(organiser: Any, kor_user: Any) -> None:
    meeting = _create_meeting(organiser)
    action = organiser.post(f"{BASE}/actions", {"title": "Host the next round", "label": label_api(**IP4),
                                                "meeting": meeting["id"], "owner_user": "minjun"}).json()
    to_org = organiser.patch(f"{BASE}/actions/{action['id']}", {"owner_organisation": "KOR-MND", "due": "2027-02-01"})
    assert to_org.status_code == 200, to_org.content
    assert (to_org.json()["owner_user"], to_org.json()["owner_organisation"]["code"], to_org.json()["due"]) == (
        None, "KOR-MND", "2027-02-01")
    back = organiser.patch(f"{BASE}/actions/{action['id']}", {"owner_user": "minjun", "due": None}).json()
    assert (back["owner_user"], back["owner_organisation"], back["due"]) == ("minjun", None, None)


def test_my_actions_pages_by_cursor(organiser: Any, kor_user: Any, api_for: Any) -> None:
    meeting = _create_meeting(organiser)
    ids = [organiser.post(f"{BASE}/actions", {"title": f"A{i}", "label": label_api(**IP4), "meeting": meeting["id"],
                                              "owner_user": "minjun", "due": f"2027-01-0{i + 1}"}).json()["id"]
           for i in range(3)]
    korea = api_for(kor_user)
    first = korea.get(f"{BASE}/actions?limit=2").json()
    assert first["next_cursor"]
    second = korea.get(f"{BASE}/actions?limit=2&cursor={first['next_cursor']}").json()
    assert [a["id"] for a in first["items"] + second["items"]] == ids
    assert second["next_cursor"] is None
