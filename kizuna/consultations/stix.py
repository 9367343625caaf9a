"""The STIX 2.1 form of consultation records, both ways, as pure functions: six new SDO types (series, meeting, agenda
item, minutes part, decision, action) declared by ONE extension-definition of our own — no core type fits: STIX has no
meeting, agenda or action, and its ``note``/``report`` would lose the start and end, the time zone, the owner, the
status and the references between the records.

Out: ``to_stix(record)`` is the record's form as it is now. Each record has its own label, so each is its own object;
records point at each other by reference (``series_ref``, ``meeting_ref``, ``agenda_item_ref``). A reference is
present only when the target's label dominates the referrer's (``kizuna.core.access.label_dominates``) and the target
is shared (``is_shared``: agenda items only while their meeting's agenda is published, minutes parts and decisions
only while its minutes are), and ``order`` counts only the siblings every reader of the record may see. Attendees are
local accounts: only their number, by answer, travels.

In: ``fields_from_stix`` reads the model fields a received object carries, references resolved by ``Resolver`` among
the copies received from the same originator.

Nothing here writes: storing forms in the threat store (and revoking them), and turning received objects into local
read-only rows, are the services' (``kizuna.consultations.services.sharing``: ``do_publish``, ``do_receive``). The
extension-definition's id is fixed and it is created by Kizuna's identity, so it is the same object on every node.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db.models import Model, Q

from kizuna.consultations.models import (
    ActionItem,
    ActionStatus,
    AgendaItem,
    Decision,
    Meeting,
    MeetingMode,
    MeetingStatus,
    MinutesPart,
    Rsvp,
    Series,
)
from kizuna.consultations.recurrence import parse_rrule
from kizuna.consultations.timezones import is_known_zone
from kizuna.core.access import label_dominates, label_of, nation_groups
from kizuna.core.errors import ServiceError
from kizuna.core.focus import FocusArea
from kizuna.directory.models import Organisation
from kizuna.stix.definitions import extension_definition
from kizuna.stix.timestamps import format_timestamp, parse_timestamp_or_none

Record = Series | Meeting | AgendaItem | MinutesPart | Decision | ActionItem
CONSULTATION_EXTENSION_ID = "extension-definition--c0a5c1d2-6e7f-4a8b-9c3d-6b697a75636f"
SERIES_TYPE = "kizuna-consultation-series"
MEETING_TYPE = "kizuna-meeting"
AGENDA_ITEM_TYPE = "kizuna-agenda-item"
MINUTES_TYPE = "kizuna-minutes"
DECISION_TYPE = "kizuna-decision"
ACTION_TYPE = "kizuna-action"
TYPE_OF: dict[type[Model], str] = {
    Series: SERIES_TYPE, Meeting: MEETING_TYPE, AgendaItem: AGENDA_ITEM_TYPE, MinutesPart: MINUTES_TYPE,
    Decision: DECISION_TYPE, ActionItem: ACTION_TYPE,
}
MODEL_OF: dict[str, Any] = {t: m for m, t in TYPE_OF.items()}  # Any: each is a Labelled model with uuid and stix_id
# Parents before children: a page's records are applied in this order, so references resolve within one page.
TYPES = [SERIES_TYPE, MEETING_TYPE, AGENDA_ITEM_TYPE, MINUTES_TYPE, DECISION_TYPE, ACTION_TYPE]
# The types that may point at a record of each type (by series_ref, meeting_ref, agenda_item_ref).
CHILDREN: dict[str, list[str]] = {
    SERIES_TYPE: [MEETING_TYPE, ACTION_TYPE],
    MEETING_TYPE: [AGENDA_ITEM_TYPE, MINUTES_TYPE, DECISION_TYPE, ACTION_TYPE],
    AGENDA_ITEM_TYPE: [MINUTES_TYPE, DECISION_TYPE, ACTION_TYPE],
}
MAX_TITLE = 300
_DATE = re.compile(r"^\d{4}-\d\d-\d\d$")
_CLOCK = re.compile(r"^\d\d:\d\d(:\d\d)?$")
_NATION = re.compile(r"^[A-Z0-9]{2,8}$")


def consultation_extension_definition() -> dict[str, Any]:
    """The extension-definition that declares the six consultation object types (the same object on every node)."""
    return extension_definition(
        CONSULTATION_EXTENSION_ID, "Kizuna consultations",
        (
            "New SDOs for the consultation cycle shared between Kizuna nodes. "
            f"{SERIES_TYPE}: name, focus_areas, nations (ISO alpha-3), rrule (RFC 5545, in the wall-clock time of "
            "time_zone), time_zone (IANA), first_date, local_start_time, duration_minutes. "
            f"{MEETING_TYPE}: name, series_ref, start_time and end_time (UTC), time_zone (the home IANA zone), mode "
            "(in_person, virtual, hybrid), place, link, status (scheduled, cancelled), cancel_reason, ical_uid and "
            "ical_sequence (RFC 5545 UID and SEQUENCE), agenda_published and minutes_published (when, absent while "
            "a draft), attendee_counts (by answer; attendees themselves are not shared). "
            f"{AGENDA_ITEM_TYPE}: meeting_ref, order, name, presenter, duration_minutes. "
            f"{MINUTES_TYPE} and {DECISION_TYPE}: meeting_ref, agenda_item_ref (optional), order, text (Markdown; "
            "render it sanitised), text_format (\"markdown\"). "
            f"{ACTION_TYPE}: name, meeting_ref and/or series_ref, agenda_item_ref, owner_kind (organisation, person), "
            "owner_organisation (an organisation code; for a person, their organisation), due (a date), status "
            "(open, in_progress, done, dropped), completed, notes (Markdown). "
            "A deleted record is revoked. Each object's Kizuna label marking says who may see it; receivers must "
            "enforce it, and must keep draft rules: agenda items and minutes exist only once published."),
        "kizuna-consultations", ["new-sdo"],
    )


# ---- helpers ---------------------------------------------------------------------------------------------------------


def is_received(record: Record) -> bool:
    """True for a read-only copy received from a peer: local write services must refuse to change it (only its
    originating node issues new versions; a local change would never reach anyone and be overwritten)."""
    return bool(record.stix_id)


def stix_id_of(record: Record) -> str:
    """The record's STIX id: its own on a received copy, else made from its uuid (the same for the record's life)."""
    return record.stix_id or f"{TYPE_OF[type(record)]}--{record.uuid}"


Groups = dict[str, frozenset[str]]


def is_shared(record: Record) -> bool:
    """Whether the record may leave its drafts: agenda items once the agenda is published, minutes parts and
    decisions once the minutes are; the others always. Read from the database (the caller's meeting may be stale)."""
    if isinstance(record, AgendaItem):
        field = "agenda_published_at"
    elif isinstance(record, MinutesPart | Decision):
        field = "minutes_published_at"
    else:
        return True
    return Meeting.objects.filter(pk=record.meeting_id).exclude(**{f"{field}__isnull": True}).exists()


def _refer(target: Record | None, referrer: Record, groups: Groups) -> str | None:
    """The reference to ``target`` in ``referrer``'s STIX form, or None (left out) unless every reader of the referrer
    may see the target (its label dominates the referrer's) and the target is shared (an agenda item of a draft
    agenda is not): a stored form never points past its own label, nor at what was never shared."""
    if target is None or not is_shared(target):
        return None
    if not label_dominates(label_of(target.label), label_of(referrer.label), groups):
        return None
    return stix_id_of(target)


def siblings(record: AgendaItem | MinutesPart | Decision) -> Any:
    return type(record)._default_manager.filter(meeting_id=record.meeting_id)


def _position(record: AgendaItem | MinutesPart | Decision, groups: Groups) -> int:
    """The record's place among its meeting's records of its kind that every reader of the record may see (whose
    label dominates the record's): a hidden one before it does not move it down. Ties in ``order`` by id."""
    own = label_of(record.label)
    before = (siblings(record).exclude(pk=record.pk)
              .filter(Q(order__lt=record.order) | Q(order=record.order, pk__lt=record.pk)).select_related("label"))
    return 1 + sum(1 for sibling in before if label_dominates(label_of(sibling.label), own, groups))


def _common(record: Record, **properties: Any) -> dict[str, Any]:
    from kizuna.threats.watch.services import organisation_identity_id  # the identity an organisation has everywhere

    obj: dict[str, Any] = {
        "type": TYPE_OF[type(record)], "spec_version": "2.1", "id": stix_id_of(record),
        "created_by_ref": organisation_identity_id(record.originator),
        "created": format_timestamp(record.created_at), "modified": format_timestamp(record.updated_at),
    }
    # References and optional values that are not set are left out (STIX: absent, never null or empty).
    obj.update({k: v for k, v in properties.items() if v is not None and v != "" and v != []})
    obj["extensions"] = {CONSULTATION_EXTENSION_ID: {"extension_type": "new-sdo"}}
    return obj


def _attendee_counts(meeting: Meeting) -> dict[str, int]:
    counts = {answer: 0 for answer in Rsvp.values}
    for answer in meeting.attendees.values_list("rsvp", flat=True):
        counts[answer] = counts.get(answer, 0) + 1
    return {"total": sum(counts.values()), **counts}


# ---- out -------------------------------------------------------------------------------------------------------------


def to_stix(record: Record, groups: Groups | None = None) -> dict[str, Any]:
    """The STIX form of the record as it is now (without label marking or signature: TAXII serving adds both).
    References (``*_ref``) are present only when the target's label dominates the record's, and ``order`` is the
    position among the siblings every reader of the record may see (``groups``: the directory's nation groups, read
    once per publication)."""
    groups = nation_groups() if groups is None else groups

    def _ref(target: Record | None) -> str | None:
        return _refer(target, record, groups)

    if isinstance(record, Series):
        return _common(
            record, name=record.title, focus_areas=sorted(record.focus_areas or []),
            nations=sorted(record.nations or []), rrule=record.rrule, time_zone=record.time_zone,
            first_date=record.first_date.isoformat() if record.first_date else None,
            local_start_time=record.start_time.strftime("%H:%M") if record.start_time else None,
            duration_minutes=record.duration_minutes)
    if isinstance(record, Meeting):
        return _common(
            record, name=record.title, series_ref=_ref(record.series), start_time=format_timestamp(record.start),
            end_time=format_timestamp(record.end), time_zone=record.time_zone, mode=record.mode, place=record.place,
            link=record.link, status=record.status,
            cancel_reason=record.cancel_reason if record.status == MeetingStatus.CANCELLED else None,
            ical_uid=record.uid, ical_sequence=record.sequence,
            agenda_published=format_timestamp(record.agenda_published_at) if record.agenda_published_at else None,
            minutes_published=format_timestamp(record.minutes_published_at) if record.minutes_published_at else None,
            attendee_counts=_attendee_counts(record))
    if isinstance(record, AgendaItem):
        # Linked reports do not travel as references: a reference would tell a reader of the item that a report
        # exists which they may not be allowed to see. Reports travel on their own, under their own labels.
        return _common(record, name=record.title, meeting_ref=_ref(record.meeting), order=_position(record, groups),
                       presenter=record.presenter, duration_minutes=record.duration_minutes)
    if isinstance(record, MinutesPart | Decision):
        return _common(record, meeting_ref=_ref(record.meeting), agenda_item_ref=_ref(record.agenda_item),
                       order=_position(record, groups), text=record.text, text_format="markdown")
    person = record.owner_user
    owner_org = person.organisation if person is not None else record.owner_organisation
    return _common(
        record, name=record.title, meeting_ref=_ref(record.meeting), series_ref=_ref(record.series),
        agenda_item_ref=_ref(record.agenda_item), owner_kind="person" if person is not None else "organisation",
        # A person is never named (a local account): only the organisation they belong to travels.
        owner_organisation=owner_org.code if owner_org is not None else None,
        due=record.due.isoformat() if record.due else None, status=record.status,
        completed=format_timestamp(record.completed_at) if record.completed_at else None, notes=record.notes)


# ---- in: records received from peers ---------------------------------------------------------------------------------


def text_value(obj: dict[str, Any], key: str, limit: int | None = None) -> str:
    value = obj.get(key)
    text = value.strip() if isinstance(value, str) else ""
    return text[:limit] if limit is not None else text


def _int(obj: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = obj.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high else default


def _date(value: Any) -> date | None:
    if isinstance(value, str) and _DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _zone(value: Any) -> str:
    return value if isinstance(value, str) and is_known_zone(value) else "UTC"


def _https(value: Any) -> str:
    """Only an https address becomes a link here (a peer's text is rendered as a href)."""
    if not isinstance(value, str) or len(value) > 500:
        return ""
    try:
        URLValidator(schemes=["https"])(value)
    except ValidationError:
        return ""
    return value


class Resolver:
    """Local copies by STIX id, among those received from the same originator: a peer's record never attaches to
    this node's own records nor to another node's (a peer cannot add minutes to someone else's meeting)."""

    def __init__(self, originator_id: int) -> None:
        self.originator_id = originator_id
        self.cache: dict[str, Model | None] = {}

    def get(self, stix_id: Any, stix_type: str) -> Any:
        if not isinstance(stix_id, str) or not stix_id.startswith(f"{stix_type}--"):
            return None
        if stix_id not in self.cache:
            model = MODEL_OF[stix_type]
            self.cache[stix_id] = model._default_manager.filter(stix_id=stix_id,
                                                                originator_id=self.originator_id).first()
        return self.cache[stix_id]


def fields_from_stix(stix_type: str, obj: dict[str, Any], refs: Resolver, originator_id: int) -> dict[str, Any] | None:
    """The model fields a received object carries, or None when it cannot be a row (yet): no usable title or text,
    times that are not times, or a meeting that has not arrived."""
    if stix_type == SERIES_TYPE:
        title = text_value(obj, "name", MAX_TITLE)
        if not title:
            return None
        zone = _zone(obj.get("time_zone"))
        first = _date(obj.get("first_date"))
        clock = obj.get("local_start_time")
        wall = time.fromisoformat(clock) if isinstance(clock, str) and _CLOCK.match(clock) else None
        rule = text_value(obj, "rrule")
        if rule:
            try:  # a series page evaluates the rule: one it could not read is not kept
                parse_rrule(rule, datetime(2026, 1, 1, tzinfo=UTC))
            except ServiceError:
                rule = ""
        areas, nations = obj.get("focus_areas"), obj.get("nations")
        return {
            "title": title, "time_zone": zone, "first_date": first, "start_time": wall, "rrule": rule,
            "duration_minutes": _int(obj, "duration_minutes", 60, 1, 24 * 60),
            "focus_areas": sorted({a for a in areas if a in FocusArea.values}) if isinstance(areas, list) else [],
            "nations": sorted({n for n in nations if isinstance(n, str) and _NATION.match(n)})
            if isinstance(nations, list) else [],
        }
    if stix_type == MEETING_TYPE:
        title = text_value(obj, "name", MAX_TITLE)
        start, end = parse_timestamp_or_none(obj.get("start_time")), parse_timestamp_or_none(obj.get("end_time"))
        if not title or start is None or end is None or end <= start:
            return None
        cancelled = obj.get("status") == MeetingStatus.CANCELLED
        return {
            "title": title, "start": start, "end": end, "time_zone": _zone(obj.get("time_zone")),
            "mode": obj.get("mode") if obj.get("mode") in MeetingMode.values else MeetingMode.VIRTUAL,
            "place": text_value(obj, "place", 300), "link": _https(obj.get("link")),
            "status": MeetingStatus.CANCELLED if cancelled else MeetingStatus.SCHEDULED,
            "cancel_reason": text_value(obj, "cancel_reason") if cancelled else "",
            "sequence": _int(obj, "ical_sequence", 0, 0, 2**31 - 1),
            "agenda_published_at": parse_timestamp_or_none(obj.get("agenda_published")),
            "minutes_published_at": parse_timestamp_or_none(obj.get("minutes_published")),
            "series": refs.get(obj.get("series_ref"), SERIES_TYPE),
        }
    meeting = refs.get(obj.get("meeting_ref"), MEETING_TYPE)
    if stix_type == AGENDA_ITEM_TYPE:
        title = text_value(obj, "name", MAX_TITLE)
        if meeting is None or not title:
            return None
        return {"meeting": meeting, "title": title, "order": _int(obj, "order", 1, 1, 10_000),
                "presenter": text_value(obj, "presenter", 200),
                "duration_minutes": _int(obj, "duration_minutes", 15, 1, 24 * 60)}
    item = refs.get(obj.get("agenda_item_ref"), AGENDA_ITEM_TYPE)
    if item is not None and meeting is not None and item.meeting_id != meeting.pk:
        item = None  # an item of another meeting: not this record's
    if stix_type in (MINUTES_TYPE, DECISION_TYPE):
        text = text_value(obj, "text")
        if meeting is None or not text:
            return None
        return {"meeting": meeting, "agenda_item": item, "text": text, "order": _int(obj, "order", 1, 1, 10_000)}
    # An action: its meeting or its series (both optional, at least one on its originating node).
    title = text_value(obj, "name", MAX_TITLE)
    series = refs.get(obj.get("series_ref"), SERIES_TYPE)
    if not title or (meeting is None and series is None):
        return None
    # The owning organisation if this node knows it, else the sending node's organisation (never a new directory
    # entry made by a peer).
    code = obj.get("owner_organisation")
    owner = Organisation.objects.filter(code=code).first() if isinstance(code, str) and code else None
    status = obj.get("status") if obj.get("status") in ActionStatus.values else ActionStatus.OPEN
    return {
        "title": title, "meeting": meeting, "series": series if series is not None else getattr(meeting, "series", None),
        "agenda_item": item, "owner_user": None, "owner_organisation_id": owner.pk if owner else originator_id,
        "due": _date(obj.get("due")), "status": status, "notes": text_value(obj, "notes"),
        "completed_at": parse_timestamp_or_none(obj.get("completed")),
    }
