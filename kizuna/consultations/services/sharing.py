"""Sharing consultation records with peers: every write to the threat store made for them, and every local row made
from what peers sent. The STIX forms themselves are built and read by ``kizuna.consultations.stix`` (pure).

Out: ``do_publish(record)`` stores the record's current STIX form as a new version in the threat store, in the
caller's transaction, under the record's own label and with its originating organisation as originator — so TAXII
serves it (signed by this node) exactly to those the label allows, and sync carries it to peers. Draft content never
leaves: agenda items are stored only while their meeting's agenda is published, minutes parts and decisions only
while its minutes are (publishing them through ``do_publish(meeting)`` stores them all); going back to draft revokes
them, and each gets a new uuid (a revocation is final: published again, it is a new object). A deleted record is a
``revoked`` version. When a write changes what another record's form says (a reference, a position), that form is
stored again in the same transaction (``_dependents``). A record received from a peer (``stix_id`` set) is never
published here: only its originating node issues versions.

In: ``do_receive`` is the federation inbound handler of the six types (registered in ``apps.ready``): a received,
verified and stored object becomes or updates a read-only local row keyed by its STIX id, with the label of the
stored object and the sending node's organisation as originator. References resolve by STIX id among the copies
received from the same originator. A record whose meeting has not arrived (or may never arrive: the meeting's label
may not be this node's to see) stays in the store only, and becomes a row when the meeting arrives; an optional
parent that has not arrived (a series, an agenda item) is left empty and filled in when it does.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone
from django.utils.translation import gettext

from kizuna.consultations.models import ActionItem, AgendaItem, Decision, Meeting, MeetingStatus, MinutesPart, Series
from kizuna.consultations.stix import (
    CHILDREN,
    DECISION_TYPE,
    MEETING_TYPE,
    MINUTES_TYPE,
    MODEL_OF,
    SERIES_TYPE,
    TYPES,
    Groups,
    Record,
    Resolver,
    fields_from_stix,
    is_received,
    is_shared,
    siblings,
    stix_id_of,
    text_value,
    to_stix,
)
from kizuna.core import audit
from kizuna.core.access import label_of, nation_groups, registry
from kizuna.core.errors import ServiceError
from kizuna.core.models import LabelRecord, label_id_for
from kizuna.core.registry import Sender
from kizuna.core.versions import snapshot
from kizuna.labels import Label, Subject
from kizuna.stix.timestamps import format_timestamp, parse_timestamp_or_none, strictly_later
from kizuna.threats.models import StixObject
from kizuna.threats.store import candidate, current_versions, write_batch
from kizuna.threats.validate import timestamp_key

log = logging.getLogger("kizuna.consultations.sharing")


# ---- out -------------------------------------------------------------------------------------------------------------


def _publisher_subject(label: Label) -> Subject:
    """A subject that may see exactly ``label``: the store checks that whoever stores an object could read it, and
    the STIX form carries the very label the record already has — which the service writing the record checked
    against its author (``resolve_label`` and the re-read through ``visible_to``) in this transaction."""
    values = frozenset(v for _, vs in label.categories for v in vs)
    return Subject(key=f"consultations-publisher:{label.key()}", nations=values, communities=values,
                   clearances={label.policy: label.classification}, principals=frozenset(label.recipients))


def _current(stix_id: str, originator_id: int) -> tuple[str, dict[str, Any], LabelRecord] | None:
    """The current version of the record's own version line (the oldest line its organisation originated: see
    ``kizuna.threats.store``), with its label."""
    row = current_versions(stix_id, originator_id).select_related("label").first()
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
            obj["modified"] = strictly_later(format_timestamp(timezone.now()), modified)
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
    current = current_versions(stix_id, originator_id).select_related("label").first()
    if current is None or current.revoked:
        return False  # never shared (a draft) or revoked already
    try:
        obj = json.loads(current.data)
    except ValueError:
        return False
    obj["revoked"] = True
    obj["modified"] = format_timestamp(timezone.now())
    return _store(obj, label_of(current.label), current.originator_id, subject)


def do_publish(record: Record, *, revoked: bool = False, subject: Subject | None = None) -> None:
    """Store the record's STIX form as a new version in the threat store, in the caller's transaction (a refusal by
    the store raises ServiceError, which rolls the caller's write back). ``revoked``: the record is being deleted
    (the caller deletes it next and then calls ``do_publish_related``). Then the forms of the records that refer to it
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
        if is_shared(record):
            _store(to_stix(record, groups), label_of(record.label), record.originator_id, subject)
        elif not isinstance(record, Meeting):
            return
        _publish_records(_dependents(record), groups)


def do_publish_related(record: Record) -> None:
    """After ``record`` was deleted (its revocation stored first by ``do_publish(record, revoked=True)``): store again
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
        out += [r for r in _local(siblings(record).order_by("order", "pk")) if r.pk != record.pk]
        if isinstance(record, AgendaItem) and record.pk is not None:  # once deleted, nothing refers to it
            for referrer in (MinutesPart, Decision, ActionItem):
                out += _local(referrer._default_manager.filter(agenda_item_id=record.pk))
    return out


def _publish_records(records: Iterable[Record], groups: Groups) -> None:
    """Each record's current form under its own label, which the writer need not see: stored as the system's."""
    for each in records:
        if not is_received(each) and is_shared(each):
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


def do_publish_all() -> tuple[int, list[str]]:
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
            if not is_shared(record):
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


def _apply_received(stix_type: str, stix_id: str, label_id: int, obj: dict[str, Any], revoked: bool, peer: Any,
           refs: Resolver, created: list[str], changed: dict[str, list[int]]) -> None:
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
    fields = fields_from_stix(stix_type, obj, refs, peer.organisation_id)
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
            uid = text_value(obj, "ical_uid", 255)
            # The UID is the originator's (a calendar holding both sees one event); a clash with a local one is not.
            extra["uid"] = uid if uid and not Meeting.objects.filter(uid=uid).exists() else f"{stix_id}@received"
        record = model._default_manager.create(stix_id=stix_id, label_id=label_id,
                                               originator_id=peer.organisation_id, **extra, **fields)
        stamp = parse_timestamp_or_none(obj.get("created"))
        if stamp is not None:  # listed by when its originator wrote it, not when it arrived
            # A save, not QuerySet.update: its post_save re-indexes the search entry with this date at once.
            # (``auto_now_add`` sets the field only on the first save, so this second one keeps ``stamp``.)
            record.created_at = stamp
            record.save(update_fields=["created_at"])
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


def do_receive(objects: list[dict[str, Any]], peer: Sender) -> None:
    """Inbound handler (``kizuna.federation.inbound``) of the six types: make, update or remove the local read-only
    row of each received object, inside the page's transaction. Idempotent: keyed by STIX id, and it mirrors the
    CURRENT stored version of each id (its data and its label), so a page read again, an older version arriving
    after a newer one, or a version already applied change nothing. When a record becomes a row, the stored records
    that refer to it and were waiting for it (or left the reference empty) are applied too."""
    originator_id = peer.organisation_id
    with transaction.atomic():  # a savepoint in the page's transaction: all of the page, or none of it
        refs = Resolver(originator_id)
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
                        _apply_received(stix_type, stix_id, label_id, obj, revoked, peer, refs, created, changed)
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
