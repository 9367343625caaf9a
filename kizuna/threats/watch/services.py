"""Every write of sightings and watch filters, and the reads behind their pages.

Sightings: "Seen it too" issues a STIX ``sighting`` through the importer (``do_import_objects``), so it is validated,
labelled, versioned and shared exactly like any other object. One sighting per organisation and object: the next
colleague who presses the button issues a new version with ``count`` one higher, which only the originating
organisation may do. Counts by nation are computed over the sightings the viewer may see, so a nation is named only
through a visible sighting.

Watch filters: the importer calls ``notify_new_objects`` after each committed batch. Each watcher is checked on their
own (``visible_to`` and the relationship rule) before an inbox entry (a ``kizuna.notifications`` row of the "threats"
module, one per user and object) is written, and the e-mail names no object: it only says how many new entries wait in
the inbox, where they are shown again through ``visible_to`` by the resolver registered here.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, gettext_lazy, ngettext

from kizuna.core import audit
from kizuna.core.access import label_of, unindexed_label, visible_labels
from kizuna.core.errors import ServiceError
from kizuna.core.models import LabelRecord
from kizuna.directory.models import Organisation, User
from kizuna.directory.subjects import subject_for
from kizuna.labels import TLP, Label, Subject
from kizuna.notifications import queries as notification_queries
from kizuna.notifications import registry as notification_registry
from kizuna.notifications import services as notification_services
from kizuna.notifications.models import Notification
from kizuna.notifications.registry import Entry
from kizuna.stix.definitions import organisation_identity_id as stix_identity_of
from kizuna.stix.timestamps import format_timestamp, strictly_later
from kizuna.threats import queries
from kizuna.threats.models import ObservableValue, StixObject
from kizuna.threats.prepare import IP_RANGE
from kizuna.threats.watch.models import Sighting, WatchFilter

logger = logging.getLogger("kizuna.threats.watch")

# Objects that cannot be sighted: STIX allows only SDOs as sighting_of_ref (not observables, relationships,
# sightings, markings, extension definitions or language content).
NOT_SIGHTABLE = frozenset({
    "relationship", "sighting", "marking-definition", "extension-definition", "language-content",
    "artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message", "file",
    "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process", "software", "url",
    "user-account", "windows-registry-key", "x509-certificate",
})
_FETCH_CHUNK = 500
INBOX_LIMIT = 200
MODULE = "threats"
WATCH_MATCH = "watch_match"  # the notification kind of this module


def stix_now() -> str:
    """A STIX timestamp (UTC, milliseconds) for now."""
    return format_timestamp(datetime.now(UTC))


def organisation_identity_id(org: Organisation) -> str:
    """The STIX identity id that stands for an organisation of the directory: the same on every node."""
    return stix_identity_of(org.code)


def may_sight(obj: StixObject) -> bool:
    return obj.type not in NOT_SIGHTABLE


# --- sightings --------------------------------------------------------------------------------------------------------


def _sighting_dict(user: User, obj: StixObject, previous: StixObject | None) -> dict[str, Any]:
    assert user.organisation is not None
    if previous is not None:
        data: dict[str, Any] = json.loads(previous.data)
        now = strictly_later(stix_now(), str(data.get("modified", previous.modified)))
        data.update({"modified": now, "last_seen": now, "count": int(data.get("count", 1)) + 1})
        return data
    now = stix_now()
    identity = organisation_identity_id(user.organisation)
    return {
        "type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}",
        "created": now, "modified": now, "created_by_ref": identity,
        "first_seen": now, "last_seen": now, "count": 1,
        "sighting_of_ref": obj.stix_id, "where_sighted_refs": [identity],
        "description": f"Seen it too: {user.organisation.name}",
    }


def do_record_sighting(user: User, obj: StixObject, address: str = "") -> StixObject:
    """Record that the user's organisation has seen ``obj`` too; returns the current version of its STIX sighting.

    The sighting carries the object's label, so it reaches exactly the readers of the object."""
    from kizuna.threats import services as stix_services  # the importer; imported late, it imports much

    if not user.is_active or not user.can_contribute:
        raise ServiceError(gettext("your role does not allow writing; ask a coordinator"))
    if user.organisation is None:
        raise ServiceError(gettext("only a member of an organisation can record a sighting"))
    subject = subject_for(user)
    if obj.stix_id not in queries.visible_ids(subject, [obj.stix_id]):
        raise ServiceError(gettext("there is no such object"))
    if not may_sight(obj):
        raise ServiceError(gettext("objects of type %(type)s cannot be sighted; sight the indicator or threat "
                                   "instead") % {"type": obj.type})
    if Sighting.objects.filter(user=user, object_stix_id=obj.stix_id).exists():
        raise ServiceError(gettext("you have already recorded that you saw this object"))
    label: Label = label_of(obj.label)
    with transaction.atomic():
        # The organisation's previous sighting is continued only when the user may see it (existence is a read: a
        # hidden one is treated exactly as none, so it is neither copied nor superseded) and it carries the label
        # the new version will carry: its count and text must not move under another label (issue 10, case 1).
        # Among what the user is shown (queries: one current version per id).
        previous = (StixObject.objects.select_for_update()
                    .filter(pk__in=queries.visible_objects(subject, types=["sighting"], include_revoked=True)
                            .filter(source_ref=obj.stix_id, originator=user.organisation).values("pk"))
                    .filter(label_id=obj.label_id, revoked=False)
                    .order_by("-modified", "-pk").first())
        sighting = _sighting_dict(user, obj, previous)
        summary = stix_services.do_import_objects(user, [sighting], default_label=label, source="sighting")
        if summary.rejected or not summary.accepted:
            reason = summary.errors[0].reason if summary.errors else gettext("the sighting was not stored")
            raise ServiceError(reason)
        try:
            with transaction.atomic():
                Sighting.objects.create(user=user, organisation=user.organisation, object_stix_id=obj.stix_id,
                                        sighting_stix_id=sighting["id"])
        except IntegrityError:  # the same user pressing twice at once: the first one counted
            raise ServiceError(gettext("you have already recorded that you saw this object")) from None
        stored = (StixObject.objects.filter(stix_id=sighting["id"], modified=sighting["modified"],
                                            originator=user.organisation).order_by("-pk").first())
        if stored is None:  # never expected: the importer accepted it in this transaction
            raise ServiceError(gettext("the sighting was not stored"))
        audit.record(user.username, "sighting", "stix", [obj.pk, stored.pk], stored.label_id, address,
                     {"object": obj.stix_id, "sighting": sighting["id"], "count": sighting["count"]})
    return stored


def has_sighted(user: User, obj: StixObject) -> bool:
    return Sighting.objects.filter(user=user, object_stix_id=obj.stix_id).exists()


@dataclass
class NationSightings:
    """Sightings of one object from one nation (or from NATO bodies, which have no nation), as the viewer sees them."""

    code: str
    name: str
    sightings: int = 0  # STIX sighting objects
    count: int = 0  # sum of their ``count``: how many times it was seen
    organisations: list[str] = field(default_factory=list)


def sightings_by_nation(subject: Subject, obj: StixObject) -> tuple[list[NationSightings], list[LabelRecord]]:
    """Counts by originating nation over the sightings of ``obj`` that the viewer may see, and their labels (for the
    banner: the counts are information from those sightings)."""
    rows = (queries.visible_objects(subject, types=["sighting"]).filter(source_ref=obj.stix_id)
            .select_related("originator__nation", "label"))
    by_nation: dict[str, NationSightings] = {}
    labels: list[LabelRecord] = []
    for row in rows:
        labels.append(row.label)
        nation = row.originator.nation
        code = nation.code if nation is not None else "NATO"
        name = nation.localised_name if nation is not None else gettext("NATO bodies")
        entry = by_nation.setdefault(code, NationSightings(code=code, name=str(name)))
        entry.sightings += 1
        try:
            count = int(json.loads(row.data).get("count", 1))
        except (ValueError, TypeError, AttributeError):
            count = 1
        entry.count += max(count, 1)
        if row.originator.display_name not in entry.organisations:
            entry.organisations.append(row.originator.display_name)
    return sorted(by_nation.values(), key=lambda e: (-e.count, e.code)), labels


# --- watch filters ------------------------------------------------------------------------------------------------


@dataclass
class WatchInput:
    name: str
    types: list[str] = field(default_factory=list)
    value_contains: str = ""
    area_text: str = ""
    releasable_to: str = ""
    community: str = ""
    tlp: str = ""


def do_save_watch_filter(user: User, data: WatchInput, address: str = "") -> WatchFilter:
    if not user.is_active:
        raise ServiceError(gettext("your account cannot save watch filters"))
    name = data.name.strip()
    if not name:
        raise ServiceError(gettext("give the watch filter a name"), "name")
    if data.tlp and data.tlp not in {t.value for t in TLP}:
        raise ServiceError(gettext("unknown TLP %(tlp)s") % {"tlp": data.tlp}, "tlp")
    if not (data.types or data.value_contains.strip() or data.area_text.strip() or data.releasable_to
            or data.community or data.tlp):
        raise ServiceError(gettext("a watch filter needs at least one criterion, or it would match everything"))
    with transaction.atomic():
        watch = WatchFilter.objects.create(
            user=user, name=name[:100], types=sorted(set(data.types)), value_contains=data.value_contains.strip(),
            area_text=data.area_text.strip(), releasable_to=data.releasable_to, community=data.community,
            tlp=data.tlp,
        )
        audit.record(user.username, "create", "watch_filter", [watch.pk], None, address, {"name": watch.name})
    return watch


def do_delete_watch_filter(user: User, watch: WatchFilter, address: str = "") -> None:
    if watch.user_id != user.pk:
        raise ServiceError(gettext("there is no such watch filter"))
    with transaction.atomic():
        audit.record(user.username, "delete", "watch_filter", [watch.pk], None, address, {"name": watch.name})
        watch.delete()


def _label_matches(watch: WatchFilter, label: Label) -> bool:
    if watch.releasable_to and watch.releasable_to not in label.category("releasable_to"):
        return False
    if watch.community and watch.community not in label.category("communities"):
        return False
    return not (watch.tlp and label.tlp.value != watch.tlp)


def matches(watch: WatchFilter, row: dict[str, Any], values: Sequence[str], label: Label) -> bool:
    """Does one stored object (its columns, observable values and label) match the filter? Visibility is separate."""
    if watch.types and row["type"] not in watch.types:
        return False
    if watch.value_contains:
        needle = watch.value_contains.casefold()
        if needle not in str(row["name"]).casefold() and not any(needle in v.casefold() for v in values):
            return False
    if watch.area_text and watch.area_text.casefold() not in str(row["data"]).casefold():
        return False
    return _label_matches(watch, label)


def _fetch(stix_ids: Sequence[str]) -> tuple[list[dict[str, Any]], dict[int, list[str]]]:
    rows: list[dict[str, Any]] = []
    for start in range(0, len(stix_ids), _FETCH_CHUNK):
        chunk = stix_ids[start : start + _FETCH_CHUNK]
        rows.extend(dict(row) for row in StixObject.objects.filter(stix_id__in=chunk, is_current=True)
                    .values("id", "stix_id", "type", "name", "label_id", "data"))
    values: dict[int, list[str]] = defaultdict(list)
    pks = [r["id"] for r in rows]
    for start in range(0, len(pks), _FETCH_CHUNK):
        # Not the ip-range keys (hex, derived from the address values beside them): a value filter reads values.
        for obj_id, value in (ObservableValue.objects.filter(obj_id__in=pks[start : start + _FETCH_CHUNK])
                              .exclude(kind=IP_RANGE).values_list("obj_id", "value")):
            values[obj_id].append(value)
    return rows, values


def notify_new_objects(stix_ids: list[str]) -> int:
    """Write inbox entries (and send one e-mail per watcher) for new objects that match active watch filters.

    Called by the importer after each committed batch. Never raises: a failing notification must not fail an
    import whose objects are already stored; the failure is logged. Returns the number of inbox entries written."""
    try:
        return _notify(list(dict.fromkeys(stix_ids)))
    except Exception:
        logger.exception("watch-filter notification failed for a batch of %d objects", len(stix_ids))
        return 0


def _notify(stix_ids: list[str]) -> int:
    if not stix_ids:
        return 0
    watches = list(WatchFilter.objects.filter(active=True, user__is_active=True).select_related("user"))
    if not watches:
        return 0
    rows, values = _fetch(stix_ids)
    # Watch filters watch threat information: Kizuna's own records and marking/extension-definitions that travel
    # in the store are no match for a filter of "any type" (a filter's types are threat types only).
    left_out = set(queries.not_threat_types())
    rows = [row for row in rows if row["type"] not in left_out]
    if not rows:
        return 0
    labels = {r.pk: label_of(r) for r in LabelRecord.objects.filter(pk__in={row["label_id"] for row in rows})}
    by_user: dict[int, list[WatchFilter]] = defaultdict(list)
    for watch in watches:
        by_user[watch.user_id].append(watch)
    written = 0
    # Those who chose a digest (or no e-mail) are told of matches there, counted, not by a message per batch.
    email_now = notification_services.wants_email_now(set(by_user))
    for user_watches in by_user.values():
        user = user_watches[0].user
        subject = subject_for(user)
        label_seen = visible_labels(subject)
        wanted: dict[str, WatchFilter] = {}
        for row in rows:
            if row["label_id"] not in label_seen or row["stix_id"] in wanted:
                continue
            for watch in user_watches:
                if matches(watch, row, values.get(row["id"], ()), labels[row["label_id"]]):
                    wanted[row["stix_id"]] = watch
                    break
        if not wanted:
            continue
        # The label was checked above; this adds the relationship rule (both ends visible) in the database.
        seen = queries.visible_ids(subject, wanted)
        entries = [Notification(user=user, module=MODULE, kind=WATCH_MATCH, ref=sid, key=watch_key(sid),
                                detail={"watch_filter": wanted[sid].pk}) for sid in wanted if sid in seen]
        count = notification_services.store(entries)
        written += count
        if count and user.pk in email_now:
            _email(user, count)
    return written


def watch_key(stix_id: str) -> str:
    """One watch notification per user and object: its key names the object only."""
    return f"watch:{stix_id}"


def _email(user: User, count: int) -> None:
    """Only the number of new entries: the inbox, not the mail system, is where labelled content is shown."""
    if not user.email:
        return
    with translation.override(user.language or settings.LANGUAGE_CODE):
        subject = ngettext("Kizuna: %(count)d new threat object matches your watch filters",
                           "Kizuna: %(count)d new threat objects match your watch filters", count) % {"count": count}
        body = gettext("New objects match your watch filters. Sign in to Kizuna and open Threats › Inbox to see "
                       "them.")
    notification_services.send_plain(user, subject, body)


# --- inbox: the resolver of watch notifications ----------------------------------------------------------------------


def _visible(subject: Subject) -> Q:
    """Notification rows whose object the subject may see now (a label may have narrowed since): for each row, its
    object looked up by STIX id, so the cost follows the reader's notifications, not the size of the store."""
    visible = visible_labels(subject)
    if not visible:
        return Q(pk__in=[])
    # As ``queries.visible_objects(subject, include_revoked=True)``, written for a lookup by id: the label test as
    # on ``label_id + 0`` (``unindexed_label``) so that no database answers it from the label index (SQLite,
    # without statistics, would scan a label's objects for each notification), and ``stix_id >= ref`` beside the
    # equality so that PostgreSQL probes the index instead of hashing every visible object (see ``queries``).
    current = (StixObject.objects.annotate(_label=unindexed_label())
               .filter(visible.q("_label"), stix_id=OuterRef("ref"), is_current__in=[True])
               .filter(stix_id__gte=OuterRef("ref"))
               .filter(queries.shown_line(subject, visible)))
    return Q(Exists(queries.with_relationship_rule(current, subject)))


def _watch_filter_id(note: Notification) -> int | None:
    """The watch filter that matched (a deleted filter is shown as none, as its SET_NULL foreign key did)."""
    value = note.detail.get("watch_filter") if isinstance(note.detail, dict) else None
    return value if isinstance(value, int) else None


def _entries(user: User, notes: Sequence[Notification]) -> dict[int, Entry]:
    objects = {o.stix_id: o for o in queries.visible_objects(subject_for(user), include_revoked=True)
               .filter(stix_id__in=sorted({n.ref for n in notes})).select_related("label", "originator")}
    filters = {n.pk: _watch_filter_id(n) for n in notes}
    names = dict(WatchFilter.objects.filter(user=user, pk__in=sorted({i for i in filters.values() if i is not None}))
                 .values_list("pk", "name"))
    result: dict[int, Entry] = {}
    for note in notes:
        obj = objects.get(note.ref)
        if obj is None:
            continue
        filter_id = filters[note.pk]
        watch_name = names.get(filter_id, "") if filter_id is not None else ""
        text = gettext("Matches your watch filter “%(name)s”.") % {"name": watch_name} if watch_name else ""
        result[note.pk] = Entry(note, obj.name or obj.stix_id, text, reverse("threats:object", args=[obj.stix_id]),
                                obj.label, detail={"type": obj.type, "watch_filter": watch_name},
                                audit=("stix", obj.pk))
    return result


def register() -> None:
    """Called by ``WatchConfig.ready()``: watch notifications are resolved here. Their words are never e-mailed
    (``_email`` sends only a count)."""
    notification_registry.register(MODULE, notification_registry.Resolver(
        name=gettext_lazy("Threat watch"), visible=_visible, entries=_entries, mail_entries=False))


def unread_count(user: User) -> int:
    """Unread watch entries whose object the user may still see."""
    return notification_queries.unread_count(user, MODULE)


def inbox(user: User, limit: int = INBOX_LIMIT) -> list[Entry]:
    return notification_queries.inbox(user, MODULE, unread_first=False, limit=limit)


def do_mark_read(user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's watch entries as read (all of them when ``ids`` is None)."""
    return notification_services.mark_read(user, ids, MODULE)
