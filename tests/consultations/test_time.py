"""Capital zones, the local-time table, the scheduling assistant's ranking and its speed, and the .ics round trip
(parsed back with the icalendar library; instants compared, through TZID and through the written VTIMEZONE)."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

from kizuna.consultations.ics import ics_for
from kizuna.consultations.services import (
    MeetingInput,
    SeriesInput,
    do_cancel_meeting,
    do_create_meeting,
    do_create_series,
    do_update_meeting,
)
from kizuna.consultations.timezones import CAPITALS, is_known_zone, local_times, local_times_for, propose_slots
from tests.conftest import NATO_MEMBERS, PARTNERS, make_label


def test_every_member_and_partner_has_a_known_capital_zone() -> None:
    for nation in [*NATO_MEMBERS, *PARTNERS]:
        assert is_known_zone(CAPITALS[nation].zone), nation
    # Canberra keeps New South Wales' rules; tzdata's Australia/Canberra is a link to Sydney.
    assert CAPITALS["AUS"].zone == "Australia/Sydney"
    instant = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
    assert instant.astimezone(ZoneInfo("Australia/Canberra")).utcoffset() == instant.astimezone(
        ZoneInfo("Australia/Sydney")).utcoffset()


def test_local_time_table_shows_the_day_where_it_differs() -> None:
    # 09:00 Brussels on Tue 14 April 2026 (CEST) = 07:00 UTC.
    start = datetime(2026, 4, 14, 7, 0, tzinfo=UTC)
    rows = {r.nation: r for r in local_times_for(start, start + timedelta(hours=1), "Europe/Brussels",
                                                 ["BEL", "USA", "JPN", "KOR", "AUS", "NZL", "JPN"])}
    assert list(rows) == ["BEL", "USA", "JPN", "KOR", "AUS", "NZL"]
    assert (rows["BEL"].start.hour, rows["BEL"].day_differs, rows["BEL"].utc_offset) == (9, False, "+02:00")
    assert (rows["USA"].start.hour, rows["USA"].day_differs) == (3, False)
    assert (rows["JPN"].start.hour, rows["JPN"].day_differs, rows["JPN"].utc_offset) == (16, False, "+09:00")
    assert (rows["AUS"].start.hour, rows["AUS"].utc_offset) == (17, "+10:00")  # Sydney left summer time on 5 April
    # Late in the Brussels day, Wellington is already tomorrow.
    late = datetime(2026, 4, 14, 15, 0, tzinfo=UTC)
    nzl = local_times_for(late, late + timedelta(hours=1), "Europe/Brussels", ["NZL"])[0]
    assert (nzl.start.hour, nzl.day_differs, nzl.day) == (3, True, "Wed 15 Apr")


def test_scheduling_ranks_a_slot_inside_everyones_hours_first() -> None:
    slots = propose_slots(["BEL", "JPN"], timedelta(hours=1), date(2026, 4, 13), date(2026, 4, 13))
    best = slots[0]
    assert best.score == 2 and best.outside == []
    # Brussels 08:00–18:00 CEST = 06:00–16:00 UTC; Tokyo 08:00–18:00 = 23:00–09:00 UTC: overlap 06:00–09:00 UTC.
    both = sorted(s.start for s in slots if s.score == 2)
    assert both == [datetime(2026, 4, 13, h, m, tzinfo=UTC) for h, m in [(6, 0), (6, 30), (7, 0), (7, 30), (8, 0)]]
    # Two non-overlapping slots of the day first, then those passed over, still best first.
    assert [s.start.hour * 60 + s.start.minute for s in slots[:3]] == [6 * 60, 7 * 60, 6 * 60 + 30]
    noon = next(s for s in slots if s.start == datetime(2026, 4, 13, 12, 0, tzinfo=UTC))
    assert noon.inside == ["BEL"]
    assert [(o.participant, o.reason) for o in noon.outside] == [("JPN", "after 18:00")]


IP4_AND_NATO = ["AUS", "JPN", "KOR", "NATO", "NZL"]


def test_a_slot_a_few_hours_late_in_one_capital_beats_midnight_in_brussels() -> None:
    # Tuesday 8 December 2026. 07:00 UTC: 08:00 Brussels, 16:00 Tokyo and Seoul, 18:00 Canberra, 20:00 Wellington.
    # 00:00 UTC: 01:00 Brussels, everyone else inside. Four of five inside must not beat two hours late for two.
    slots = propose_slots(IP4_AND_NATO, timedelta(minutes=90), date(2026, 12, 8), date(2026, 12, 8), per_day=None)
    by_start = {s.start: s for s in slots}
    morning, night = by_start[datetime(2026, 12, 8, 7, 0, tzinfo=UTC)], by_start[datetime(2026, 12, 8, 0, 0, tzinfo=UTC)]
    assert night.score == 4 and morning.score == 3
    assert slots.index(morning) < slots.index(night)
    # For whom and by how much: Wellington 20:00-21:30 is 3 h 30 past 18:00, Canberra 18:00-19:30 1 h 30.
    assert {(o.nation, o.minutes) for o in morning.outside} == {("NZL", 210), ("AUS", 90)}
    assert [(o.nation, o.reason, o.minutes) for o in night.outside] == [("NATO", "before 08:00", 420)]
    # No night in Brussels among the best: the first slot keeps NATO HQ past 05:00 local.
    brussels = ZoneInfo("Europe/Brussels")
    assert slots[0].start.astimezone(brussels).hour >= 5


def test_suggestions_are_spread_over_days_and_paging_reaches_every_slot() -> None:
    ranked = propose_slots(IP4_AND_NATO, timedelta(minutes=90), date(2026, 12, 7), date(2027, 1, 3), per_day=None)
    spread = propose_slots(IP4_AND_NATO, timedelta(minutes=90), date(2026, 12, 7), date(2027, 1, 3),
                           day_zone="Europe/Brussels")
    brussels = ZoneInfo("Europe/Brussels")
    best = spread[:20]
    days = [s.start.astimezone(brussels).date() for s in best]
    assert len(set(days)) >= 10, days  # once: all 20 on the first two days
    assert all(days.count(d) <= 2 for d in days)
    for day in set(days):  # two slots of one day never overlap
        pair = [s for s in best if s.start.astimezone(brussels).date() == day]
        assert len(pair) == 1 or pair[0].end <= pair[1].start or pair[1].end <= pair[0].start
    # Nothing is dropped: the same slots, reordered, so a later page shows the rest.
    assert sorted(s.start for s in spread) == sorted(s.start for s in ranked)
    assert [s.burden for s in best] == sorted(s.burden for s in best)
    # Deep night for one weighs more than a little outside for two: never before 05:00 at NATO HQ among the best.
    assert all(s.start.astimezone(brussels).hour >= 5 for s in best)
    # A day off weighs more than a few hours outside: no weekend slot among the best.
    assert all(o.reason != "weekend" for s in best for o in s.outside)


def test_a_national_holiday_counts_against(make_user: Any) -> None:
    # Wednesday 29 April 2026 is Shōwa Day in Japan, a working day in Korea.
    hanako = make_user("hanako2", "JPN", "JPN-MOD")
    slots = propose_slots([hanako, "KOR"], timedelta(hours=1), date(2026, 4, 28), date(2026, 4, 29))
    by_start = {s.start: s for s in slots}
    holiday = by_start[datetime(2026, 4, 29, 1, 0, tzinfo=UTC)]  # 10:00 in Tokyo and Seoul
    assert holiday.inside == ["KOR"]
    assert holiday.outside[0].participant == "hanako2 (JPN)"
    assert holiday.outside[0].reason.startswith("public holiday")
    working = by_start[datetime(2026, 4, 28, 1, 0, tzinfo=UTC)]
    assert working.score == 2
    assert slots.index(working) < slots.index(holiday)
    tokyo = ZoneInfo("Asia/Tokyo")
    assert all(s.start.astimezone(tokyo).date() != date(2026, 4, 29) or s.score < 2 for s in slots)


def test_weekend_and_bad_arguments() -> None:
    slots = propose_slots(["JPN"], timedelta(hours=1), date(2026, 4, 18), date(2026, 4, 19))  # Sat, Sun
    assert all(s.score == 0 and s.outside[0].reason == "weekend" for s in slots
               if s.start.astimezone(ZoneInfo("Asia/Tokyo")).weekday() >= 5)
    for kwargs in ({"duration": timedelta(0)}, {"first_day": date(2026, 5, 1)}, {"participants": []},
                   {"participants": ["XXX"]}):
        args: dict[str, Any] = {"participants": ["JPN"], "duration": timedelta(hours=1),
                                "first_day": date(2026, 4, 1), "last_day": date(2026, 4, 2)}
        args.update(kwargs)
        with pytest.raises(ValueError):
            propose_slots(**args)


def test_four_weeks_for_eight_nations_ranks_well_under_a_second() -> None:
    nations = ["BEL", "USA", "GBR", "DEU", "JPN", "KOR", "AUS", "NZL"]
    began = clock.perf_counter()
    slots = propose_slots(nations, timedelta(hours=1), date(2026, 9, 1), date(2026, 9, 28))
    elapsed = clock.perf_counter() - began
    assert len(slots) == 28 * 48 - 1
    assert elapsed < 1.0, elapsed


# --- iCalendar ----------------------------------------------------------------------------------------------------

def _parse(text: str) -> tuple[icalendar.Calendar, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(text)
    events = list(cal.walk("VEVENT"))
    assert len(events) == 1
    return cal, events[0]


def _meeting(user: Any, start: datetime, end: datetime, zone: str) -> Any:
    return do_create_meeting(user, MeetingInput(
        title="NATO–Japan Space Dialogue", label=make_label(releasable_to=["JPN"]), start=start, end=end,
        time_zone=zone, mode="hybrid", place="NATO HQ, Brussels", link="https://meet.example.org/space"))


@pytest.mark.parametrize(("zone", "start"), [
    ("Europe/Brussels", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),  # just before Europe's change (03:30 CEST)
    ("Europe/Brussels", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),  # 02:30 CEST, first of the repeated hour
    ("Europe/Brussels", datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),  # 02:30 CET, the second one
    ("Pacific/Auckland", datetime(2026, 4, 4, 13, 30, tzinfo=UTC)),  # 02:30 NZDT on 5 April, before the change
    ("Pacific/Auckland", datetime(2026, 4, 4, 14, 30, tzinfo=UTC)),  # 02:30 NZST, after it
    ("Pacific/Auckland", datetime(2026, 9, 26, 21, 0, tzinfo=UTC)),  # 09:00 NZST, the day before spring
    ("Asia/Tokyo", datetime(2026, 7, 1, 0, 0, tzinfo=UTC)),
    ("Asia/Seoul", datetime(2026, 12, 31, 23, 0, tzinfo=UTC)),
])
def test_ics_round_trip_keeps_the_instants(jpn_user: Any, zone: str, start: datetime) -> None:
    meeting = _meeting(jpn_user, start, start + timedelta(minutes=90), zone)
    cal, event = _parse(ics_for(meeting))
    assert str(event["UID"]) == meeting.uid
    assert int(event["SEQUENCE"]) == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    end = start + timedelta(minutes=90)
    # Timestamps, not ==: PEP 495 makes datetimes at an ambiguous local time unequal to any other zone's.
    assert event["DTSTART"].dt.timestamp() == start.timestamp()
    assert event["DTEND"].dt.timestamp() == end.timestamp()
    assert "REL TO JPN" in str(event["SUMMARY"]) and str(event["LOCATION"]) == "NATO HQ, Brussels"
    if _second_of_repeated_hour(start.astimezone(ZoneInfo(zone))) or _second_of_repeated_hour(end.astimezone(ZoneInfo(zone))):
        # RFC 5545 3.3.5 reads an ambiguous local time as its first occurrence: the second one is written in UTC.
        assert "TZID" not in event["DTSTART"].params
        assert list(cal.walk("VTIMEZONE")) == []
        return
    assert event["DTSTART"].params["TZID"] == zone
    # The VTIMEZONE written into the file, on its own, gives the same instants (for clients without tzdata).
    vtimezones = {str(tz["TZID"]): tz for tz in cal.walk("VTIMEZONE")}
    assert set(vtimezones) == {zone}
    written = vtimezones[zone].to_tz()
    for instant in (start, end):
        wall = instant.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        again = written.localize(wall) if hasattr(written, "localize") else wall.replace(tzinfo=written)
        assert again.timestamp() == instant.timestamp()


def _second_of_repeated_hour(local: datetime) -> bool:
    return local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset()


def test_updated_and_cancelled_meeting_ics(jpn_user: Any) -> None:
    start = datetime(2026, 5, 12, 7, 0, tzinfo=UTC)
    meeting = _meeting(jpn_user, start, start + timedelta(hours=1), "Europe/Brussels")
    moved = do_update_meeting(jpn_user, meeting, start=start + timedelta(hours=1), end=start + timedelta(hours=2))
    _, event = _parse(ics_for(moved))
    assert (str(event["UID"]), int(event["SEQUENCE"])) == (meeting.uid, 1)
    assert event["DTSTART"].dt == start + timedelta(hours=1)
    cal, event = _parse(ics_for(do_cancel_meeting(jpn_user, moved)))
    assert (str(event["UID"]), int(event["SEQUENCE"]), str(event["STATUS"])) == (meeting.uid, 2, "CANCELLED")
    assert str(cal["METHOD"]) == "CANCEL"


def test_local_times_of_a_meeting_default_to_its_series_nations(jpn_user: Any) -> None:
    series = do_create_series(jpn_user, SeriesInput(title="NATO–IP4", label=make_label(releasable_to=["NATO", "IP4"]),
                                                    time_zone="Europe/Brussels", nations=["NZL", "BEL", "JPN"]))
    start = datetime(2026, 6, 2, 7, 0, tzinfo=UTC)
    meeting = do_create_meeting(jpn_user, MeetingInput(
        title="Cyber", label=make_label(releasable_to=["JPN"]), start=start, end=start + timedelta(hours=1),
        time_zone="Europe/Brussels", link="https://meet.example.org/c", series=series))
    assert [r.nation for r in local_times(meeting)] == ["BEL", "JPN", "NZL"]
