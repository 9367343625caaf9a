"""What a TAXII request reads: the filters of TAXII 2.1 turned into one query over the STIX store, for a subject,
paged by keyset with a stateless cursor.

Every query starts from ``kizuna.threats.queries.visible_objects`` (label rule and relationship rule). Versions other
than the current one are served only for objects whose current version is visible, each version filtered by its own
label, as ``queries.object_versions`` does. Pages follow the table's primary key, which is the order objects were
added to this node (``created_at`` is set on insertion), so the cursor (``next``) is the last row's date added and id,
opaque to the client, and no state is kept on the server. A page is read in primary-key ranges (as the exporter does)
so that each row of the collection is read once over a whole walk, whatever the labels the subject may see.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Exists, Max, OuterRef, Q, QuerySet

from kizuna.federation.taxii.collections import Collection
from kizuna.labels import Subject
from kizuna.threats.exporter import LabelMarkings, with_label_marking
from kizuna.threats.models import StixObject
from kizuna.threats.queries import visible_objects

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10000
MAX_MATCH_VALUES = 1000
_RANGE = 4000  # primary-key range read per query while filling a page (doubled while the rows are sparse)
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")


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
class Row:
    pk: int
    added: datetime
    stix_id: str
    modified: str
    label_id: int
    obj_type: str
    data: str


@dataclass
class Page:
    rows: list[Row]
    more: bool
    next: str | None


def taxii_time(stamp: datetime) -> str:
    """A TAXII timestamp (UTC, microseconds, Z)."""
    return stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str, name: str) -> datetime:
    text = value.strip()
    if not _TIMESTAMP.match(text):
        raise BadFilter(f"{name} must be a timestamp such as 2026-01-31T00:00:00.000Z")
    try:
        return datetime.fromisoformat(text[:-1] + "+00:00" if "." not in text else _micro(text))
    except ValueError:
        raise BadFilter(f"{name} must be a timestamp such as 2026-01-31T00:00:00.000Z") from None


def _micro(text: str) -> str:
    """Fractions longer than microseconds are cut (Python parses at most six digits)."""
    head, frac = text[:-1].split(".")
    return f"{head}.{(frac + '000000')[:6]}+00:00"


def encode_cursor(added: datetime, pk: int) -> str:
    raw = json.dumps([taxii_time(added), pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        stamp, pk = json.loads(raw)
        if not isinstance(pk, int) or isinstance(pk, bool) or not isinstance(stamp, str):
            raise ValueError
        return parse_time(stamp, "next"), pk
    except (ValueError, TypeError, binascii.Error, BadFilter, UnicodeDecodeError):
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
    base = stamp.strftime("%Y-%m-%dT%H:%M:%S")
    micro = stamp.strftime("%f")
    spellings = {value, f"{base}.{micro}Z", f"{base}.{micro[:3]}Z"}
    if micro == "000000":
        spellings.add(f"{base}Z")
    return sorted(spellings)


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
        qs = StixObject.objects.visible_to(subject).filter(stix_id__in=current.values("stix_id"))
        if stix_id is not None:  # lets the database use the (stix_id, modified) index directly
            qs = qs.filter(stix_id=stix_id)
        if "all" not in filters.versions:
            wanted = Q(pk__in=[])
            for v in filters.versions:
                if v == "last":
                    wanted |= Q(is_current=True)
                elif v == "first":
                    earlier = StixObject.objects.visible_to(subject).filter(
                        stix_id=OuterRef("stix_id"), modified__lt=OuterRef("modified"))
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


_COLUMNS = ("pk", "created_at", "stix_id", "modified", "label_id", "type", "data")


def page(qs: QuerySet[StixObject], filters: Filters, *, ranged: bool = True) -> Page:
    """One page of ``qs`` in the order objects were added, after the cursor, and whether more follow."""
    need = filters.limit + 1
    start = filters.after[1] if filters.after else 0
    qs = qs.order_by("pk")
    rows: list[tuple[Any, ...]] = []
    if not ranged:
        rows = list(qs.filter(pk__gt=start).values_list(*_COLUMNS)[:need])
    else:
        top = StixObject.objects.aggregate(hi=Max("pk"))["hi"] or 0
        span = _RANGE
        while len(rows) < need and start < top:
            chunk = qs.filter(pk__gt=start, pk__lte=start + span).values_list(*_COLUMNS)[: need - len(rows)]
            rows.extend(chunk)
            start += span
            span = min(span * 2, 256_000)  # sparse rows: widen the range so a page costs few queries
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    out = [Row(*r) for r in rows]
    nxt = encode_cursor(out[-1].added, out[-1].pk) if more and out else None
    return Page(out, more, nxt)


class Markings(LabelMarkings):
    """The Kizuna label marking of each label, computed once per request, appended to objects as the exporter does."""

    def text(self, row: Row) -> str:
        if row.obj_type == "marking-definition":
            return row.data  # definitions are never rewritten
        return with_label_marking(row.data, self.marking_of(row.label_id))
