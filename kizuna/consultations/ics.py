"""iCalendar (RFC 5545) for meetings, written with the ``icalendar`` library: one VEVENT per meeting with its stable
UID, its SEQUENCE, DTSTART/DTEND in the home zone with TZID and the matching VTIMEZONE, and STATUS:CANCELLED
(with METHOD:CANCEL, RFC 5546) for a cancelled one.

A subscription feed (``feed_for``) is a different thing from a downloaded invitation: it is the whole list, re-read by
the calendar program on its own schedule, so it is always METHOD:PUBLISH (a feed that happens to hold only cancelled
meetings must not turn into a CANCEL message), carries its name (X-WR-CALNAME, and NAME from RFC 7986) and a refresh
interval, and a cancelled meeting stays in it as STATUS:CANCELLED until it falls out of the feed's window.

The caller has fetched the meeting through ``visible_to``; the label's display string is written into the event so
that whoever opens the file sees its marking.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar

from kizuna.consultations.models import Meeting, MeetingMode, MeetingStatus
from kizuna.core.access import label_display, label_of

PRODID = "-//Kizuna//Consultations//EN"
# METHOD chosen from the meetings (CANCEL when every one is cancelled, else PUBLISH): the downloaded .ics.
AUTO = "AUTO"
FEED_REFRESH = timedelta(hours=1)


def _second_of_repeated_hour(local: datetime) -> bool:
    return local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset()


def _event(meeting: Meeting, stamp: datetime) -> icalendar.Event:
    zone = ZoneInfo(meeting.time_zone)
    marking = label_display(label_of(meeting.label))
    event = icalendar.Event()
    event.add("uid", meeting.uid)
    event.add("dtstamp", stamp)
    event.add("sequence", meeting.sequence)
    start, end = meeting.start.astimezone(zone), meeting.end.astimezone(zone)
    if _second_of_repeated_hour(start) or _second_of_repeated_hour(end):
        # RFC 5545 3.3.5 reads an ambiguous local time as its first occurrence, so the second pass of a repeated
        # hour cannot be written with TZID: both ends are written in UTC instead (no VTIMEZONE is then needed).
        start, end = start.astimezone(UTC), end.astimezone(UTC)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", f"{meeting.title} [{marking}]")
    event.add("last-modified", meeting.updated_at.astimezone(UTC))
    event.add("created", meeting.created_at.astimezone(UTC))
    lines = [marking]
    if meeting.mode in (MeetingMode.IN_PERSON, MeetingMode.HYBRID) and meeting.place:
        event.add("location", meeting.place)
    if meeting.mode in (MeetingMode.VIRTUAL, MeetingMode.HYBRID) and meeting.link:
        event.add("url", meeting.link)
        lines.append(meeting.link)
    event.add("description", "\n".join(lines))
    event.add("status", "CANCELLED" if meeting.status == MeetingStatus.CANCELLED else "CONFIRMED")
    event.add("x-kizuna-label", marking)
    return event


def calendar_for(meetings: Sequence[Meeting], stamp: datetime | None = None, *, method: str | None = AUTO,
                 name: str = "") -> icalendar.Calendar:
    """A VCALENDAR of the given meetings with the VTIMEZONE of every zone they use. ``method``: AUTO (CANCEL when
    every meeting is cancelled, else PUBLISH), an explicit METHOD value, or None for no METHOD at all. ``name`` is
    written as X-WR-CALNAME (and RFC 7986 NAME) when given."""
    stamp = (stamp or datetime.now(UTC)).astimezone(UTC)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    if method == AUTO:
        cancelled_only = bool(meetings) and all(m.status == MeetingStatus.CANCELLED for m in meetings)
        cal.add("method", "CANCEL" if cancelled_only else "PUBLISH")
    elif method is not None:
        cal.add("method", method)
    if name:
        cal.add("name", name)
        cal.add("x-wr-calname", name)
    for meeting in meetings:
        cal.add_component(_event(meeting, stamp))
    cal.add_missing_timezones()
    return cal


def ics_for(meeting: Meeting, stamp: datetime | None = None) -> str:
    """The meeting as an ``.ics`` text (CRLF line ends, as RFC 5545 requires)."""
    return calendar_for([meeting], stamp).to_ical().decode("utf-8")


def feed_for(meetings: Sequence[Meeting], name: str, stamp: datetime | None = None) -> str:
    """A subscription feed of the given meetings (already filtered through ``visible_to`` by the caller)."""
    cal = calendar_for(meetings, stamp, method="PUBLISH", name=name)
    # How often a calendar program should come back (RFC 7986 REFRESH-INTERVAL; X-PUBLISHED-TTL for older clients).
    cal.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", icalendar.vDuration(FEED_REFRESH))
    return cal.to_ical().decode("utf-8")
