"""The shapes of consultations in the REST API (series, meetings, agendas, minutes, decisions, actions, scheduling), in
and out, and the functions that turn model rows into them. Labels travel in their API form with the display string
beside them, on the base classes and error shape every module shares (``kizuna.core.schemas``)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from pydantic import Field

from kizuna.consultations.models import ActionItem, AgendaItem, Attendee, Decision, Meeting, MinutesPart, Series
from kizuna.consultations.timezones import LocalTime, Slot
from kizuna.core.access import label_display, label_of
from kizuna.core.markdown import markdown_html
from kizuna.core.models import Labelled
from kizuna.core.schemas import LabelIn, LabelOut, OrganisationOut, Out, Strict

# --- shared ---------------------------------------------------------------------------------------------------------

class RefOut(Out):
    """A pointer to another record, given only when the caller may see that record."""

    id: int
    title: str


def _label_fields(record: Labelled) -> dict[str, Any]:
    label = label_of(record.label)
    return {"label": label.as_api(), "label_display": label_display(label)}


# --- series ---------------------------------------------------------------------------------------------------------

class SeriesIn(Strict):
    title: str
    label: LabelIn
    time_zone: str = Field(examples=["Europe/Brussels"], description="IANA zone of the cadence's wall-clock time")
    rrule: str = Field(default="", examples=["FREQ=MONTHLY;BYDAY=2TU"], description="One RFC 5545 RRULE, or empty")
    first_date: date | None = Field(default=None, description="DTSTART's date in the home zone (needed with rrule)")
    start_time: time | None = Field(default=None, description="DTSTART's wall-clock time (needed with rrule)")
    duration_minutes: int = 60
    focus_areas: list[str] = Field(default_factory=list)
    nations: list[str] = Field(default_factory=list, examples=[["NATO", "JPN", "AUS", "NZL", "KOR"]])
    chair: str | None = Field(default=None, description="username of the chair")


class SeriesPatch(Strict):
    """Only the fields sent change. ``null`` is accepted for chair, first_date and start_time (clears them)."""

    title: str | None = None
    label: LabelIn | None = None
    time_zone: str | None = None
    rrule: str | None = None
    first_date: date | None = None
    start_time: time | None = None
    duration_minutes: int | None = None
    focus_areas: list[str] | None = None
    nations: list[str] | None = None
    chair: str | None = None


class SeriesOut(Out):
    id: int
    title: str
    focus_areas: list[str]
    nations: list[str]
    chair: str | None
    rrule: str
    time_zone: str
    first_date: date | None
    start_time: time | None
    duration_minutes: int
    label: LabelOut
    label_display: str
    originator: OrganisationOut
    created_by: str
    created_at: datetime
    updated_at: datetime


class SeriesPage(Out):
    items: list[SeriesOut]
    next_cursor: str | None


class OccurrenceOut(Out):
    start: datetime
    end: datetime


def series_out(series: Series) -> dict[str, Any]:
    """Expects label, originator, chair and created_by selected (or costs a query each)."""
    return {
        "id": series.pk,
        "title": series.title,
        "focus_areas": list(series.focus_areas or []),
        "nations": list(series.nations or []),
        "chair": series.chair.username if series.chair_id and series.chair else None,
        "rrule": series.rrule,
        "time_zone": series.time_zone,
        "first_date": series.first_date,
        "start_time": series.start_time,
        "duration_minutes": series.duration_minutes,
        **_label_fields(series),
        "originator": {"code": series.originator.code, "name": series.originator.name},
        "created_by": series.created_by.username,
        "created_at": series.created_at,
        "updated_at": series.updated_at,
    }


# --- meetings -------------------------------------------------------------------------------------------------------

class MeetingIn(Strict):
    title: str
    label: LabelIn
    start: datetime = Field(description="ISO 8601; with an offset it is that instant, without one it is wall-clock "
                                        "time in time_zone", examples=["2026-12-08T09:00:00+01:00"])
    end: datetime = Field(examples=["2026-12-08T11:00:00+01:00"])
    time_zone: str = Field(examples=["Europe/Brussels"], description="home IANA zone of the meeting")
    mode: str = Field(default="virtual", description="in_person, virtual or hybrid")
    place: str = ""
    link: str = Field(default="", description="https:// address of a virtual or hybrid meeting")
    series: int | None = None
    attendees: list[str] = Field(default_factory=list, description="usernames; each must be able to see the label")


class MeetingPatch(Strict):
    """Only the fields sent change; ``attendees`` replaces the list (answers of those who stay are kept). ``null`` is
    accepted for series (detaches the meeting) only. Every change raises the iCalendar SEQUENCE."""

    title: str | None = None
    label: LabelIn | None = None
    start: datetime | None = None
    end: datetime | None = None
    time_zone: str | None = None
    mode: str | None = None
    place: str | None = None
    link: str | None = None
    series: int | None = None
    attendees: list[str] | None = None


class CancelIn(Strict):
    reason: str = Field(default="", max_length=500)


class RsvpIn(Strict):
    answer: str = Field(description="accepted, tentative, declined or pending", examples=["accepted"])


class AttendeeOut(Out):
    username: str
    rsvp: str


class LocalTimeOut(Out):
    nation: str
    city: str
    zone: str
    start: datetime
    end: datetime
    utc_offset: str
    day_differs: bool
    day: str


class MeetingOut(Out):
    id: int
    title: str
    start: datetime
    end: datetime
    time_zone: str
    mode: str
    place: str
    link: str
    status: str
    cancel_reason: str
    series: RefOut | None
    uid: str
    sequence: int
    agenda_published_at: datetime | None
    minutes_published_at: datetime | None
    label: LabelOut
    label_display: str
    originator: OrganisationOut
    created_by: str
    created_at: datetime
    updated_at: datetime


class MeetingDetailOut(MeetingOut):
    attendees: list[AttendeeOut]
    local_times: list[LocalTimeOut]
    may_organise: bool


class MeetingList(Out):
    items: list[MeetingOut]


def meeting_out(meeting: Meeting, series_visible: bool) -> dict[str, Any]:
    """``series_visible``: whether the caller may see the meeting's series; if not, it is not named."""
    series = meeting.series if series_visible and meeting.series_id else None
    return {
        "id": meeting.pk,
        "title": meeting.title,
        "start": meeting.start,
        "end": meeting.end,
        "time_zone": meeting.time_zone,
        "mode": meeting.mode,
        "place": meeting.place,
        "link": meeting.link,
        "status": meeting.status,
        "cancel_reason": meeting.cancel_reason,
        "series": {"id": series.pk, "title": series.title} if series is not None else None,
        "uid": meeting.uid,
        "sequence": meeting.sequence,
        "agenda_published_at": meeting.agenda_published_at,
        "minutes_published_at": meeting.minutes_published_at,
        **_label_fields(meeting),
        "originator": {"code": meeting.originator.code, "name": meeting.originator.name},
        "created_by": meeting.created_by.username,
        "created_at": meeting.created_at,
        "updated_at": meeting.updated_at,
    }


def attendee_out(attendee: Attendee) -> dict[str, Any]:
    return {"username": attendee.user.username, "rsvp": attendee.rsvp}


def local_time_out(row: LocalTime) -> dict[str, Any]:
    return {"nation": row.nation, "city": row.city, "zone": row.zone, "start": row.start, "end": row.end,
            "utc_offset": row.utc_offset, "day_differs": row.day_differs, "day": row.day}


# --- agenda ---------------------------------------------------------------------------------------------------------

class AgendaItemIn(Strict):
    title: str
    label: LabelIn
    presenter: str = ""
    duration_minutes: int = 15
    order: int | None = Field(default=None, description="position; appended at the end when left out")
    reports: list[int] = Field(default_factory=list, description="ids of reports the caller may see")


class AgendaItemPatch(Strict):
    title: str | None = None
    label: LabelIn | None = None
    presenter: str | None = None
    duration_minutes: int | None = None
    order: int | None = None
    reports: list[int] | None = None


class AgendaItemOut(Out):
    id: int
    meeting: int
    order: int
    title: str
    presenter: str
    duration_minutes: int
    reports: list[RefOut]
    label: LabelOut
    label_display: str


class ActionOut(Out):
    id: int
    title: str
    status: str
    due: date | None
    overdue: bool
    owner_user: str | None
    owner_organisation: OrganisationOut | None
    meeting: RefOut | None
    series: RefOut | None
    agenda_item: int | None
    notes: str
    notes_html: str
    completed_at: datetime | None
    label: LabelOut
    label_display: str
    created_at: datetime
    updated_at: datetime


class AgendaOut(Out):
    meeting: int
    published: bool
    published_at: datetime | None
    items: list[AgendaItemOut]
    review_of_actions: list[ActionOut]


def agenda_item_out(item: AgendaItem, reports: list[dict[str, Any]], position: int) -> dict[str, Any]:
    """``reports``: the linked reports the caller may see (never the link alone); ``position``: the item's place
    among the items the caller may see (``queries.position_for``), never the stored order, which counts hidden ones."""
    return {
        "id": item.pk,
        "meeting": item.meeting_id,
        "order": position,
        "title": item.title,
        "presenter": item.presenter,
        "duration_minutes": item.duration_minutes,
        "reports": reports,
        **_label_fields(item),
    }


# --- minutes and decisions ------------------------------------------------------------------------------------------

class MinutesPartIn(Strict):
    text: str = Field(description="Markdown")
    label: LabelIn
    agenda_item: int | None = Field(default=None, description="the agenda item it is about; none = the whole meeting")


class MinutesPartPatch(Strict):
    text: str | None = None
    label: LabelIn | None = None
    agenda_item: int | None = None


class DecisionIn(MinutesPartIn):
    pass


class DecisionPatch(MinutesPartPatch):
    pass


class MinutesPartOut(Out):
    id: int
    meeting: int
    agenda_item: int | None
    order: int
    text: str
    text_html: str
    author: str
    label: LabelOut
    label_display: str
    created_at: datetime
    updated_at: datetime


class DecisionOut(MinutesPartOut):
    pass


class MinutesOut(Out):
    meeting: int
    published: bool
    published_at: datetime | None
    parts: list[MinutesPartOut]
    decisions: list[DecisionOut]


def written_out(record: MinutesPart | Decision, position: int, agenda_item_visible: bool) -> dict[str, Any]:
    """A minutes part or a decision (same shape). ``position``: its place among those the caller may see; the agenda
    item is named only when the caller may see it."""
    return {
        "id": record.pk,
        "meeting": record.meeting_id,
        "agenda_item": record.agenda_item_id if agenda_item_visible else None,
        "order": position,
        "text": record.text,
        "text_html": markdown_html(record.text),
        "author": record.author.username,
        **_label_fields(record),
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


# --- actions --------------------------------------------------------------------------------------------------------

class ActionIn(Strict):
    title: str
    label: LabelIn
    meeting: int | None = None
    series: int | None = Field(default=None, description="defaults to the meeting's series")
    owner_user: str | None = Field(default=None, description="username; exactly one of owner_user, "
                                                             "owner_organisation")
    owner_organisation: str | None = Field(default=None, description="organisation code", examples=["KOR-MND"])
    due: date | None = None
    agenda_item: int | None = Field(default=None, description="an agenda item of the meeting")
    notes: str = Field(default="", description="Markdown")


class ActionPatch(Strict):
    """Only the fields sent change. Sending one owner replaces the other. ``null`` is accepted for due and
    agenda_item (clears them)."""

    title: str | None = None
    label: LabelIn | None = None
    status: str | None = Field(default=None, description="open, in_progress, done or dropped")
    due: date | None = None
    owner_user: str | None = None
    owner_organisation: str | None = None
    notes: str | None = None
    agenda_item: int | None = None


class ActionPage(Out):
    items: list[ActionOut]
    next_cursor: str | None


def action_out(action: ActionItem, overdue: bool, meeting_visible: bool, series_visible: bool) -> dict[str, Any]:
    """The meeting and series are named only when the caller may see them (an action has its own label)."""
    org = action.owner_organisation if action.owner_organisation_id else None
    meeting = action.meeting if meeting_visible and action.meeting_id else None
    series = action.series if series_visible and action.series_id else None
    return {
        "id": action.pk,
        "title": action.title,
        "status": action.status,
        "due": action.due,
        "overdue": overdue,
        "owner_user": action.owner_user.username if action.owner_user_id and action.owner_user else None,
        "owner_organisation": {"code": org.code, "name": org.name} if org is not None else None,
        "meeting": {"id": meeting.pk, "title": meeting.title} if meeting is not None else None,
        "series": {"id": series.pk, "title": series.title} if series is not None else None,
        "agenda_item": action.agenda_item_id,
        "notes": action.notes,
        "notes_html": markdown_html(action.notes),
        "completed_at": action.completed_at,
        **_label_fields(action),
        "created_at": action.created_at,
        "updated_at": action.updated_at,
    }


# --- scheduling -----------------------------------------------------------------------------------------------------

class HoursIn(Strict):
    start: time = Field(default=time(8, 0), examples=["08:00"])
    end: time = Field(default=time(18, 0), examples=["18:00"])
    weekdays: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4], description="Monday = 0")


class ScheduleIn(Strict):
    nations: list[str] = Field(examples=[["NATO", "JPN", "AUS", "NZL", "KOR"]])
    duration_minutes: int = Field(examples=[90])
    first_day: date
    last_day: date
    hours: dict[str, HoursIn] | None = Field(
        default=None, description="working hours per nation code; others keep 08:00-18:00 Monday to Friday")
    step_minutes: int = 30
    limit: int = Field(default=20, description="how many of the best slots to return (1-500)")
    offset: int = Field(default=0, description="how many of the best slots to skip: the next page starts at offset + limit")


class OutsideOut(Out):
    participant: str
    nation: str
    reason: str
    local_start: datetime
    minutes: int = Field(description="how far outside the working day: minutes from the slot's far edge to it, plus "
                                     "600 on a weekend or public holiday")


class SlotOut(Out):
    start: datetime
    end: datetime
    score: int
    cost: int = Field(description="minutes outside working hours summed over the participants (the ranking weighs "
                                  "each participant's minutes squared)")
    inside: list[str]
    outside: list[OutsideOut]


class ScheduleOut(Out):
    participants: int
    total: int = Field(description="how many slots the range holds in all (page on with offset)")
    slots: list[SlotOut]


def slot_out(slot: Slot) -> dict[str, Any]:
    return {
        "start": slot.start,
        "end": slot.end,
        "score": slot.score,
        "cost": slot.cost,
        "inside": list(slot.inside),
        "outside": [{"participant": o.participant, "nation": o.nation, "reason": o.reason,
                     "local_start": o.local_start, "minutes": o.minutes} for o in slot.outside],
    }
