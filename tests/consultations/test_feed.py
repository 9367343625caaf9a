"""The calendar feed at its secret URL holds exactly the meetings its owner may see (their instants and UIDs
unchanged), shows a cancelled meeting as cancelled without turning into a CANCEL message, answers 404 for an unknown,
replaced or revoked secret and for an inactive owner, is never cached, and is audited as a read."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import icalendar
import pytest
from django.test import Client
from django.utils import timezone

from kizuna.consultations import notify
from kizuna.consultations.models import CalendarSettings, Meeting
from kizuna.consultations.services import MeetingInput, do_cancel_meeting, do_create_meeting
from kizuna.core.models import AuditEntry
from tests.conftest import make_label

pytestmark = pytest.mark.django_db

FEED_PREFIX = "/consultations/feed/"


def _meeting(author: Any, releasable: list[str], title: str, days: float, zone: str = "Europe/Brussels") -> Meeting:
    start = timezone.now().replace(microsecond=0) + timedelta(days=days)
    return do_create_meeting(author, MeetingInput(
        title=title, label=make_label(releasable_to=releasable), start=start, end=start + timedelta(minutes=90),
        time_zone=zone, link="https://meet.example.org/dialogue"))


def _events(response: Any) -> dict[str, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(response.content.decode("utf-8"))
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def _get(token: str) -> Any:
    return Client().get(f"{FEED_PREFIX}{token}.ics")


def test_feed_holds_only_the_meetings_its_owner_may_see(jpn_user: Any, kor_user: Any) -> None:
    shared = _meeting(jpn_user, ["JPN", "KOR"], "NATO–IP4 Cyber Defence Consultations", 10, "Pacific/Auckland")
    also = _meeting(jpn_user, ["IP4"], "Maritime security dialogue", 30, "Asia/Seoul")
    japan_only = _meeting(jpn_user, ["JPN"], "NATO–Japan Space Dialogue", 12)
    long_ago = _meeting(jpn_user, ["JPN", "KOR"], "Long past", -120)
    far_ahead = _meeting(jpn_user, ["JPN", "KOR"], "Far ahead", 420)
    token = notify.new_feed_token(kor_user)
    response = _get(token)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert response["Cache-Control"] == "private, no-store"
    events = _events(response)
    assert set(events) == {shared.uid, also.uid}
    for meeting in (shared, also):
        event = events[meeting.uid]
        assert event["DTSTART"].dt.timestamp() == meeting.start.timestamp()
        assert event["DTEND"].dt.timestamp() == meeting.end.timestamp()
        assert event["DTSTART"].params["TZID"] == meeting.time_zone
    cal = icalendar.Calendar.from_ical(response.content.decode("utf-8"))
    assert {str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")} == {"Pacific/Auckland", "Asia/Seoul"}
    assert str(cal["METHOD"]) == "PUBLISH"
    assert "minjun" in str(cal["X-WR-CALNAME"])
    assert japan_only.uid not in events and long_ago.uid not in events and far_ahead.uid not in events
    # The Japanese officer's own feed has the Japan-only meeting.
    assert japan_only.uid in _events(_get(notify.new_feed_token(jpn_user)))


def test_cancelled_meeting_stays_in_the_feed_as_cancelled(jpn_user: Any, kor_user: Any) -> None:
    meeting = _meeting(jpn_user, ["JPN", "KOR"], "Cyber consultations", 5)
    cancelled = do_cancel_meeting(jpn_user, meeting, reason="typhoon")
    response = _get(notify.new_feed_token(kor_user))
    event = _events(response)[meeting.uid]
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == cancelled.sequence == 1
    # A feed holding only cancelled meetings is still a published calendar, not a cancellation message.
    assert str(icalendar.Calendar.from_ical(response.content.decode())["METHOD"]) == "PUBLISH"


def test_wrong_replaced_and_revoked_tokens_are_404(jpn_user: Any, kor_user: Any) -> None:
    _meeting(jpn_user, ["JPN", "KOR"], "Cyber consultations", 5)
    old = notify.new_feed_token(kor_user)
    new = notify.new_feed_token(kor_user)
    assert old != new
    assert _get(old).status_code == 404
    assert _get(new).status_code == 200
    assert _get("x" * 43).status_code == 404
    assert _get("short").status_code == 404
    assert notify.revoke_feed(kor_user) is True
    assert _get(new).status_code == 404
    assert notify.revoke_feed(kor_user) is False


def test_inactive_owner_feed_is_404(kor_user: Any) -> None:
    token = notify.new_feed_token(kor_user)
    kor_user.is_active = False
    kor_user.save(update_fields=["is_active"])
    assert _get(token).status_code == 404


def test_only_the_digest_of_the_secret_is_stored(kor_user: Any) -> None:
    import hashlib

    token = notify.new_feed_token(kor_user)
    row = CalendarSettings.objects.get(user=kor_user)
    assert row.feed_digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(list(CalendarSettings.objects.values()))
    assert token not in str(list(AuditEntry.objects.values()))


def test_feed_read_is_audited(jpn_user: Any, kor_user: Any) -> None:
    meeting = _meeting(jpn_user, ["JPN", "KOR"], "Cyber consultations", 5)
    _get(notify.new_feed_token(kor_user))
    entry = AuditEntry.objects.filter(actor=kor_user.username, action="read", target_type="meeting").latest("id")
    assert entry.target_ids == str(meeting.pk)
    assert entry.detail == {"via": "calendar feed"}


def test_feed_needs_no_sign_in(kor_user: Any) -> None:
    assert _get(notify.new_feed_token(kor_user)).status_code == 200
