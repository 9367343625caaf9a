"""iCalendar (RFC 5545) for meetings, written with the ``icalendar`` library: one VEVENT per meeting with its stable
UID, its SEQUENCE, DTSTART/DTEND in the home zone with TZID and the matching VTIMEZONE, and STATUS:CANCELLED
(with METHOD:CANCEL, RFC 5546) for a cancelled one.

The caller has fetched the meeting through ``visible_to``; the label's display string is written into the event so
that whoever opens the file sees its marking.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import icalendar

from kizuna.consultations.models import Meeting, MeetingMode, MeetingStatus
from kizuna.core.access import label_display, label_of

PRODID = "-//Kizuna//Consultations//EN"


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


def calendar_for(meetings: list[Meeting], stamp: datetime | None = None) -> icalendar.Calendar:
    """A VCALENDAR of the given meetings with the VTIMEZONE of every zone they use."""
    stamp = (stamp or datetime.now(UTC)).astimezone(UTC)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cancelled_only = bool(meetings) and all(m.status == MeetingStatus.CANCELLED for m in meetings)
    cal.add("method", "CANCEL" if cancelled_only else "PUBLISH")
    for meeting in meetings:
        cal.add_component(_event(meeting, stamp))
    cal.add_missing_timezones()
    return cal


def ics_for(meeting: Meeting, stamp: datetime | None = None) -> str:
    """The meeting as an ``.ics`` text (CRLF line ends, as RFC 5545 requires)."""
    return calendar_for([meeting], stamp).to_ical().decode("utf-8")
