"""Consultation writes obey the label rules and refuse bad input without writing anything; series occurrences are
DST-correct in the home zone; updates keep the UID and raise SEQUENCE."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kizuna.consultations.models import Attendee, Meeting, MeetingStatus, Series
from kizuna.consultations.recurrence import occurrences
from kizuna.consultations.services import (
    MeetingInput,
    SeriesInput,
    do_cancel_meeting,
    do_create_meeting,
    do_create_series,
    do_update_meeting,
    do_update_series,
)
from kizuna.core.errors import ServiceError
from kizuna.core.models import AuditEntry, Version
from kizuna.directory.subjects import subject_for
from tests.conftest import make_label

BRU = ZoneInfo("Europe/Brussels")


def _series(user: Any, zone: str, rrule: str = "FREQ=WEEKLY;BYDAY=TU", first: date = date(2026, 3, 17), **kw: Any) -> Series:
    return do_create_series(user, SeriesInput(
        title="NATO–IP4 Cyber Defence Consultations", label=make_label(releasable_to=["NATO", "IP4"]),
        time_zone=zone, rrule=rrule, first_date=first, start_time=time(9, 0), **kw))


def _meeting(user: Any, **kw: Any) -> Meeting:
    data: dict[str, Any] = {
        "title": "Space dialogue", "label": make_label(releasable_to=["JPN"]),
        "start": datetime(2026, 4, 14, 9, 0, tzinfo=BRU), "end": datetime(2026, 4, 14, 10, 30, tzinfo=BRU),
        "time_zone": "Europe/Brussels", "link": "https://meet.example.org/space",
    }
    data.update(kw)
    return do_create_meeting(user, MeetingInput(**data))


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _starts(series: Series, a: datetime, b: datetime) -> list[datetime]:
    return [s for s, _ in occurrences(series, a, b)]


# --- daylight-saving edges ------------------------------------------------------------------------------------------

def test_brussels_weekly_0900_moves_in_utc_at_march_and_october_changes(jpn_user: Any) -> None:
    series = _series(jpn_user, "Europe/Brussels")
    # Europe changed on Sunday 29 March and Sunday 25 October 2026.
    march = _starts(series, _utc(2026, 3, 17), _utc(2026, 4, 1))
    assert march == [_utc(2026, 3, 17, 8), _utc(2026, 3, 24, 8), _utc(2026, 3, 31, 7)]
    october = _starts(series, _utc(2026, 10, 13), _utc(2026, 11, 4))
    assert october == [_utc(2026, 10, 13, 7), _utc(2026, 10, 20, 7), _utc(2026, 10, 27, 8), _utc(2026, 11, 3, 8)]
    assert all(s.astimezone(BRU).time() == time(9, 0) for s in march + october)
    assert all(e - s == timedelta(minutes=60) for s, e in occurrences(series, _utc(2026, 3, 17), _utc(2026, 11, 4)))


def test_auckland_weekly_0900_moves_at_april_and_september_changes(jpn_user: Any) -> None:
    series = _series(jpn_user, "Pacific/Auckland")
    # New Zealand ended summer time on Sunday 5 April 2026 and began it on Sunday 27 September 2026.
    april = _starts(series, _utc(2026, 3, 25), _utc(2026, 4, 15))
    assert april == [_utc(2026, 3, 30, 20), _utc(2026, 4, 6, 21), _utc(2026, 4, 13, 21)]
    september = _starts(series, _utc(2026, 9, 14), _utc(2026, 10, 1))
    assert september == [_utc(2026, 9, 14, 21), _utc(2026, 9, 21, 21), _utc(2026, 9, 28, 20)]


def test_tokyo_and_seoul_do_not_move(jpn_user: Any) -> None:
    for zone in ("Asia/Tokyo", "Asia/Seoul"):
        starts = _starts(_series(jpn_user, zone), _utc(2026, 3, 1), _utc(2026, 11, 30))
        assert len(starts) == 37
        assert {s.time() for s in starts} == {time(0, 0)}


def test_series_with_until_in_utc_stops(jpn_user: Any) -> None:
    series = _series(jpn_user, "Europe/Brussels", rrule="FREQ=WEEKLY;BYDAY=TU;UNTIL=20260401T000000Z")
    assert len(_starts(series, _utc(2026, 1, 1), _utc(2027, 1, 1))) == 3


# --- bad input: clear error, nothing written -------------------------------------------------------------------------

def _nothing_written() -> None:
    assert Series.objects.count() == 0
    assert Meeting.objects.count() == 0
    assert Attendee.objects.count() == 0
    assert not AuditEntry.objects.filter(target_type__in=["series", "meeting"]).exists()
    assert not Version.objects.exists()


@pytest.mark.parametrize("rrule", ["FREQ=SOMETIMES", "BYDAY=TU", "FREQ=WEEKLY;BYDAY=XX", "FREQ=WEEKLY;INTERVAL=x",
                                   "DTSTART:20260101T000000\nRRULE:FREQ=DAILY", "FREQ=WEEKLY;UNTIL=20260401T000000"])
def test_invalid_rrule_is_refused(jpn_user: Any, rrule: str) -> None:
    with pytest.raises(ServiceError) as err:
        _series(jpn_user, "Europe/Brussels", rrule=rrule)
    assert err.value.field == "rrule"
    _nothing_written()


@pytest.mark.parametrize("zone", ["Europe/Brusels", "CET+1", "../etc/passwd", "", "Mars/Olympus"])
def test_unknown_zone_is_refused(jpn_user: Any, zone: str) -> None:
    with pytest.raises(ServiceError) as err:
        _meeting(jpn_user, time_zone=zone)
    assert err.value.field == "time_zone"
    with pytest.raises(ServiceError):
        _series(jpn_user, zone)
    _nothing_written()


def test_end_before_or_at_start_is_refused(jpn_user: Any) -> None:
    start = datetime(2026, 4, 14, 9, 0, tzinfo=BRU)
    for end in (start, start - timedelta(minutes=1)):
        with pytest.raises(ServiceError) as err:
            _meeting(jpn_user, start=start, end=end)
        assert err.value.field == "end"
    _nothing_written()


def test_attendee_who_may_not_see_the_label_is_refused(jpn_user: Any, kor_user: Any, make_user: Any) -> None:
    colleague = make_user("taro", "JPN", "JPN-MOD")
    with pytest.raises(ServiceError, match="minjun") as err:
        _meeting(jpn_user, attendees=[colleague, kor_user])
    assert err.value.field == "attendees"
    _nothing_written()


def test_attendee_without_clearance_is_refused_when_the_organiser_may_learn_clearances(make_user: Any) -> None:
    boss = make_user("boss", "JPN", "JPN-MOD", role="admin")
    low = make_user("low", "JPN", "JPN-MOD", clearance="UNCLASSIFIED")
    with pytest.raises(ServiceError, match="low"):
        _meeting(boss, label=make_label(releasable_to=["JPN"], classification="RESTRICTED"), attendees=[low])
    _nothing_written()


def test_invitation_answers_alike_whatever_clearance_the_organiser_may_not_learn(jpn_user: Any, make_user: Any) -> None:
    """Directory rule (kizuna/directory/disclosure.py): a contributor may not learn a colleague's clearance, so the
    answer is the same for a cleared and an uncleared invitee; the uncleared one sees neither the meeting nor a notice."""
    from kizuna.notifications.models import Notification

    low = make_user("low", "JPN", "JPN-MOD", clearance="UNCLASSIFIED")
    cleared = make_user("cleared", "JPN", "JPN-MOD")
    secret = make_label(releasable_to=["JPN"], classification="RESTRICTED")
    first = _meeting(jpn_user, label=secret, attendees=[low])
    second = _meeting(jpn_user, label=secret, attendees=[cleared])
    assert [a.user.username for a in first.attendees.all()] == ["low"]
    assert [a.user.username for a in second.attendees.all()] == ["cleared"]
    assert not Meeting.objects.visible_to(subject_for(low)).exists()
    assert not Notification.objects.filter(user=low).exists()
    assert Notification.objects.filter(user=cleared).exists()


def test_label_the_author_could_not_see_is_refused(jpn_user: Any) -> None:
    with pytest.raises(ServiceError, match="could not see") as err:
        _meeting(jpn_user, label=make_label(releasable_to=["KOR"]))
    assert err.value.field == "label"
    _nothing_written()


def test_virtual_meeting_needs_an_https_link_and_in_person_a_place(jpn_user: Any) -> None:
    with pytest.raises(ServiceError) as err:
        _meeting(jpn_user, link="")
    assert err.value.field == "link"
    with pytest.raises(ServiceError) as err:
        _meeting(jpn_user, link="javascript:alert(1)")
    assert err.value.field == "link"
    with pytest.raises(ServiceError) as err:
        _meeting(jpn_user, mode="in_person", link="")
    assert err.value.field == "place"
    with pytest.raises(ServiceError) as err:
        _meeting(jpn_user, mode="telepathy")
    assert err.value.field == "mode"
    _nothing_written()


def test_viewer_cannot_create(make_user: Any) -> None:
    viewer = make_user("viewer", "JPN", "JPN-MOD", role="viewer")
    with pytest.raises(ServiceError, match="role"):
        _meeting(viewer)
    _nothing_written()


def test_series_not_visible_to_the_author_is_refused_as_missing(jpn_user: Any, kor_user: Any) -> None:
    series = do_create_series(kor_user, SeriesInput(title="KOR only", label=make_label(releasable_to=["KOR"]),
                                                    time_zone="Asia/Seoul"))
    with pytest.raises(ServiceError, match="no such series"):
        _meeting(jpn_user, series=series)
    assert Meeting.objects.count() == 0


# --- visibility, updates, cancellation ------------------------------------------------------------------------------

def test_korean_user_does_not_see_a_japan_only_meeting(jpn_user: Any, kor_user: Any) -> None:
    meeting = _meeting(jpn_user)
    assert Meeting.objects.visible_to(subject_for(jpn_user)).filter(pk=meeting.pk).exists()
    assert not Meeting.objects.visible_to(subject_for(kor_user)).filter(pk=meeting.pk).exists()
    shared = _meeting(jpn_user, label=make_label(releasable_to=["IP4"]), attendees=[kor_user])
    assert Meeting.objects.visible_to(subject_for(kor_user)).filter(pk=shared.pk).exists()


def test_meeting_is_stored_in_utc_and_naive_input_is_home_wall_clock(jpn_user: Any) -> None:
    meeting = _meeting(jpn_user, start=datetime(2026, 7, 1, 9, 0), end=datetime(2026, 7, 1, 10, 0),
                       time_zone="Asia/Tokyo")
    meeting.refresh_from_db()
    assert meeting.start == _utc(2026, 7, 1, 0, 0)
    assert meeting.end == _utc(2026, 7, 1, 1, 0)


def test_update_keeps_uid_and_raises_sequence(jpn_user: Any, make_user: Any) -> None:
    meeting = _meeting(jpn_user)
    uid = meeting.uid
    assert meeting.sequence == 0
    colleague = make_user("taro", "JPN", "JPN-MOD")
    updated = do_update_meeting(jpn_user, meeting, start=datetime(2026, 4, 14, 10, 0, tzinfo=BRU),
                                end=datetime(2026, 4, 14, 11, 0, tzinfo=BRU), attendees=[colleague])
    assert (updated.uid, updated.sequence) == (uid, 1)
    assert list(updated.attendees.values_list("user__username", flat=True)) == ["taro"]
    again = do_update_meeting(jpn_user, updated, title="Space dialogue (rev)")
    assert (again.uid, again.sequence) == (uid, 2)
    assert do_update_meeting(jpn_user, again, title="Space dialogue (rev)").sequence == 2  # no change, no new sequence
    cancelled = do_cancel_meeting(jpn_user, again, reason="typhoon")
    assert (cancelled.uid, cancelled.sequence, cancelled.status) == (uid, 3, MeetingStatus.CANCELLED)
    assert Version.objects.filter(object_id=meeting.pk, content_type="consultations.meeting").count() == 4
    assert AuditEntry.objects.filter(target_type="meeting", action="cancel").count() == 1
    with pytest.raises(ServiceError, match="cancelled"):
        do_update_meeting(jpn_user, cancelled, title="x")


def test_failed_update_changes_nothing(jpn_user: Any, kor_user: Any) -> None:
    meeting = _meeting(jpn_user)
    before = Meeting.objects.get(pk=meeting.pk)
    with pytest.raises(ServiceError) as err:
        do_update_meeting(jpn_user, meeting, attendees=[kor_user], title="new")
    assert err.value.field == "attendees"
    with pytest.raises(ServiceError):
        do_update_meeting(jpn_user, meeting, end=meeting.start)
    after = Meeting.objects.get(pk=meeting.pk)
    assert (after.title, after.sequence, after.end) == (before.title, 0, before.end)
    assert Attendee.objects.filter(meeting=meeting).count() == 0


def test_relabel_that_excludes_an_attendee_is_refused(jpn_user: Any, kor_user: Any) -> None:
    meeting = _meeting(jpn_user, label=make_label(releasable_to=["IP4"]), attendees=[kor_user])
    with pytest.raises(ServiceError, match="minjun"):
        do_update_meeting(jpn_user, meeting, label=make_label(releasable_to=["JPN"]))
    assert Meeting.objects.visible_to(subject_for(kor_user)).filter(pk=meeting.pk).exists()


def test_other_nation_cannot_change_a_meeting(jpn_user: Any, kor_user: Any) -> None:
    meeting = _meeting(jpn_user, label=make_label(releasable_to=["IP4"]))
    with pytest.raises(ServiceError, match="originating organisation"):
        do_update_meeting(kor_user, meeting, title="mine now")
    with pytest.raises(ServiceError, match="originating organisation"):
        do_cancel_meeting(kor_user, meeting)


def test_series_update_validates_and_audits(jpn_user: Any) -> None:
    series = _series(jpn_user, "Europe/Brussels", nations=["JPN", "BEL"], focus_areas=["cyber"])
    assert series.nations == ["BEL", "JPN"]
    with pytest.raises(ServiceError) as err:
        do_update_series(jpn_user, series, rrule="FREQ=NEVER")
    assert err.value.field == "rrule"
    with pytest.raises(ServiceError) as err:
        do_update_series(jpn_user, series, nations=["XXX"])
    assert err.value.field == "nations"
    updated = do_update_series(jpn_user, series, rrule="RRULE:FREQ=MONTHLY;BYDAY=1TU")
    assert updated.rrule == "FREQ=MONTHLY;BYDAY=1TU"
    assert AuditEntry.objects.filter(target_type="series").count() == 2
    assert _starts(updated, _utc(2026, 4, 1), _utc(2026, 5, 1)) == [_utc(2026, 4, 7, 7)]
