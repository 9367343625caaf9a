"""The consultations resource of the REST API (/api/v1/consultations/...): series, meetings with their attendees and
calendar file, agendas, minutes, decisions, actions and the scheduling assistant.

Thin, like the reports resource: every read starts from ``visible_to`` (``queries.get_*_or_404`` and the other
reads of ``queries``), the draft/published rule of agendas and minutes is applied by ``queries`` after
it, every write goes through a ``do_*`` service, and every read of labelled content is audited with the client's
address. A record the caller may not see answers the same JSON 404 as a missing one; bad input answers 400
``{"message", "field"}`` with nothing written."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal

from django.db.models import Model, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from ninja import Router, Status

from kizuna.consultations import ics, queries, recurrence, services
from kizuna.consultations.models import ActionItem, AgendaItem, Decision, Meeting, MinutesPart, Series
from kizuna.consultations.schemas import (
    ActionIn,
    ActionOut,
    ActionPage,
    ActionPatch,
    AgendaItemIn,
    AgendaItemOut,
    AgendaItemPatch,
    AgendaOut,
    AttendeeOut,
    CancelIn,
    DecisionIn,
    DecisionOut,
    DecisionPatch,
    MeetingDetailOut,
    MeetingIn,
    MeetingList,
    MeetingPatch,
    MinutesOut,
    MinutesPartIn,
    MinutesPartOut,
    MinutesPartPatch,
    OccurrenceOut,
    RsvpIn,
    ScheduleIn,
    ScheduleOut,
    SeriesIn,
    SeriesOut,
    SeriesPage,
    SeriesPatch,
    action_out,
    agenda_item_out,
    attendee_out,
    local_time_out,
    meeting_out,
    series_out,
    slot_out,
    written_out,
)
from kizuna.consultations.timezones import CAPITALS, UnknownNation, WorkingHours, local_times_for, propose_slots
from kizuna.core import audit
from kizuna.core.audit import client_address
from kizuna.core.errors import ServiceError
from kizuna.core.paging import keyset_page
from kizuna.core.schemas import ERRORS
from kizuna.directory import disclosure
from kizuna.directory.models import Organisation, User
from kizuna.directory.subjects import subject_for
from kizuna.labels import Subject
from kizuna.web.apiauth import caller

router = Router(tags=["consultations"])

MAX_RANGE = timedelta(days=400)  # a calendar or occurrence window; a year view plus margins
MAX_SLOTS = 500

_ICS_DOC: dict[str, Any] = {
    "responses": {
        200: {
            "description": "The meeting as an iCalendar (RFC 5545) file, as a download",
            "content": {"text/calendar": {"schema": {"type": "string"}}},
        }
    }
}


# --- helpers: reads through visible_to ------------------------------------------------------------------------------

def _audit(user: User, action: str, target_type: str, records: Sequence[Any], request: HttpRequest,
           detail: dict[str, Any] | None = None) -> None:
    """One audit entry for the labelled records shown (none when nothing was shown)."""
    if records:
        audit.record(user.username, action, target_type, [r.pk for r in records],
                     records[0].label_id if len(records) == 1 else None, client_address(request), detail)


def _visible_pks(model: type[Model], subject: Subject, pks: Iterable[int | None]) -> set[int]:
    wanted = sorted({pk for pk in pks if pk is not None})
    if not wanted:
        return set()
    return set(model.objects.visible_to(subject).filter(pk__in=wanted).values_list("pk", flat=True))  # type: ignore[attr-defined]


def _items_ok(user: User, pks: Iterable[int | None]) -> set[int]:
    """The agenda items among ``pks`` that ``user`` may read: visible, and of a published agenda unless the user may
    read the draft. Only these are pointed at from another record's answer."""
    wanted = sorted({pk for pk in pks if pk is not None})
    if not wanted:
        return set()
    drafts: dict[int, bool] = {}
    ok: set[int] = set()
    for item in AgendaItem.objects.visible_to(subject_for(user)).filter(pk__in=wanted).select_related("meeting"):
        meeting = item.meeting
        if meeting.agenda_published_at is None:
            if meeting.pk not in drafts:
                drafts[meeting.pk] = queries.may_read_drafts(user, meeting)
            if not drafts[meeting.pk]:
                continue
        ok.add(item.pk)
    return ok


def _written(user: User, record: MinutesPart | Decision) -> dict[str, Any]:
    """One minutes part or decision as the caller may see it: numbered among those the caller may see, its agenda
    item named only when the caller may see it."""
    item_visible = record.agenda_item_id in _items_ok(user, [record.agenda_item_id])
    return written_out(record, queries.position_for(user, record), item_visible)


# --- helpers: references in request bodies (not visible = does not exist: 400 naming the field) --------------------

def _series_ref(user: User, pk: int | None, field: str = "series") -> Series | None:
    if pk is None:
        return None
    series = Series.objects.visible_to(subject_for(user)).filter(pk=pk).first()
    if series is None:
        raise ServiceError(gettext("no such series"), field)
    return series


def _meeting_ref(user: User, pk: int | None, field: str = "meeting") -> Meeting | None:
    if pk is None:
        return None
    meeting = Meeting.objects.visible_to(subject_for(user)).select_related("series", "originator").filter(pk=pk).first()
    if meeting is None:
        raise ServiceError(gettext("no such meeting"), field)
    return meeting


def _agenda_item_ref(user: User, meeting_id: int | None, pk: int | None) -> AgendaItem | None:
    if pk is None:
        return None
    if meeting_id is None:
        raise ServiceError(gettext("no such agenda item in this meeting"), "agenda_item")
    item = AgendaItem.objects.visible_to(subject_for(user)).filter(pk=pk, meeting_id=meeting_id).first()
    if item is None:
        raise ServiceError(gettext("no such agenda item in this meeting"), "agenda_item")
    return item


def _users(usernames: Iterable[str], field: str) -> list[User]:
    names = list(dict.fromkeys(usernames))
    found = {u.username: u for u in disclosure.people().filter(username__in=names)}  # who the directory shows
    unknown = [n for n in names if n not in found]
    if unknown:
        raise ServiceError(gettext("unknown user(s): %(users)s") % {"users": ", ".join(unknown)}, field)
    return [found[n] for n in names]


def _user_ref(username: str | None, field: str) -> User | None:
    return None if username is None else _users([username], field)[0]


def _organisation_ref(code: str | None, field: str = "owner_organisation") -> Organisation | None:
    if code is None:
        return None
    org = Organisation.objects.filter(code=code).first()
    if org is None:
        raise ServiceError(gettext("unknown organisation %(code)s") % {"code": repr(code)}, field)
    return org


def _changes(payload: Any, nullable: Iterable[str] = ()) -> dict[str, Any]:
    """The fields a PATCH sent, with labels parsed; ``null`` refused except for the fields that may be cleared."""
    allowed_null = set(nullable)
    changes: dict[str, Any] = {}
    for name in sorted(payload.model_fields_set):
        value = getattr(payload, name)
        if value is None and name not in allowed_null:
            raise ServiceError(gettext("%(field)s cannot be null; leave it out to keep its value") % {"field": name},
                               name)
        changes[name] = value.to_label() if name == "label" and value is not None else value
    return changes


def _utc(value: datetime | None, default: datetime) -> datetime:
    """Query datetimes: with an offset they are that instant; without one they are UTC."""
    if value is None:
        return default
    return value.replace(tzinfo=UTC) if value.tzinfo is None or value.utcoffset() is None else value.astimezone(UTC)


def _window(start: datetime | None, end: datetime | None, span: timedelta) -> tuple[datetime, datetime]:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    low = _utc(start, today)
    high = _utc(end, low + span)
    if high <= low:
        raise ServiceError(gettext("end must be after start"), "end")
    if high - low > MAX_RANGE:
        raise ServiceError(gettext("the range may span at most %(days)d days") % {"days": MAX_RANGE.days}, "end")
    return low, high


# --- helpers: output ------------------------------------------------------------------------------------------------

def _meetings_out(user: User, meetings: list[Meeting]) -> list[dict[str, Any]]:
    prefetch_related_objects(meetings, "originator", "created_by", "series", "label")
    series_ok = _visible_pks(Series, subject_for(user), (m.series_id for m in meetings))
    return [meeting_out(m, m.series_id in series_ok) for m in meetings]


def _meeting_detail(user: User, meeting: Meeting) -> dict[str, Any]:
    prefetch_related_objects([meeting], "originator", "created_by", "series", "label")
    series_visible = bool(_visible_pks(Series, subject_for(user), [meeting.series_id]))
    attendees = list(meeting.attendees.select_related("user").order_by("user__username"))
    nations = queries.participating_nations(meeting, meeting.series if series_visible else None, attendees)
    rows = local_times_for(meeting.start, meeting.end, meeting.time_zone, nations)
    return {
        **meeting_out(meeting, series_visible),
        "attendees": [attendee_out(a) for a in attendees],
        "local_times": [local_time_out(r) for r in rows],
        "may_organise": queries.may_organise(user, meeting),
    }


def _actions_out(user: User, actions: list[ActionItem]) -> list[dict[str, Any]]:
    subject = subject_for(user)
    prefetch_related_objects(actions, "label", "meeting", "series", "owner_user", "owner_organisation")
    meetings_ok = _visible_pks(Meeting, subject, (a.meeting_id for a in actions))
    series_ok = _visible_pks(Series, subject, (a.series_id for a in actions))
    items_ok = _items_ok(user, (a.agenda_item_id for a in actions))
    result = []
    for action in actions:
        data = action_out(action, queries.is_overdue(action), action.meeting_id in meetings_ok,
                          action.series_id in series_ok)
        if action.agenda_item_id not in items_ok:
            data["agenda_item"] = None
        result.append(data)
    return result


def _agenda(user: User, meeting: Meeting, request: HttpRequest) -> dict[str, Any]:
    items = queries.agenda_for(user, meeting)
    published = meeting.agenda_published_at is not None
    # The review of actions is part of the agenda: a draft shows it only to those who may read drafts.
    review = queries.review_of_actions(user, meeting) if published or queries.may_read_drafts(user, meeting) else []
    linked = queries.linked_reports(user, items)
    # Numbered among what the caller may see: a hidden item before one leaves no gap.
    out_items = [agenda_item_out(i, [{"id": r.pk, "title": r.title} for r in linked.get(i.pk, [])], position)
                 for position, i in enumerate(items, start=1)]
    _audit(user, "read", "agenda_item", items, request, {"meeting": meeting.pk})
    _audit(user, "read", "action", review, request, {"meeting": meeting.pk, "review": True})
    return {"meeting": meeting.pk, "published": published, "published_at": meeting.agenda_published_at,
            "items": out_items, "review_of_actions": _actions_out(user, review)}


def _minutes(user: User, meeting: Meeting, request: HttpRequest) -> dict[str, Any]:
    parts = queries.minutes_for(user, meeting)
    decisions = queries.decisions_for(user, meeting)
    written: list[MinutesPart | Decision] = [*parts, *decisions]
    items_ok = _items_ok(user, [r.agenda_item_id for r in written])

    def out(record: MinutesPart | Decision, position: int) -> dict[str, Any]:
        # An item the reader may not see is not even pointed at; numbered among what the reader may see.
        return written_out(record, position, record.agenda_item_id in items_ok)

    _audit(user, "read", "minutes_part", parts, request, {"meeting": meeting.pk})
    _audit(user, "read", "decision", decisions, request, {"meeting": meeting.pk})
    return {"meeting": meeting.pk, "published": meeting.minutes_published_at is not None,
            "published_at": meeting.minutes_published_at,
            "parts": [out(p, n) for n, p in enumerate(parts, start=1)],
            "decisions": [out(d, n) for n, d in enumerate(decisions, start=1)]}


def _publication(request: HttpRequest, id: int, write: Callable[[User, Meeting, str], Meeting],
                 answer: Callable[[User, Meeting, HttpRequest], dict[str, Any]]) -> dict[str, Any]:
    """Publish the agenda or the minutes (or take them back to draft), then answer them as the caller now reads them."""
    user = caller(request)
    write(user, queries.get_meeting_or_404(user, id), client_address(request))
    return answer(user, queries.get_meeting_or_404(user, id), request)


# --- series ---------------------------------------------------------------------------------------------------------

@router.get("/series", response={200: SeriesPage, **ERRORS}, summary="List series the caller may see")
def series_list(request: HttpRequest, limit: int = 25, cursor: str | None = None) -> dict[str, Any]:
    """Newest first, keyset-paginated: pass ``next_cursor`` back as ``cursor`` until it is null. No total count."""
    user = caller(request)
    qs: Any = Series.objects.visible_to(subject_for(user)).select_related("label", "originator", "chair", "created_by")
    page = keyset_page(qs, cursor or None, limit)
    _audit(user, "list", "series", page.items, request)
    return {"items": [series_out(s) for s in page.items], "next_cursor": page.next_cursor}


@router.post("/series", response={201: SeriesOut, **ERRORS}, summary="Create a series")
def series_create(request: HttpRequest, payload: SeriesIn) -> Status[dict[str, Any]]:
    """The cadence is one RFC 5545 RRULE evaluated in the wall-clock time of ``time_zone`` from ``first_date`` at
    ``start_time``. The label must be one the caller could see, and the chair must be able to see it."""
    user = caller(request)
    data = services.SeriesInput(
        title=payload.title, label=payload.label.to_label(), time_zone=payload.time_zone, rrule=payload.rrule,
        first_date=payload.first_date, start_time=payload.start_time, duration_minutes=payload.duration_minutes,
        focus_areas=list(payload.focus_areas), nations=list(payload.nations), chair=_user_ref(payload.chair, "chair"),
    )
    series = services.do_create_series(user, data, client_address(request))
    return Status(201, series_out(queries.get_series_or_404(user, series.pk)))


@router.get("/series/{id}", response={200: SeriesOut, **ERRORS}, summary="Read one series")
def series_read(request: HttpRequest, id: int) -> dict[str, Any]:
    user = caller(request)
    series = queries.get_series_or_404(user, id)
    _audit(user, "read", "series", [series], request)
    return series_out(series)


@router.patch("/series/{id}", response={200: SeriesOut, **ERRORS}, summary="Change some fields of a series")
def series_update(request: HttpRequest, id: int, payload: SeriesPatch) -> dict[str, Any]:
    """Only the fields sent change; the originating organisation, a coordinator of its nation or the chair may."""
    user = caller(request)
    series = queries.get_series_or_404(user, id)
    changes = _changes(payload, nullable=("chair", "first_date", "start_time"))
    if "chair" in changes:
        changes["chair"] = _user_ref(changes["chair"], "chair")
    services.do_update_series(user, series, client_address(request), **changes)
    return series_out(queries.get_series_or_404(user, id))


@router.get("/series/{id}/occurrences", response={200: list[OccurrenceOut], **ERRORS},
            summary="Occurrences of the series' cadence")
def series_occurrences(request: HttpRequest, id: int, start: datetime | None = None,
                       end: datetime | None = None) -> list[dict[str, Any]]:
    """Occurrences starting in [start, end) as UTC instants (at most 2,000), computed in the home zone's wall-clock
    time. Without an offset, start and end are read as UTC; by default the year from today."""
    user = caller(request)
    series = queries.get_series_or_404(user, id)
    low, high = _window(start, end, timedelta(days=365))
    _audit(user, "read", "series", [series], request, {"occurrences": True})
    return [{"start": s, "end": e} for s, e in recurrence.occurrences(series, low, high)]


@router.get("/series/{id}/actions", response={200: list[ActionOut], **ERRORS}, summary="Open actions of a series")
def series_actions(request: HttpRequest, id: int) -> list[dict[str, Any]]:
    """Open and in-progress actions of the series the caller may see, by due date (none last)."""
    user = caller(request)
    series = queries.get_series_or_404(user, id)
    actions = list(ActionItem.objects.visible_to(subject_for(user))
                   .filter(series=series, status__in=["open", "in_progress"])
                   .select_related("label", "meeting", "series", "owner_user", "owner_organisation")
                   .order_by("due", "id"))
    actions.sort(key=lambda a: (a.due is None, a.due or datetime.min.date(), a.pk))
    _audit(user, "read", "action", actions, request, {"series": series.pk})
    return _actions_out(user, actions)


# --- meetings -------------------------------------------------------------------------------------------------------

@router.get("/meetings", response={200: MeetingList, **ERRORS}, summary="Meetings in a time range")
def meeting_list(request: HttpRequest, start: datetime | None = None, end: datetime | None = None,
                 series: int | None = None, include_cancelled: bool = True) -> dict[str, Any]:
    """Visible meetings overlapping [start, end), by start; without an offset, start and end are UTC. By default the
    31 days from today; at most 400 days. ``series`` limits the list to one series."""
    user = caller(request)
    low, high = _window(start, end, timedelta(days=31))
    subject = subject_for(user)
    if series is not None and not _visible_pks(Series, subject, [series]):
        return {"items": []}  # a series the caller may not see lists like one that does not exist
    meetings = queries.calendar_range(subject, low, high, series_id=series, include_cancelled=include_cancelled)
    _audit(user, "list", "meeting", meetings, request)
    return {"items": _meetings_out(user, meetings)}


@router.post("/meetings", response={201: MeetingDetailOut, **ERRORS}, summary="Create a meeting")
def meeting_create(request: HttpRequest, payload: MeetingIn) -> Status[dict[str, Any]]:
    """``start``/``end`` with an offset are those instants; without one they are wall-clock time in ``time_zone``.
    Attendees are usernames; each must be able to see the label (otherwise 400, field ``attendees``)."""
    user = caller(request)
    data = services.MeetingInput(
        title=payload.title, label=payload.label.to_label(), start=payload.start, end=payload.end,
        time_zone=payload.time_zone, mode=payload.mode, place=payload.place, link=payload.link,
        series=_series_ref(user, payload.series), attendees=_users(payload.attendees, "attendees"),
    )
    meeting = services.do_create_meeting(user, data, client_address(request))
    return Status(201, _meeting_detail(user, queries.get_meeting_or_404(user, meeting.pk)))


# {int:id} on the three /meetings/{id}... paths that differ only by a suffix: a plain {id} (Django's str converter)
# would take "5.ics" as the id of a meeting and answer 400 instead of the calendar file.
@router.get("/meetings/{int:id}", response={200: MeetingDetailOut, **ERRORS}, summary="Read one meeting")
def meeting_read(request: HttpRequest, id: int) -> dict[str, Any]:
    """With its attendees and their answers, and the local start and end in each participating nation's capital
    (the series' nations, then the attendees')."""
    user = caller(request)
    meeting = queries.get_meeting_or_404(user, id)
    _audit(user, "read", "meeting", [meeting], request)
    return _meeting_detail(user, meeting)


@router.patch("/meetings/{int:id}", response={200: MeetingDetailOut, **ERRORS},
              summary="Change some fields of a meeting")
def meeting_update(request: HttpRequest, id: int, payload: MeetingPatch) -> dict[str, Any]:
    """Only the fields sent change; ``attendees`` replaces the list. The UID stays, the SEQUENCE rises."""
    user = caller(request)
    meeting = queries.get_meeting_or_404(user, id)
    changes = _changes(payload, nullable=("series",))
    if "series" in changes:
        changes["series"] = _series_ref(user, changes["series"])
    if "attendees" in changes:
        changes["attendees"] = _users(changes["attendees"], "attendees")
    services.do_update_meeting(user, meeting, client_address(request), **changes)
    return _meeting_detail(user, queries.get_meeting_or_404(user, id))


@router.post("/meetings/{id}/cancel", response={200: MeetingDetailOut, **ERRORS}, summary="Cancel a meeting")
def meeting_cancel(request: HttpRequest, id: int, payload: CancelIn) -> dict[str, Any]:
    """The meeting stays, with status cancelled and a higher SEQUENCE, so calendars learn of it."""
    user = caller(request)
    services.do_cancel_meeting(user, queries.get_meeting_or_404(user, id), payload.reason, client_address(request))
    return _meeting_detail(user, queries.get_meeting_or_404(user, id))


@router.get("/meetings/{int:id}.ics", response={**ERRORS}, openapi_extra=_ICS_DOC, summary="The meeting as iCalendar")
def meeting_ics(request: HttpRequest, id: int) -> HttpResponse:
    """One VEVENT with its stable UID and SEQUENCE, times in the home zone with its VTIMEZONE, the label's marking in
    the summary; a cancelled meeting is published as cancelled."""
    user = caller(request)
    meeting = queries.get_meeting_or_404(user, id)
    audit.record(user.username, "download", "meeting", [meeting.pk], meeting.label_id, client_address(request),
                 {"format": "ics"})
    response = HttpResponse(ics.ics_for(meeting), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}.ics"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@router.post("/meetings/{id}/rsvp", response={200: AttendeeOut, **ERRORS}, summary="Answer an invitation")
def meeting_rsvp(request: HttpRequest, id: int, payload: RsvpIn) -> dict[str, Any]:
    """The caller's own answer: accepted, tentative, declined (or pending). Only invited attendees may answer."""
    user = caller(request)
    attendee = services.do_rsvp(user, queries.get_meeting_or_404(user, id), payload.answer, client_address(request))
    return {"username": user.username, "rsvp": attendee.rsvp}


# --- agenda ---------------------------------------------------------------------------------------------------------

@router.get("/meetings/{id}/agenda", response={200: AgendaOut, **ERRORS}, summary="The agenda of a meeting")
def agenda_read(request: HttpRequest, id: int) -> dict[str, Any]:
    """The items the caller may see, in order, and the automatic "review of actions" (the series' open actions). A
    draft agenda is read by the organisers only: anyone else gets an empty agenda with ``published`` false."""
    user = caller(request)
    return _agenda(user, queries.get_meeting_or_404(user, id), request)


@router.post("/meetings/{id}/agenda/items", response={201: AgendaItemOut, **ERRORS}, summary="Add an agenda item")
def agenda_item_create(request: HttpRequest, id: int, payload: AgendaItemIn) -> Status[dict[str, Any]]:
    """Appended at the end unless ``order`` is given. Linked reports must be reports the caller may see."""
    user = caller(request)
    meeting = queries.get_meeting_or_404(user, id)
    reports = sorted(queries.visible_reports(user, payload.reports), key=lambda r: r.pk)
    item = services.do_add_agenda_item(
        user, meeting, payload.title, payload.label.to_label(), presenter=payload.presenter,
        duration_minutes=payload.duration_minutes, order=payload.order, reports=reports,
        address=client_address(request),
    )
    item = queries.get_agenda_item_or_404(user, item.pk)
    return Status(201, agenda_item_out(item, [{"id": r.pk, "title": r.title} for r in reports],
                                       queries.position_for(user, item)))


@router.patch("/agenda-items/{id}", response={200: AgendaItemOut, **ERRORS}, summary="Change an agenda item")
def agenda_item_update(request: HttpRequest, id: int, payload: AgendaItemPatch) -> dict[str, Any]:
    """Only the fields sent change; ``reports`` replaces the linked reports."""
    user = caller(request)
    item = queries.get_agenda_item_or_404(user, id)
    changes = _changes(payload)
    if "reports" in changes:
        changes["reports"] = queries.visible_reports(user, changes["reports"])
    services.do_update_agenda_item(user, item, client_address(request), **changes)
    item = queries.get_agenda_item_or_404(user, id)
    linked = queries.linked_reports(user, [item]).get(item.pk, [])
    return agenda_item_out(item, [{"id": r.pk, "title": r.title} for r in linked], queries.position_for(user, item))


@router.delete("/agenda-items/{id}", response={204: None, **ERRORS}, summary="Remove an agenda item")
def agenda_item_delete(request: HttpRequest, id: int) -> Status[None]:
    user = caller(request)
    services.do_delete_agenda_item(user, queries.get_agenda_item_or_404(user, id), client_address(request))
    return Status(204, None)


@router.post("/meetings/{id}/agenda/publish", response={200: AgendaOut, **ERRORS}, summary="Publish the agenda")
def agenda_publish(request: HttpRequest, id: int) -> dict[str, Any]:
    """From now on whoever may see the meeting reads the agenda items they may see; attendees are notified."""
    return _publication(request, id, services.do_publish_agenda, _agenda)


@router.post("/meetings/{id}/agenda/unpublish", response={200: AgendaOut, **ERRORS},
             summary="Take the agenda back to draft")
def agenda_unpublish(request: HttpRequest, id: int) -> dict[str, Any]:
    return _publication(request, id, services.do_unpublish_agenda, _agenda)


# --- minutes and decisions ------------------------------------------------------------------------------------------

Written = type[MinutesPart] | type[Decision]


def _written_create(request: HttpRequest, meeting_id: int, payload: MinutesPartIn | DecisionIn, model: Written,
                    write: Callable[..., MinutesPart | Decision]) -> dict[str, Any]:
    """Write a minutes part or a decision on a meeting; the record as the caller now reads it."""
    user = caller(request)
    meeting = queries.get_meeting_or_404(user, meeting_id)
    record = write(user, meeting, payload.text, payload.label.to_label(),
                   _agenda_item_ref(user, meeting.pk, payload.agenda_item), client_address(request))
    return _written(user, queries.get_written_or_404(user, model, record.pk))


def _written_update(request: HttpRequest, id: int, payload: MinutesPartPatch | DecisionPatch, model: Written,
                    update: Callable[..., MinutesPart | Decision]) -> dict[str, Any]:
    """Change the fields sent of a minutes part or a decision; the record as the caller now reads it."""
    user = caller(request)
    record = queries.get_written_or_404(user, model, id)
    changes = _changes(payload, nullable=("agenda_item",))
    if "agenda_item" in changes:
        changes["agenda_item"] = _agenda_item_ref(user, record.meeting_id, changes["agenda_item"])
    update(user, record, client_address(request), **changes)
    return _written(user, queries.get_written_or_404(user, model, id))


def _written_delete(request: HttpRequest, id: int, model: Written, delete: Callable[..., None]) -> Status[None]:
    user = caller(request)
    delete(user, queries.get_written_or_404(user, model, id), client_address(request))
    return Status(204, None)


@router.get("/meetings/{id}/minutes", response={200: MinutesOut, **ERRORS}, summary="Minutes and decisions")
def minutes_read(request: HttpRequest, id: int) -> dict[str, Any]:
    """The parts and decisions the caller may see, each by its own label. Draft minutes are read by the organisers
    only: anyone else gets empty lists with ``published`` false."""
    user = caller(request)
    return _minutes(user, queries.get_meeting_or_404(user, id), request)


@router.post("/meetings/{id}/minutes/parts", response={201: MinutesPartOut, **ERRORS},
             summary="Write a part of the minutes")
def minutes_part_create(request: HttpRequest, id: int, payload: MinutesPartIn) -> Status[dict[str, Any]]:
    """Markdown, about one agenda item (``agenda_item``) or the meeting as a whole; its own label."""
    return Status(201, _written_create(request, id, payload, MinutesPart, services.do_add_minutes))


@router.patch("/minutes-parts/{id}", response={200: MinutesPartOut, **ERRORS}, summary="Change a part of the minutes")
def minutes_part_update(request: HttpRequest, id: int, payload: MinutesPartPatch) -> dict[str, Any]:
    return _written_update(request, id, payload, MinutesPart, services.do_update_minutes)


@router.delete("/minutes-parts/{id}", response={204: None, **ERRORS}, summary="Remove a part of the minutes")
def minutes_part_delete(request: HttpRequest, id: int) -> Status[None]:
    return _written_delete(request, id, MinutesPart, services.do_delete_minutes)


@router.post("/meetings/{id}/decisions", response={201: DecisionOut, **ERRORS}, summary="Record a decision")
def decision_create(request: HttpRequest, id: int, payload: DecisionIn) -> Status[dict[str, Any]]:
    return Status(201, _written_create(request, id, payload, Decision, services.do_record_decision))


@router.patch("/decisions/{id}", response={200: DecisionOut, **ERRORS}, summary="Change a decision")
def decision_update(request: HttpRequest, id: int, payload: DecisionPatch) -> dict[str, Any]:
    return _written_update(request, id, payload, Decision, services.do_update_decision)


@router.delete("/decisions/{id}", response={204: None, **ERRORS}, summary="Remove a decision")
def decision_delete(request: HttpRequest, id: int) -> Status[None]:
    return _written_delete(request, id, Decision, services.do_delete_decision)


@router.post("/meetings/{id}/minutes/publish", response={200: MinutesOut, **ERRORS}, summary="Publish the minutes")
def minutes_publish(request: HttpRequest, id: int) -> dict[str, Any]:
    return _publication(request, id, services.do_publish_minutes, _minutes)


@router.post("/meetings/{id}/minutes/unpublish", response={200: MinutesOut, **ERRORS},
             summary="Take the minutes back to draft")
def minutes_unpublish(request: HttpRequest, id: int) -> dict[str, Any]:
    return _publication(request, id, services.do_unpublish_minutes, _minutes)


# --- actions --------------------------------------------------------------------------------------------------------

@router.get("/actions", response={200: ActionPage, **ERRORS}, summary="My actions")
def action_list(request: HttpRequest, state: Literal["open", "overdue", "done", "all"] = "open", limit: int = 50,
                cursor: str | None = None) -> dict[str, Any]:
    """Actions owned by the caller or the caller's organisation that the caller may see, by due date (none last).
    ``state``: open (open and in progress), overdue, done (done and dropped) or all. Keyset-paginated, no count."""
    user = caller(request)
    if not 1 <= limit <= 200:
        raise ServiceError(gettext("limit must be between 1 and %(max)d") % {"max": 200}, "limit")
    page = queries.my_actions(user, state=state, cursor=cursor or None, limit=limit)
    _audit(user, "list", "action", page.items, request)
    return {"items": _actions_out(user, page.items), "next_cursor": page.next_cursor}


@router.post("/actions", response={201: ActionOut, **ERRORS}, summary="Record an action")
def action_create(request: HttpRequest, payload: ActionIn) -> Status[dict[str, Any]]:
    """Arising from a meeting and/or a series the caller organises; owned by one person (``owner_user``, who must be
    able to see the label) or one organisation (``owner_organisation``)."""
    user = caller(request)
    meeting = _meeting_ref(user, payload.meeting)
    action = services.do_create_action(
        user, payload.title, payload.label.to_label(), meeting=meeting,
        series=_series_ref(user, payload.series), owner_user=_user_ref(payload.owner_user, "owner_user"),
        owner_organisation=_organisation_ref(payload.owner_organisation), due=payload.due,
        agenda_item=_agenda_item_ref(user, meeting.pk if meeting else None, payload.agenda_item),
        notes=payload.notes, address=client_address(request),
    )
    return Status(201, _actions_out(user, [queries.get_action_or_404(user, action.pk)])[0])


@router.get("/actions/{id}", response={200: ActionOut, **ERRORS}, summary="Read one action")
def action_read(request: HttpRequest, id: int) -> dict[str, Any]:
    user = caller(request)
    action = queries.get_action_or_404(user, id)
    _audit(user, "read", "action", [action], request)
    return _actions_out(user, [action])[0]


@router.patch("/actions/{id}", response={200: ActionOut, **ERRORS}, summary="Change an action")
def action_update(request: HttpRequest, id: int, payload: ActionPatch) -> dict[str, Any]:
    """The owner may move the status (and write notes); the organisers may change everything. Sending one owner
    replaces the other."""
    user = caller(request)
    action = queries.get_action_or_404(user, id)
    changes = _changes(payload, nullable=("due", "agenda_item"))
    if "owner_user" in changes:
        changes["owner_user"] = _user_ref(changes["owner_user"], "owner_user")
        changes.setdefault("owner_organisation", None)
    elif "owner_organisation" in changes:
        changes["owner_user"] = None
    if "owner_organisation" in changes and changes["owner_organisation"] is not None:
        changes["owner_organisation"] = _organisation_ref(changes["owner_organisation"])
    if "agenda_item" in changes:
        changes["agenda_item"] = _agenda_item_ref(user, action.meeting_id, changes["agenda_item"])
    services.do_update_action(user, action, client_address(request), **changes)
    return _actions_out(user, [queries.get_action_or_404(user, id)])[0]


# --- scheduling -----------------------------------------------------------------------------------------------------

def _hours(payload: ScheduleIn) -> dict[str, WorkingHours]:
    result: dict[str, WorkingHours] = {}
    for nation, hours in (payload.hours or {}).items():
        if nation not in CAPITALS:
            raise ServiceError(gettext("unknown nation %(code)s in hours") % {"code": repr(nation)}, "hours")
        if hours.end <= hours.start:
            raise ServiceError(gettext("working hours must end after they start"), "hours")
        if not hours.weekdays or any(not 0 <= d <= 6 for d in hours.weekdays):
            raise ServiceError(gettext("weekdays are numbers from 0 (Monday) to 6 (Sunday)"), "hours")
        result[nation] = WorkingHours(time(hours.start.hour, hours.start.minute),
                                      time(hours.end.hour, hours.end.minute), frozenset(hours.weekdays))
    return result


def _schedule_field(message: str) -> str | None:
    for words, field in (("duration", "duration_minutes"), ("step", "step_minutes"), ("range", "last_day"),
                         ("participant", "nations")):
        if words in message:
            return field
    return None


MAX_SLOT_MINUTES = 24 * 60


@router.post("/schedule", response={200: ScheduleOut, **ERRORS}, summary="Propose meeting slots")
def schedule(request: HttpRequest, payload: ScheduleIn) -> dict[str, Any]:
    """Slots of ``duration_minutes`` every ``step_minutes`` (UTC) from ``first_day`` to ``last_day`` (at most 93
    days), ranked by how far outside working hours (08:00-18:00 Monday to Friday unless ``hours`` says otherwise, not
    on a public holiday) they fall for each nation: the sum of each nation's minutes outside, squared (an hour deeper
    into the night weighs more), then the minutes outside in all (``cost``), then earliest; the best two
    non-overlapping slots of each UTC day come first. Each slot says who would be outside, why
    and by how many minutes. ``offset`` and ``limit`` page through all ``total`` slots."""
    caller(request)
    if not 1 <= payload.limit <= MAX_SLOTS:
        raise ServiceError(gettext("limit must be between 1 and %(max)d") % {"max": MAX_SLOTS}, "limit")
    if not payload.nations:
        raise ServiceError(gettext("at least one nation is needed"), "nations")
    # Checked before any timedelta is made: a huge number of minutes overflows timedelta itself (an OverflowError).
    if not 1 <= payload.duration_minutes <= MAX_SLOT_MINUTES:
        raise ServiceError(gettext("the duration must be more than 0 and at most 24 hours"), "duration_minutes")
    if not 5 <= payload.step_minutes <= MAX_SLOT_MINUTES:
        raise ServiceError(gettext("the step must be at least 5 minutes and at most 24 hours"), "step_minutes")
    if payload.offset < 0:
        raise ServiceError(gettext("offset must not be negative"), "offset")
    hours = _hours(payload)
    try:
        slots = propose_slots(list(dict.fromkeys(payload.nations)), timedelta(minutes=payload.duration_minutes),
                              payload.first_day, payload.last_day, step=timedelta(minutes=payload.step_minutes),
                              hours=hours)
    except UnknownNation as exc:
        raise ServiceError(str(exc), "nations") from None
    except ValueError as exc:
        raise ServiceError(str(exc), _schedule_field(str(exc))) from None
    page = slots[payload.offset:payload.offset + payload.limit]
    return {"participants": len(set(payload.nations)), "total": len(slots), "slots": [slot_out(s) for s in page]}

