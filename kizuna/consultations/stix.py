"""The STIX 2.1 form of consultation records, both ways: six new SDO types (series, meeting, agenda item, minutes
part, decision, action) declared by ONE extension-definition of our own — no core type fits: STIX has no meeting,
agenda or action, and its ``note``/``report`` would lose the start and end, the time zone, the owner, the status and
the references between the records.

Out: ``publish(record)`` stores the record's current STIX form as a new version in the threat store, in the caller's
transaction, under the record's own label and with its originating organisation as originator — so TAXII serves it
(signed by this node) exactly to those the label allows, and sync carries it to peers. Each record has its own label,
so each is its own object; records point at each other by reference (``series_ref``, ``meeting_ref``,
``agenda_item_ref``). Draft content never leaves: agenda items are stored only while their meeting's agenda is
published, minutes parts and decisions only while its minutes are (publishing them through ``publish(meeting)``
stores them all); going back to draft revokes them, and each gets a new uuid (a revocation is final: published
again, it is a new object). A deleted record is a ``revoked`` version. A reference is present only when the
target's label dominates the referrer's (``kizuna.core.access.label_dominates``) and the target is shared, and
``order`` counts only the siblings every reader of the record may see; when a write changes what another record's
form says, that form is stored again in the same transaction (``_dependents``). Attendees are local accounts: only
their number, by answer, travels. A record received from a peer (``stix_id`` set) is never published here: only
its originating node issues versions.

In: ``receive`` is the federation inbound handler of the six types (registered in ``apps.ready``): a received,
verified and stored object becomes or updates a read-only local row keyed by its STIX id, with the label of the
stored object and the sending node's organisation as originator. References resolve by STIX id (a received copy) or
by uuid (a record of this node). A record whose meeting has not arrived (or may never arrive: the meeting's label may
not be this node's to see) stays in the store only, and becomes a row when the meeting arrives; an optional parent
that has not arrived (a series, an agenda item) is left empty and filled in when it does.

The extension-definition's id is fixed and it is created by Kizuna's identity, so it is the same object on every node.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Model, ProtectedError, Q
from django.utils import timezone
from django.utils.translation import gettext

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
from kizuna.core.access import label_dominates, label_of, nation_groups, registry
from kizuna.core.errors import ServiceError
from kizuna.core.focus import FocusArea
from kizuna.core.models import LabelRecord, label_id_for
from kizuna.labels import Label, Subject
from kizuna.stix.definitions import extension_definition
from kizuna.stix.timestamps import format_timestamp, parse_timestamp_or_none
from kizuna.threats.models import StixObject
from kizuna.threats.store import candidate, write_batch
from kizuna.threats.validate import timestamp_key

log = logging.getLogger("kizuna.consultations.stix")

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


def _refer(target: Record | None, referrer: Record, groups: Groups) -> str | None:
    """The reference to ``target`` in ``referrer``'s STIX form, or None (left out) unless every reader of the referrer
    may see the target (its label dominates the referrer's) and the target is shared (an agenda item of a draft
    agenda is not): a stored form never points past its own label, nor at what was never shared."""
    if target is None or not _shared(target):
        return None
    if not label_dominates(label_of(target.label), label_of(referrer.label), groups):
        return None
    return stix_id_of(target)


def _siblings(record: AgendaItem | MinutesPart | Decision) -> Any:
    return type(record)._default_manager.filter(meeting_id=record.meeting_id)


def _position(record: AgendaItem | MinutesPart | Decision, groups: Groups) -> int:
    """The record's place among its meeting's records of its kind that every reader of the record may see (whose
    label dominates the record's): a hidden one before it does not move it down. Ties in ``order`` by id."""
    own = label_of(record.label)
    before = (_siblings(record).exclude(pk=record.pk)
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


# ---- out -------------------------------------------------------------------------------------------------------------


def _publisher_subject(label: Label) -> Subject:
    """A subject that may see exactly ``label``: the store checks that whoever stores an object could read it, and
    the STIX form carries the very label the record already has — which the service writing the record checked
    against its author (``resolve_label`` and the re-read through ``visible_to``) in this transaction."""
    values = frozenset(v for _, vs in label.categories for v in vs)
    return Subject(key=f"consultations-publisher:{label.key()}", nations=values, communities=values,
                   clearances={label.policy: label.classification}, principals=frozenset(label.recipients))


def _shared(record: Record) -> bool:
    """Whether the record may leave its drafts: agenda items once the agenda is published, minutes parts and
    decisions once the minutes are; the others always. Read from the database (the caller's meeting may be stale)."""
    if isinstance(record, AgendaItem):
        field = "agenda_published_at"
    elif isinstance(record, MinutesPart | Decision):
        field = "minutes_published_at"
    else:
        return True
    return Meeting.objects.filter(pk=record.meeting_id).exclude(**{f"{field}__isnull": True}).exists()


def _current(stix_id: str, originator_id: int) -> tuple[str, dict[str, Any], LabelRecord] | None:
    """The current version of the record's own version line (the oldest line its organisation originated: see
    ``kizuna.threats.store``), with its label."""
    row = (StixObject.objects.filter(stix_id=stix_id, is_current=True, originator_id=originator_id)
           .select_related("label").order_by("line").first())
    if row is None:
        return None
    try:
        data = json.loads(row.data)
    except ValueError:
        data = {}
    return str(row.modified), data if isinstance(data, dict) else {}, row.label


def _system_subject(label: Label, stored: Label) -> Subject:
    """The system's subject for a new version of a record's form under ``label`` whose stored current version is
    under ``stored``: it may see both (the union of the two publishers'), so that a relabel supersedes the record's
    own line rather than starting another one beside it (a writer continues only a line it may see)."""
    a, b = _publisher_subject(label), _publisher_subject(stored)
    clearances = dict(a.clearances)
    reg = registry()
    for policy, level in b.clearances.items():
        mine = clearances.get(policy)
        if mine is None or reg.require(policy).rank(level) > reg.require(policy).rank(mine):
            clearances[policy] = level
    return Subject(key=f"consultations-publisher:{label.key()}|{stored.key()}", nations=a.nations | b.nations,
                   communities=a.communities | b.communities, clearances=clearances,
                   principals=a.principals | b.principals)


def _store(obj: dict[str, Any], label: Label, originator_id: int, subject: Subject | None) -> bool:
    """Store ``obj`` as the next version of its id unless the current version says the same; True if stored."""
    current = _current(obj["id"], originator_id)
    if current is not None and subject is None and current[2].pk != label_id_for(label):
        subject = _system_subject(label, label_of(current[2]))
    if current is not None:
        modified, data, _ = current
        if {k: v for k, v in data.items() if k != "modified"} == {k: v for k, v in obj.items() if k != "modified"}:
            return False  # nothing changed (a second call for the same write, a backfill): no new version
        if timestamp_key(obj["modified"]) <= timestamp_key(modified):
            # Two versions within one millisecond, a clock set back, or a change that left updated_at alone (an
            # answer to an invitation): each version must be strictly later than the one before.
            now = timezone.now()
            earlier = parse_timestamp_or_none(modified)
            later = earlier + timedelta(milliseconds=1) if earlier is not None else now
            obj["modified"] = format_timestamp(max(now, later))
    result = write_batch([candidate(0, obj, label)], subject=subject or _publisher_subject(label),
                         originator_id=originator_id)
    if result.rejected:
        raise ServiceError(gettext("the record could not be stored for sharing: %(reason)s")
                           % {"reason": result.rejected[0][2]})
    return True


def _revoke_stored(stix_id: str, subject: Subject | None, originator_id: int | None = None) -> bool:
    """A revoked version of the stored object, made from its stored form (the record may already be gone): of the
    record's own version line (its organisation's oldest, see ``_current``), never of a line someone else started
    under the same id."""
    rows = StixObject.objects.filter(stix_id=stix_id, is_current=True)
    if originator_id is not None:
        rows = rows.filter(originator_id=originator_id)
    current = rows.select_related("label").order_by("line").first()
    if current is None or current.revoked:
        return False  # never shared (a draft) or revoked already
    try:
        obj = json.loads(current.data)
    except ValueError:
        return False
    obj["revoked"] = True
    obj["modified"] = format_timestamp(timezone.now())
    return _store(obj, label_of(current.label), current.originator_id, subject)


def publish(record: Record, *, revoked: bool = False, subject: Subject | None = None) -> None:
    """Store the record's STIX form as a new version in the threat store, in the caller's transaction (a refusal by
    the store raises ServiceError, which rolls the caller's write back). ``revoked``: the record is being deleted
    (the caller deletes it next and then calls ``publish_related``). Then the forms of the records that refer to it
    or stand beside it (references and positions depend on its label, its order, whether it is shared) are stored
    again where they changed. Publishing a meeting also stores what its publication made shareable (agenda items,
    minutes, decisions) and revokes what going back to draft withdrew; revoking an agenda item revokes the minutes
    parts about it (deleted with it). A received copy is skipped; so is a record whose draft is not published, and a
    version that would say nothing new. ``subject``: the writer, when the caller has one (else the store's read check
    is made for the record's own label, see ``_publisher_subject``)."""
    if is_received(record):
        return  # a copy received from a peer: only its originating node issues versions
    with transaction.atomic():
        stix_id = stix_id_of(record)
        if revoked:
            _revoke_stored(stix_id, subject, record.originator_id)
            if isinstance(record, AgendaItem):
                # Its minutes parts are deleted with it (CASCADE), without a service call of their own. Stored
                # under their own labels, which the writer need not see: what the deletion implies is stored as
                # the system's (see _publisher_subject).
                for child in _stored_children([stix_id], [MINUTES_TYPE]):
                    _revoke_stored(child, None)
            return
        groups = nation_groups()
        if isinstance(record, Meeting):
            _withdraw_drafts(record)
        if _shared(record):
            _store(to_stix(record, groups), label_of(record.label), record.originator_id, subject)
        elif not isinstance(record, Meeting):
            return
        _publish_records(_dependents(record), groups)


def publish_related(record: Record) -> None:
    """After ``record`` was deleted (its revocation stored first by ``publish(record, revoked=True)``): store again
    the forms that referred to it or counted it in their position."""
    with transaction.atomic():
        _publish_records(_dependents(record), nation_groups())


def _local(qs: Any) -> list[Record]:
    return list(qs.filter(stix_id__isnull=True).select_related("label", "originator"))


def _dependents(record: Record) -> list[Record]:
    """The local records whose STIX form may change when ``record`` changes: those that refer to it (their reference
    depends on its label and on whether it is shared) and its siblings (their position counts it)."""
    out: list[Record] = []
    if isinstance(record, Series):
        out += _local(Meeting.objects.filter(series_id=record.pk))
        out += _local(ActionItem.objects.filter(series_id=record.pk))
    elif isinstance(record, Meeting):
        out += _local(AgendaItem.objects.filter(meeting_id=record.pk).order_by("order", "pk"))
        for model in (MinutesPart, Decision):
            out += _local(model.objects.filter(meeting_id=record.pk).order_by("order", "pk"))
        out += _local(ActionItem.objects.filter(meeting_id=record.pk))
    elif isinstance(record, AgendaItem | MinutesPart | Decision):
        out += [r for r in _local(_siblings(record).order_by("order", "pk")) if r.pk != record.pk]
        if isinstance(record, AgendaItem) and record.pk is not None:  # once deleted, nothing refers to it
            for referrer in (MinutesPart, Decision, ActionItem):
                out += _local(referrer._default_manager.filter(agenda_item_id=record.pk))
    return out


def _publish_records(records: Iterable[Record], groups: Groups) -> None:
    """Each record's current form under its own label, which the writer need not see: stored as the system's."""
    for each in records:
        if not is_received(each) and _shared(each):
            _store(to_stix(each, groups), label_of(each.label), each.originator_id, None)


def _withdraw_drafts(meeting: Meeting) -> None:
    """An agenda (or minutes) taken back to draft: the stored forms of its items (or parts and decisions) are revoked
    in the same transaction. A revocation is final in STIX, so each record gets a new uuid (so a new STIX id): if it
    is published again it is a new object, and receivers drop the old one."""
    drafts: list[Any] = []
    if meeting.agenda_published_at is None:
        drafts += AgendaItem.objects.filter(meeting_id=meeting.pk, stix_id__isnull=True)
    if meeting.minutes_published_at is None:
        for model in (MinutesPart, Decision):
            drafts += model.objects.filter(meeting_id=meeting.pk, stix_id__isnull=True)
    for draft in drafts:
        if _revoke_stored(stix_id_of(draft), None, draft.originator_id):
            draft.uuid = uuid.uuid4()
            draft.save(update_fields=["uuid"])


def publish_all() -> tuple[int, list[str]]:
    """Backfill: store the STIX form of every local consultation record whose current state has none yet (records
    written before consultations travelled). Idempotent. Returns the number of versions stored and one line per
    record that could not be."""
    published = 0
    failed: list[str] = []
    for stix_type in TYPES:
        model = MODEL_OF[stix_type]
        related = ["label", "originator"] + [f for f in ("meeting", "series", "agenda_item", "owner_user")
                                             if hasattr(model, f)]
        rows = model._default_manager.filter(stix_id__isnull=True).select_related(*related).order_by("pk")
        for record in rows.iterator():
            if not _shared(record):
                continue
            try:
                with transaction.atomic():
                    if _store(to_stix(record), label_of(record.label), record.originator_id, None):
                        published += 1
            except ServiceError as exc:
                failed.append(f"{stix_type} {record.pk}: {exc.message}")
    return published, failed


def _stored_children(parent_ids: list[str], types: list[str], originator_id: int | None = None) -> list[str]:
    """The ids of current stored objects of ``types`` (from ``originator_id``, if given) that refer to one of
    ``parent_ids``.
    Each type's ids are one range of the store's unique (stix_id, modified) index, so this reads only that type's
    rows; the references are then matched in their text (ids are UUID-based and unique, so a hit is a reference)."""
    found: list[str] = []
    for stix_type in types:
        of_type = StixObject.objects.filter(stix_id__gte=f"{stix_type}--0", stix_id__lt=f"{stix_type}--g",
                                            type=stix_type, is_current=True)
        if originator_id is not None:
            of_type = of_type.filter(originator_id=originator_id)
        for start in range(0, len(parent_ids), 50):
            refers = Q()
            for parent in parent_ids[start:start + 50]:
                refers |= Q(data__contains=f'"{parent}"')
            found += of_type.filter(refers).values_list("stix_id", flat=True)
    return sorted(set(found))


# ---- in: records received from peers ---------------------------------------------------------------------------------


def _text(obj: dict[str, Any], key: str, limit: int | None = None) -> str:
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
    from kizuna.consultations.timezones import is_known_zone

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


class _Resolver:
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


def _fields(stix_type: str, obj: dict[str, Any], refs: _Resolver, originator_id: int) -> dict[str, Any] | None:
    """The model fields a received object carries, or None when it cannot be a row (yet): no usable title or text,
    times that are not times, or a meeting that has not arrived."""
    if stix_type == SERIES_TYPE:
        title = _text(obj, "name", MAX_TITLE)
        if not title:
            return None
        zone = _zone(obj.get("time_zone"))
        first = _date(obj.get("first_date"))
        clock = obj.get("local_start_time")
        wall = time.fromisoformat(clock) if isinstance(clock, str) and _CLOCK.match(clock) else None
        rule = _text(obj, "rrule")
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
        title = _text(obj, "name", MAX_TITLE)
        start, end = parse_timestamp_or_none(obj.get("start_time")), parse_timestamp_or_none(obj.get("end_time"))
        if not title or start is None or end is None or end <= start:
            return None
        cancelled = obj.get("status") == MeetingStatus.CANCELLED
        return {
            "title": title, "start": start, "end": end, "time_zone": _zone(obj.get("time_zone")),
            "mode": obj.get("mode") if obj.get("mode") in MeetingMode.values else MeetingMode.VIRTUAL,
            "place": _text(obj, "place", 300), "link": _https(obj.get("link")),
            "status": MeetingStatus.CANCELLED if cancelled else MeetingStatus.SCHEDULED,
            "cancel_reason": _text(obj, "cancel_reason") if cancelled else "",
            "sequence": _int(obj, "ical_sequence", 0, 0, 2**31 - 1),
            "agenda_published_at": parse_timestamp_or_none(obj.get("agenda_published")),
            "minutes_published_at": parse_timestamp_or_none(obj.get("minutes_published")),
            "series": refs.get(obj.get("series_ref"), SERIES_TYPE),
        }
    meeting = refs.get(obj.get("meeting_ref"), MEETING_TYPE)
    if stix_type == AGENDA_ITEM_TYPE:
        title = _text(obj, "name", MAX_TITLE)
        if meeting is None or not title:
            return None
        return {"meeting": meeting, "title": title, "order": _int(obj, "order", 1, 1, 10_000),
                "presenter": _text(obj, "presenter", 200),
                "duration_minutes": _int(obj, "duration_minutes", 15, 1, 24 * 60)}
    item = refs.get(obj.get("agenda_item_ref"), AGENDA_ITEM_TYPE)
    if item is not None and meeting is not None and item.meeting_id != meeting.pk:
        item = None  # an item of another meeting: not this record's
    if stix_type in (MINUTES_TYPE, DECISION_TYPE):
        text = _text(obj, "text")
        if meeting is None or not text:
            return None
        return {"meeting": meeting, "agenda_item": item, "text": text, "order": _int(obj, "order", 1, 1, 10_000)}
    # An action: its meeting or its series (both optional, at least one on its originating node).
    from kizuna.directory.models import Organisation

    title = _text(obj, "name", MAX_TITLE)
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
        "due": _date(obj.get("due")), "status": status, "notes": _text(obj, "notes"),
        "completed_at": parse_timestamp_or_none(obj.get("completed")),
    }


def _snapshot_data(record: Record) -> dict[str, Any]:
    data = to_stix(record)
    for key in ("extensions", "created_by_ref", "modified", "attendee_counts"):
        data.pop(key, None)
    return data


def _delete(record: Record) -> bool:
    """Remove a local copy its originator revoked (True). A meeting or series that actions still point at (they
    protect it) is kept; a meeting is then marked cancelled (False)."""
    try:
        with transaction.atomic():
            record.delete()
        return True
    except ProtectedError:
        if isinstance(record, Meeting) and record.status != MeetingStatus.CANCELLED:
            record.status = MeetingStatus.CANCELLED
            record.cancel_reason = record.cancel_reason or "withdrawn by its originator"
            record.sequence += 1
            record.save()
        return False


def _apply(stix_type: str, stix_id: str, label_id: int, obj: dict[str, Any], revoked: bool, peer: Any,
           refs: _Resolver, created: list[str], changed: dict[str, list[int]]) -> None:
    from kizuna.core.versions import snapshot

    model = MODEL_OF[stix_type]
    record = model._default_manager.select_for_update().filter(stix_id=stix_id).first()
    if record is not None and record.originator_id != peer.organisation_id:
        # Never expected: the store keeps one originator per STIX id.
        log.warning("received %s from peer %s, but the local copy has another originator", stix_id, peer.name)
        return
    if revoked:
        if record is not None:
            pk = record.pk
            if not _delete(record):
                snapshot(record, _snapshot_data(record), peer.account,
                         f"received from {peer.name}: withdrawn by its originator, kept (actions refer to it)")
            changed.setdefault(stix_type, []).append(pk)
        refs.cache.pop(stix_id, None)
        return
    fields = _fields(stix_type, obj, refs, peer.organisation_id)
    if fields is None:
        log.info("received %s from peer %s is kept in the store only (no usable content, or its meeting has not "
                 "arrived)", stix_id, peer.name)
        return
    if record is None:
        extra: dict[str, Any] = {}
        if stix_type in (SERIES_TYPE, MEETING_TYPE):
            extra["created_by"] = peer.account
        if stix_type in (MINUTES_TYPE, DECISION_TYPE):
            extra["author"] = peer.account
        if stix_type == MEETING_TYPE:
            uid = _text(obj, "ical_uid", 255)
            # The UID is the originator's (a calendar holding both sees one event); a clash with a local one is not.
            extra["uid"] = uid if uid and not Meeting.objects.filter(uid=uid).exists() else f"{stix_id}@received"
        record = model._default_manager.create(stix_id=stix_id, label_id=label_id,
                                               originator_id=peer.organisation_id, **extra, **fields)
        stamp = parse_timestamp_or_none(obj.get("created"))
        if stamp is not None:  # listed by when its originator wrote it, not when it arrived
            model._default_manager.filter(pk=record.pk).update(created_at=stamp)
        refs.cache[stix_id] = record
        snapshot(record, _snapshot_data(record), peer.account, f"received from {peer.name}")
        created.append(stix_id)
        changed.setdefault(stix_type, []).append(record.pk)
        return
    differs = [name for name, value in fields.items() if getattr(record, name) != value]
    if record.label_id != label_id:
        differs.append("label")
    if not differs:
        return
    for name, value in fields.items():
        setattr(record, name, value)
    record.label_id = label_id
    record.save()
    refs.cache[stix_id] = record
    snapshot(record, _snapshot_data(record), peer.account,
             f"received from {peer.name}: changed {', '.join(differs)}"[:200])
    changed.setdefault(stix_type, []).append(record.pk)


def _stored(ids: Iterable[str], originator_id: int) -> dict[str, tuple[str, int, dict[str, Any], bool]]:
    """The CURRENT stored version of each id from this originator: (type, label id, object, revoked)."""
    out: dict[str, tuple[str, int, dict[str, Any], bool]] = {}
    ids = sorted(set(ids))
    for start in range(0, len(ids), 500):
        rows = StixObject.objects.filter(stix_id__in=ids[start:start + 500], is_current=True,
                                         originator_id=originator_id).values_list("stix_id", "type", "label_id",
                                                                                  "data", "revoked")
        for stix_id, stix_type, label_id, data, revoked in rows:
            try:
                obj = json.loads(data)
            except ValueError:
                continue
            if isinstance(obj, dict) and stix_type in MODEL_OF:
                out[stix_id] = (stix_type, label_id, obj, bool(revoked or obj.get("revoked") is True))
    return out


def receive(objects: list[dict[str, Any]], originator_id: int) -> None:
    """Inbound handler (``kizuna.federation.inbound``) of the six types: make, update or remove the local read-only
    row of each received object, inside the page's transaction. Idempotent: keyed by STIX id, and it mirrors the
    CURRENT stored version of each id (its data and its label), so a page read again, an older version arriving
    after a newer one, or a version already applied change nothing. When a record becomes a row, the stored records
    that refer to it and were waiting for it (or left the reference empty) are applied too."""
    from kizuna.core import audit
    from kizuna.federation.models import Peer

    peer = Peer.objects.select_related("account", "organisation").filter(organisation_id=originator_id).first()
    if peer is None:  # never expected: sync stores only what a known peer's node signed
        log.warning("received %d consultation object(s) from organisation %s, which is no peer's", len(objects),
                    originator_id)
        return
    refs = _Resolver(originator_id)
    changed: dict[str, list[int]] = {}
    pending = [o["id"] for o in objects if isinstance(o.get("id"), str)]
    seen: set[str] = set()
    while pending:
        stored = _stored([i for i in pending if i not in seen], originator_id)
        seen.update(pending)
        created: list[str] = []
        for stix_type in TYPES:
            for stix_id, (kind, label_id, obj, revoked) in sorted(stored.items()):
                if kind == stix_type:
                    _apply(stix_type, stix_id, label_id, obj, revoked, peer, refs, created, changed)
        # Records that refer to what has just become a row: their rows can now be made (or their references
        # filled). Each id is applied once per call.
        by_type: dict[str, list[str]] = {}
        for stix_id in created:
            for child_type in CHILDREN.get(stix_id.split("--", 1)[0], []):
                by_type.setdefault(child_type, []).append(stix_id)
        pending = []
        for child_type, parents in by_type.items():
            pending += [i for i in _stored_children(parents, [child_type], originator_id) if i not in seen]
    for stix_type, pks in sorted(changed.items()):
        audit.record(f"peer:{peer.name}", "receive", stix_type.removeprefix("kizuna-"), pks, None, "",
                     {"changed": len(pks)})
