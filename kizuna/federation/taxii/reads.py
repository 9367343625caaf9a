"""What a TAXII request reads: the filters of TAXII 2.1 turned into one query over the STIX store, for a subject,
paged by keyset with a stateless cursor.

Every query starts from ``kizuna.threats.queries.visible_objects`` (label rule and relationship rule). Versions other
than the current one are served only for objects whose current version is visible, each version filtered by its own
label, and only from the version line the subject is shown (``queries.shown_line``), as ``queries.object_versions``
does. Pages follow the table's primary key, which is the order objects were
added to this node (``created_at`` is set on insertion), so the cursor (``next``) is the last row's date added and id,
opaque to the client, and no state is kept on the server. A page is read in primary-key ranges (as the exporter does)
so that each row of the collection is read once over a whole walk, whatever the labels the subject may see.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from django.db import connections, router
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.dateparse import parse_datetime

from kizuna.core import registry
from kizuna.core.access import label_of, unindexed_label, visible_labels, visible_q
from kizuna.core.access import registry as access_registry
from kizuna.core.models import LabelRecord
from kizuna.federation.signing import SIGNATURE_EXTENSION_ID, signature_extension_definition
from kizuna.federation.taxii.collections import Collection
from kizuna.labels import TLP, Subject
from kizuna.stix.definitions import EPOCH, KIZUNA_IDENTITY_ID, kizuna_identity
from kizuna.stix.timestamps import TimestampError, format_timestamp, parse_timestamp
from kizuna.threats.exporter import LabelMarkings
from kizuna.threats.markings import (
    KIZUNA_LABEL_EXTENSION_ID,
    TLP2_IDS,
    label_extension_definition,
    label_marking,
    tlp2_marking,
)
from kizuna.threats.models import StixObject
from kizuna.threats.queries import shown_line, visible_objects, walk_by_rowid, with_relationship_rule

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10000
MAX_MATCH_VALUES = 1000
_RANGE = 4000  # primary-key range read per query while filling a page (doubled while the rows are sparse)


class BadFilter(Exception):
    """A filter or paging parameter the server cannot honour (answered 400 with this text)."""


@dataclass(frozen=True)
class Filters:
    added_after: datetime | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str, ...] = ("last",)
    spec_versions: tuple[str, ...] = ()
    limit: int = DEFAULT_LIMIT
    after: tuple[datetime, int] | None = None  # the decoded cursor


@dataclass
class Page:
    rows: list[tuple[Any, ...]]  # (pk, *the columns asked for)
    more: bool
    next: str | None
    first_added: datetime | None
    last_added: datetime | None


def parse_time(value: str, name: str) -> datetime:
    """A timestamp filter (``added_after``, ``match[version]``, the time in ``next``); BadFilter when it is not one."""
    try:
        return parse_timestamp(value.strip())
    except TimestampError:
        raise BadFilter(f"{name} must be a timestamp such as 2026-01-31T00:00:00.000Z") from None


def encode_cursor(added: datetime, pk: int) -> str:
    raw = json.dumps([format_timestamp(added, "microsecond"), pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        stamp, pk = json.loads(raw)
        if not isinstance(pk, int) or isinstance(pk, bool) or not isinstance(stamp, str):
            raise ValueError
        return parse_time(stamp, "next"), pk
    except (ValueError, TypeError, binascii.Error, BadFilter, UnicodeDecodeError, RecursionError):
        raise BadFilter("next is not a cursor this server gave out") from None


def _split(values: Iterable[str], name: str) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        out.extend(v.strip() for v in value.split(",") if v.strip())
    if len(out) > MAX_MATCH_VALUES:
        raise BadFilter(f"at most {MAX_MATCH_VALUES} values in {name}")
    return tuple(dict.fromkeys(out))


def parse_filters(params: Any, *, allow_paging: bool = True) -> Filters:
    """The TAXII query parameters of a request (a QueryDict); unknown parameters are ignored, as TAXII says."""
    added_after = params.get("added_after")
    limit_text = params.get("limit")
    limit = DEFAULT_LIMIT
    if limit_text is not None:
        if not limit_text.strip().isdigit() or int(limit_text) < 1:
            raise BadFilter("limit must be a positive whole number")
        limit = min(int(limit_text), MAX_LIMIT)
    versions = _split(params.getlist("match[version]"), "match[version]") or ("last",)
    for v in versions:
        if v not in ("last", "first", "all"):
            parse_time(v, "match[version]")
    types = _split(params.getlist("match[type]"), "match[type]")
    for t in types:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", t):
            raise BadFilter("match[type] must name STIX types")
    nxt = params.get("next")
    return Filters(
        added_after=parse_time(added_after, "added_after") if added_after else None,
        ids=_split(params.getlist("match[id]"), "match[id]"),
        types=types,
        versions=versions,
        spec_versions=_split(params.getlist("match[spec_version]"), "match[spec_version]"),
        limit=limit,
        after=decode_cursor(nxt) if nxt and allow_paging else None,
    )


def _version_texts(value: str) -> list[str]:
    """Spellings under which ``modified`` may be stored for this instant (the store keeps the object's own text)."""
    stamp = parse_time(value, "match[version]")
    micro = format_timestamp(stamp, "microsecond")
    spellings = {value, micro, format_timestamp(stamp)}
    if stamp.microsecond == 0:
        spellings.add(f"{micro[:19]}Z")
    return sorted(spellings)


def _current_visible(subject: Subject, types: list[str] | None) -> QuerySet[StixObject]:
    """For ``EXISTS``: the current version of the outer row's object and version line, visible to the subject (label
    and relationship rule, and the line the subject is shown, as ``visible_objects``). Looked up by id on the
    (stix_id, ...) index: the label test is made on ``label_id + 0`` as the relationship rule writes it, so
    no database answers it from the label index
    (which read every visible object per row: walks over all versions were quadratic), and the always-true
    ``stix_id >= outer`` keeps PostgreSQL from hashing the subquery."""
    visible = visible_labels(subject)
    current = (
        StixObject.objects.annotate(_current_label=unindexed_label())
        .filter(visible.q("_current_label"), stix_id=OuterRef("stix_id"), line=OuterRef("line"),
                is_current__in=[True])
        .filter(stix_id__gte=OuterRef("stix_id"))
        .filter(shown_line(subject, visible))
    )
    if types:
        current = current.filter(type__in=sorted(set(types)))
    return with_relationship_rule(current, subject)


def matching(subject: Subject, collection: Collection, filters: Filters, stix_id: str | None = None
             ) -> QuerySet[StixObject]:
    """The rows (object versions) the request asks for and the subject may see, in no particular order."""
    types = list(filters.types) or None
    current = visible_objects(subject, types=types, include_revoked=True)
    if stix_id is not None:
        current = current.filter(stix_id=stix_id)
    if filters.ids:
        current = current.filter(stix_id__in=list(filters.ids))
    if filters.versions == ("last",):
        qs = current
    else:
        qs = StixObject.objects.visible_to(subject).filter(Exists(_current_visible(subject, types)))
        if filters.ids:
            qs = qs.filter(stix_id__in=list(filters.ids))
        if stix_id is not None:  # lets the database use the (stix_id, modified) index directly
            qs = qs.filter(stix_id=stix_id)
        if "all" not in filters.versions:
            wanted = Q(pk__in=[])
            for v in filters.versions:
                if v == "last":
                    wanted |= Q(is_current=True)
                elif v == "first":
                    earlier = StixObject.objects.visible_to(subject).filter(
                        stix_id=OuterRef("stix_id"), line=OuterRef("line"), modified__lt=OuterRef("modified"))
                    wanted |= ~Q(Exists(earlier))
                else:
                    wanted |= Q(modified__in=_version_texts(v))
            qs = qs.filter(wanted)
    if collection.condition is not None:
        qs = qs.filter(collection.condition)
    if filters.spec_versions:
        qs = qs.filter(spec_version__in=list(filters.spec_versions))
    if filters.added_after is not None:
        qs = qs.filter(created_at__gt=filters.added_after)
    return qs


_LOW, _HIGH = -4774001, -4774002  # placeholder bounds, found again among the compiled query's parameters
_NO_HIGH = 2**62
_TABLE = f'"{StixObject._meta.db_table}"'


def added_at(value: Any) -> datetime:
    """A raw ``created_at`` as the database driver returns it (SQLite: UTC text; PostgreSQL: aware datetime)."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    stamp = parse_datetime(str(value))
    if stamp is None:  # never expected: Django writes every created_at
        raise ValueError(f"unreadable created_at {value!r}")
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Query:
    """The compiled SQL of a request (rows ``pk, *columns`` in primary-key order between two bounds, with a LIMIT as
    the last parameter) and where the two bounds are among its parameters."""

    sql: str
    params: tuple[Any, ...]
    low_at: int
    high_at: int
    ranged: bool


_QUERIES: OrderedDict[tuple[Any, ...], Query | None] = OrderedDict()
_QUERIES_SIZE = 256
_QUERIES_LOCK = threading.Lock()


def compile_query(subject: Subject, collection: Collection, filters: Filters, columns: tuple[str, ...], *,
                  stix_id: str | None = None, ranged: bool = True) -> Query | None:
    """The SQL of ``matching(...)`` for this request, or None when the subject may see no label.

    Building the queryset and compiling it costs more than reading a page of 1,000 objects, so the compiled SQL is
    kept per process (LRU) under everything that went into it: the subject (``Subject.cache_key``, which changes
    whenever anything the label decision reads changes) and the node's policies (the decision in SQL is built from
    both, never from the labels on the node, so a new label does not change it), the collection, the filters (but
    not the cursor or the limit, which are parameters), the id and the columns. The SQL is exactly what
    ``visible_objects`` produced for that key; nothing is decided here.

    On SQLite a walk over a collection names the table ``NOT INDEXED`` (rowid ranges still are): without
    statistics SQLite otherwise answers the label test from the label index and reads, then sorts, every visible row
    of that label for each page — a walk quadratic in the collection. The label rule, the relationship rule and the
    filters are untouched: only the plan changes."""
    db = router.db_for_read(StixObject)
    vendor = connections[db].vendor
    key = (db, vendor, subject.cache_key(), id(access_registry()), collection.id,
           replace(filters, after=None, limit=0), stix_id, columns, ranged)
    with _QUERIES_LOCK:
        if key in _QUERIES:
            _QUERIES.move_to_end(key)
            return _QUERIES[key]
    qs = matching(subject, collection, filters, stix_id)
    found: Query | None = None
    if not qs.query.is_empty():  # a reader who may see no label: nothing to read
        rows = qs.order_by("pk").values_list("pk", *columns)
        sql, params_t = rows.filter(pk__gt=_LOW, pk__lte=_HIGH).query.sql_with_params()
        params = list(params_t)
        if params.count(_LOW) != 1 or params.count(_HIGH) != 1:  # never expected
            raise AssertionError("placeholder bounds not found in the compiled query")
        if ranged:
            sql = walk_by_rowid(sql, vendor)
        found = Query(sql + " LIMIT %s", (*params, 0), params.index(_LOW), params.index(_HIGH), ranged)
    with _QUERIES_LOCK:
        _QUERIES[key] = found
        while len(_QUERIES) > _QUERIES_SIZE:
            _QUERIES.popitem(last=False)
    return found


def page(query: Query | None, filters: Filters) -> Page:
    """One page of the query in the order objects were added, after the cursor, and whether more follow. Rows are
    plain tuples ``(pk, *columns)``; ``Page.first_added`` and ``last_added`` are the dates added of the first and
    last row.

    Ranged (a walk over a collection): primary-key ranges from the cursor, each read once, widened while rows are
    sparse, so that a whole walk reads each row of the table once. Not ranged (named ids): one query."""
    need = filters.limit + 1
    start = filters.after[1] if filters.after else 0
    rows: list[tuple[Any, ...]] = []
    if query is None:
        return Page(rows, False, None, None, None)
    sql, params, low_at, high_at = query.sql, list(query.params), query.low_at, query.high_at
    with connections[router.db_for_read(StixObject)].cursor() as cursor:
        if not query.ranged:
            params[low_at], params[high_at], params[-1] = start, _NO_HIGH, need
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        else:
            top: int | None = None  # the highest id, asked only when the first range does not fill the page
            span = _RANGE
            while len(rows) < need:
                params[low_at], params[high_at], params[-1] = start, start + span, need - len(rows)
                cursor.execute(sql, params)
                rows.extend(cursor.fetchall())
                start += span
                span = min(span * 2, 256_000)  # sparse rows: widen the range so a page costs few queries
                if top is None and len(rows) < need:
                    cursor.execute(f"SELECT MAX(id) FROM {_TABLE}")  # noqa: S608 - the model's own table name
                    top = cursor.fetchone()[0] or 0
                if top is not None and start >= top:
                    break
        more = len(rows) > filters.limit
        if more:
            del rows[filters.limit:]
        if not rows:
            return Page(rows, more, None, None, None)
        # The dates added of the first and last row only (headers and cursor), rather than a datetime for every row.
        cursor.execute(f"SELECT id, created_at FROM {_TABLE} WHERE id IN (%s, %s)",  # noqa: S608 - own table
                       [rows[0][0], rows[-1][0]])
        ends = {pk: added_at(stamp) for pk, stamp in cursor.fetchall()}
    first, last = ends[rows[0][0]], ends[rows[-1][0]]
    return Page(rows, more, encode_cursor(last, rows[-1][0]) if more else None, first, last)


# Definitions this node serves by id without storing them: the same objects on every node — Kizuna's identity, the
# label and signature extension-definitions, the standard TLP 2.0 marking-definitions that every served object names
# beside its label, and the extension-definitions of the registered record types.
def _fixed_definitions() -> dict[str, dict[str, Any]]:
    fixed = {
        KIZUNA_IDENTITY_ID: kizuna_identity(),
        KIZUNA_LABEL_EXTENSION_ID: label_extension_definition(),
        SIGNATURE_EXTENSION_ID: signature_extension_definition(),
        **{TLP2_IDS[tlp]: tlp2_marking(tlp) for tlp in TLP},
    }
    for definition in registry.extension_definitions():
        fixed.setdefault(definition["id"], definition)
    return fixed


# label id -> its marking ids (Kizuna label, TLP 2.0): a label row never changes, its id is its key's hash
_MARKING_IDS: dict[int, tuple[str, ...]] = {}


def label_markings() -> LabelMarkings:
    """The exporter's per-label marking cache, backed by this process's map of label id to marking id: a label's
    id is the hash of its key and its marking id is derived from the same key, so the pair never changes and the
    label row need not be read again for every page."""
    markings = LabelMarkings()
    markings.by_label = _MARKING_IDS
    return markings


def _label_marking_for(subject: Subject, marking_id: str) -> dict[str, Any] | None:
    """The Kizuna label marking-definition ``marking_id`` if it is the marking of a label the subject may see (the
    decision ``visible_to`` applies), else None. Found by the label row's indexed ``marking`` column."""
    found = LabelRecord.objects.filter(visible_q(subject, "pk"), marking=marking_id).first()
    return label_marking(label_of(found)) if found is not None else None


def definition_version(definition: dict[str, Any]) -> str:
    """The version of a definition served by id: its ``modified``, else its ``created`` (markings have no
    ``modified``)."""
    return str(definition.get("modified") or definition.get("created") or EPOCH)


def definition_by_id(subject: Subject, stix_id: str, filters: Filters) -> dict[str, Any] | None:
    """A definition this node serves by id though it is not a stored object — the Kizuna identity, the label,
    signature and report extension-definitions, and the label marking-definition of a label the subject may see — when it
    matches the filters; None otherwise (the caller then looks in the store, and answers 404 when it is not there).

    Their date added is ``EPOCH``; their version is their ``modified`` or ``created`` (``EPOCH`` for Kizuna's own,
    2022-10-01 for the TLP 2.0 markings)."""
    fixed = _fixed_definitions().get(stix_id)
    if fixed is None and stix_id.startswith("marking-definition--"):
        fixed = _label_marking_for(subject, stix_id)
    if fixed is None:
        return None
    epoch = parse_time(EPOCH, "EPOCH")
    if filters.types and fixed["type"] not in filters.types:
        return None
    if filters.spec_versions and fixed["spec_version"] not in filters.spec_versions:
        return None
    if filters.added_after is not None and epoch <= filters.added_after:
        return None
    version = parse_time(definition_version(fixed), "version")
    stamps = [v for v in filters.versions if v not in ("last", "first", "all")]
    if stamps and len(stamps) == len(filters.versions) and all(parse_time(v, "match[version]") != version
                                                                for v in stamps):
        return None
    return fixed
