"""Reads of the STIX store for a subject — lists, one object, its versions, search by observable value and "also
reported by" — shared by the web UI, the API, the exporter and the watch filters.

Every read starts from ``StixObject.objects.visible_to(subject)``. On top of the label rule, a relationship or a
sighting (any row with ``source_ref`` or ``target_ref`` set) is visible only when each end it names is itself a
visible current object; a missing end counts as invisible, otherwise a relationship would reveal that an object
exists, and so does an end that is itself a relationship or sighting (STIX allows neither as an end). The rule is
part of the database query (a correlated ``EXISTS`` per end, answered from the ``(stix_id, is_current)`` index, with
the same label set as ``visible_to``), so counts, pages and facets built on these querysets reveal nothing either.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from kizuna.core import registry
from kizuna.core.access import VisibleLabels, unindexed_label, visible_labels
from kizuna.core.models import LabelRecord
from kizuna.labels import Subject
from kizuna.threats.models import ObservableValue, StixObject
from kizuna.threats.prepare import IP_RANGE

# Upper bound on "also reported by" rows: an observable seen by every partner must not turn a detail page into a dump.
ALSO_REPORTED_LIMIT = 100


def shown_line(subject: Subject, visible: VisibleLabels | None = None) -> Q:
    """True for a row that is not shadowed by an older version line of its id: a current version of an older line
    (``line`` lower) that the subject may see. Rows of ids with one line (``forked`` false: nearly all) pass without a
    subquery. See ``kizuna.threats.store``: a reader is shown one current version per id, the oldest visible line's.
    The label test is written as in ``_end_visible``, for the same reason (the (stix_id, ...) index answers it)."""
    if visible is None:
        visible = visible_labels(subject)
    if not visible:
        return Q()  # nothing is visible: no row to shadow
    older = (
        StixObject.objects.annotate(_older_label=unindexed_label())
        .filter(visible.q("_older_label"), stix_id=OuterRef("stix_id"), is_current__in=[True],
                line__lt=OuterRef("line"))
        .filter(stix_id__gte=OuterRef("stix_id"))
    )
    return Q(forked=False) | ~Q(Exists(older))


def _current(subject: Subject) -> QuerySet[StixObject]:
    """Current versions whose label the subject may see, one per id (``shown_line``); no relationship rule yet."""
    return StixObject.objects.visible_to(subject).filter(is_current=True).filter(shown_line(subject))


def _end_visible(subject: Subject, column: str) -> Q:
    """True when ``column`` (source_ref or target_ref) is blank, or names a visible current object.

    The end is looked up by its id first: the label test inside the ``EXISTS`` is the same set as ``visible_to``
    (``visible_labels``), tested on ``label_id + 0`` (``unindexed_label``) so that no database can answer it
    from an index on the label. Without that, SQLite (which has no statistics unless ANALYZE was run) may pick the
    label index and scan every object of a label for each relationship. ``is_current__in=[True]`` rather than
    ``is_current=True`` because SQLite renders the latter as a bare column, which it cannot match against the
    (stix_id, is_current) index."""
    visible = visible_labels(subject)
    if not visible:
        return Q(**{column: ""})
    end = (
        StixObject.objects.annotate(_end_label=unindexed_label())
        .filter(visible.q("_end_label"), stix_id=OuterRef(column), is_current__in=[True])
        # An end must be a plain object: STIX allows only SDOs and SCOs as the ends of a relationship or the object
        # of a sighting, and counting a relationship as an end would need the rule applied recursively.
        .filter(source_ref="")
        # Always true beside the equality; it keeps PostgreSQL from turning the EXISTS into a hashed subplan, which
        # reads every visible object once per query (a chunk of the export, a page of a list) instead of probing the
        # (stix_id, is_current) index for the few rows that are relationships.
        .filter(stix_id__gte=OuterRef(column))
    )
    return Q(**{column: ""}) | Q(Exists(end))


def with_relationship_rule(queryset: QuerySet[StixObject], subject: Subject) -> QuerySet[StixObject]:
    """Drop relationships and sightings of ``queryset`` whose source or target the subject may not see (or that
    this node does not hold). ``queryset`` must already be ``visible_to(subject)``."""
    return queryset.filter(_end_visible(subject, "source_ref")).filter(_end_visible(subject, "target_ref"))


def walk_by_rowid(sql: str, vendor: str) -> str:
    """The compiled SQL of a walk over the store in primary-key ranges, made to follow the ranges on SQLite.

    Without statistics SQLite may answer the filters from another index (the label's, when the label test was an id
    list), then read and sort every matching row for each range: a walk quadratic in the store (measured: an export
    fell from 380,000 to 99,000 objects/s, a TAXII walk took 10 ms per page at 100,000 objects). Naming the outer
    table ``NOT INDEXED`` lets the rowid range drive it. The label rule, the relationship rule and the filters are
    untouched: only the plan changes. Other databases plan the range themselves; so does SQLite when the table is
    named more than once at the top."""
    if vendor != "sqlite":
        return sql
    table = f'"{StixObject._meta.db_table}"'
    outer = f"FROM {table} WHERE"
    return sql.replace(outer, f"FROM {table} NOT INDEXED WHERE") if sql.count(outer) == 1 else sql


def visible_objects(
    subject: Subject, *, types: list[str] | None = None, include_revoked: bool = False
) -> QuerySet[StixObject]:
    """Current versions the subject may see, the relationship rule applied in the query."""
    qs = _current(subject)
    if types:
        qs = qs.filter(type__in=sorted(set(types)))
    if not include_revoked:
        qs = qs.filter(revoked=False)
    return with_relationship_rule(qs, subject)


# STIX objects that describe other objects rather than threats: markings and the definitions of extensions. They
# travel with what they describe (export, TAXII) but are no threat information to list or count.
META_TYPES: tuple[str, ...] = ("extension-definition", "marking-definition")


def record_types() -> frozenset[str]:
    """The STIX types of Kizuna's own records (reports, practices, consultations ...): the types the registry of
    shareable types gives to a module with a model of its own. They are kept in the store so that they federate,
    but they are shown by their own modules, not as threat information."""
    store = f"{StixObject._meta.app_label}.{StixObject.__name__}"
    return frozenset(t for _, rt in registry.record_types() if rt.model != store for t in rt.stix_types)


def not_threat_types() -> list[str]:
    """Every type a threat page leaves out: Kizuna's own record types and the meta types (``META_TYPES``)."""
    return sorted(record_types() | set(META_TYPES))


def threat_objects(subject: Subject, *, types: list[str] | None = None) -> QuerySet[StixObject]:
    """``visible_objects`` without what is not threat information (``not_threat_types``): what the overview counts
    and lists and what the export page offers."""
    return visible_objects(subject, types=types).exclude(type__in=not_threat_types())


def get_object_or_404(subject: Subject, stix_id: str) -> StixObject:
    """The current version of ``stix_id`` if the subject may see it (revoked ones included: a revoked object is still
    a fact about the world); 404 alike for missing, invisible and a relationship with an invisible end."""
    obj = (
        visible_objects(subject, include_revoked=True)
        .filter(stix_id=stix_id)
        .select_related("label", "originator")
        .first()
    )
    if obj is None:
        raise Http404("not found")
    return obj


def object_versions(subject: Subject, stix_id: str) -> list[StixObject]:
    """Every stored version of ``stix_id`` the subject may see in the version line shown to it, oldest first.

    404 unless the current version is visible (with the relationship rule): the history of an object one cannot see
    is not shown, even if an older version carried a label one could. Each version is still filtered by its own label,
    since versions may be labelled differently."""
    current = get_object_or_404(subject, stix_id)
    versions = list(
        StixObject.objects.visible_to(subject)
        .filter(stix_id=stix_id, line=current.line)
        .select_related("label", "originator")
        .order_by("modified", "id")
    )
    return versions or [current]


def normalise_value(value: str) -> str:
    """The form values are looked up in: surrounding space stripped. Case is kept, because hashes and URLs paths are
    compared as given; the importer lower-cases what is case-insensitive (domains, e-mail, hex hashes)."""
    return value.strip()


def _value_candidates(value: str) -> list[str]:
    """The value as typed and, when different, lower-cased: domains, e-mail addresses and hex hashes are indexed in
    lower case, and a user pasting an upper-case hash should still find it."""
    text = normalise_value(value)[:512]
    return sorted({text, text.lower()}) if text else []


def search_by_value(subject: Subject, value: str) -> QuerySet[StixObject]:
    """Visible current objects that carry this observable value (any kind), newest first."""
    candidates = _value_candidates(value)
    if not candidates:
        return StixObject.objects.none()
    holders = ObservableValue.objects.filter(value__in=candidates).values("obj_id")
    return visible_objects(subject).filter(pk__in=holders).order_by("-created_at", "-id")


def also_reported_by(subject: Subject, obj: StixObject) -> list[dict[str, Any]]:
    """Other visible current objects, from other originating organisations, that share an observable value with
    ``obj``: ``[{"object", "originator", "kind", "value"}]``, newest first. ``obj`` must be visible to the subject;
    only what the subject may see is counted or listed."""
    # Not the ip-range keys: derived from the ipv4-addr/ipv6-addr values beside them, which are shown instead.
    pairs = list(ObservableValue.objects.filter(obj_id=obj.pk).exclude(kind=IP_RANGE).values_list("kind", "value")
                 .distinct()[:200])
    if not pairs:
        return []
    match = Q()
    for kind, value in pairs:
        match |= Q(kind=kind, value=value)
    others = visible_objects(subject).exclude(originator_id=obj.originator_id).exclude(stix_id=obj.stix_id)
    rows = (
        ObservableValue.objects.filter(match)
        .filter(obj__in=others.values("pk"))
        .select_related("obj", "obj__originator", "obj__label")
        .order_by("-obj__created_at", "-obj_id", "kind", "value")[:ALSO_REPORTED_LIMIT]
    )
    return [{"object": r.obj, "originator": r.obj.originator, "kind": r.kind, "value": r.value} for r in rows]


def visible_ids(subject: Subject, stix_ids: Iterable[str]) -> set[str]:
    """Which of these STIX ids name a visible current object (relationship rule included): for views that render
    references and must not link, or even name, what the reader cannot see."""
    wanted = sorted(set(stix_ids))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(visible_objects(subject, include_revoked=True).filter(stix_id__in=chunk)
                     .values_list("stix_id", flat=True))
    return found


@dataclass(frozen=True)
class Author:
    """Who created an object, from its ``created_by_ref``: the identity's id, and its name when the reader may see
    that identity (otherwise the page shows the id alone, as it shows any reference it may not follow)."""

    id: str
    name: str = ""
    label: LabelRecord | None = None  # the identity's label (the page shows its name: the banner must count it)

    @property
    def visible(self) -> bool:
        return bool(self.name)


def created_by_ref(data: str) -> str:
    """The ``created_by_ref`` of an object's stored JSON text, or "" when it names none."""
    if '"created_by_ref"' not in data:
        return ""
    try:
        value = json.loads(data).get("created_by_ref")
    except (ValueError, AttributeError):
        return ""
    return value if isinstance(value, str) else ""


def authors(subject: Subject, objects: Iterable[StixObject]) -> dict[str, Author]:
    """Per STIX id, who created each object (``created_by_ref``): distinct from the organisation that shared it on
    this network (``originator``), e.g. an OASIS example bundle imported by NATO but written by MITRE."""
    refs = {o.stix_id: ref for o in objects if (ref := created_by_ref(o.data))}
    if not refs:
        return {}
    wanted = sorted(set(refs.values()))
    found: dict[str, Author] = {}
    for start in range(0, len(wanted), 500):
        rows = (visible_objects(subject, types=["identity"], include_revoked=True)
                .filter(stix_id__in=wanted[start : start + 500]).select_related("label")
                .only("stix_id", "name", "label"))
        found.update({row.stix_id: Author(row.stix_id, row.name or row.stix_id, row.label) for row in rows})
    return {sid: found.get(ref) or Author(ref) for sid, ref in refs.items()}
