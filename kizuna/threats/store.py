"""Writing validated STIX objects to the store, a batch at a time, in one transaction with raw SQL.

Django model instances cost 5-8x over plain rows at this volume, so rows are written with ``executemany`` on SQLite
and ``COPY`` on PostgreSQL. Per batch, in this order:

1. versions already stored, by (id, modified), are counted as "unchanged" (one query per 500 ids, not per object);
2. a new version of a stored id is accepted only from the organisation that originated the id, and only when its
   ``created_by_ref`` is the one the id was created with (otherwise that object alone is rejected, with the reason);
3. each distinct label is interned once (``intern_label``); an object whose label the importer could not see is
   rejected (the importer may not store what it could not read);
4. rows are inserted, ``is_current`` moved so that each id has exactly one current version, the one with the latest
   ``modified`` (compared as instants, not as text: ``...27Z`` and ``...27.000Z`` are the same);
5. observable values of current versions (indicator simple patterns, SCO values, file hashes) are indexed in
   ``ObservableValue``; the old current version's values are dropped. Domain names, e-mail addresses and hashes are
   indexed lower-cased, other values as they are.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from kizuna.core.access import intern_label, may_subject_see
from kizuna.labels import Label, LabelError, Subject
from kizuna.threats.models import ObservableValue, StixObject
from kizuna.threats.validate import simple_pattern, timestamp_key

STIX_TABLE = StixObject._meta.db_table
VALUE_TABLE = ObservableValue._meta.db_table
_CHUNK = 500  # ids per IN (...) query
MAX_ID = 128  # the width of stix_id, source_ref and target_ref
MAX_VALUE = 512
SCO_VALUE_TYPES = {"ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr"}
_LOWER_KINDS = {"domain-name", "email-addr"}
FILE_HASHES = {"MD5": "file:MD5", "SHA-1": "file:SHA-1", "SHA-256": "file:SHA-256", "SHA-512": "file:SHA-512",
               "SHA1": "file:SHA-1", "SHA256": "file:SHA-256", "md5": "file:MD5", "sha1": "file:SHA-1",
               "sha256": "file:SHA-256"}

REASON_ORIGINATOR = "only the originator may issue new versions"
REASON_CREATED_BY = "created_by_ref must not change between versions"


@dataclass(slots=True)
class Candidate:
    """A valid object on its way in: its position in the input, its text, and the label the importer gave it."""

    index: int
    obj: dict[str, Any]
    text: str
    label: Label
    values: list[tuple[str, str]] | None = None  # observable values, when already extracted (else done here)
    version: str = ""  # version_of(obj), set by write_batch


@dataclass
class BatchResult:
    accepted_ids: list[str] = field(default_factory=list)
    unchanged: int = 0
    rejected: list[tuple[int, str | None, str]] = field(default_factory=list)  # (index, id, reason)
    label_ids: set[int] = field(default_factory=set)


# One encoder for every object (json.dumps with options builds a new one per call); allow_nan=False rejects NaN and
# infinite numbers, which JSON cannot write.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def to_text(obj: dict[str, Any]) -> str | None:
    """The JSON text stored for an object (keys in their order, compact), or None when it cannot be stored as UTF-8
    (a lone surrogate from a ``\\ud800`` escape) or holds a number JSON cannot write (infinite, NaN)."""
    try:
        text = _ENCODER.encode(obj)
    except (ValueError, TypeError, RecursionError):
        return None
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return None
    return text


def version_of(obj: dict[str, Any]) -> str:
    """The version key stored in ``modified``: the object's ``modified``; for objects that have none (marking
    definitions, which never change, and observables) ``created`` or the empty string."""
    return str(obj.get("modified") or obj.get("created") or "")


def observable_values(obj: dict[str, Any]) -> list[tuple[str, str]]:
    """The (kind, value) pairs an object carries, for search by value and "also reported by"."""
    t = obj.get("type")
    found: list[tuple[str, str]] = []
    if t == "indicator" and obj.get("pattern_type") == "stix" and isinstance(obj.get("pattern"), str):
        found = simple_pattern(obj["pattern"]) or _complex_pattern_values(obj["pattern"])
    elif t in SCO_VALUE_TYPES and isinstance(obj.get("value"), str):
        found = [(str(t), obj["value"])]
    elif t == "file" and isinstance(obj.get("hashes"), dict):
        found = [(FILE_HASHES[k], v) for k, v in obj["hashes"].items() if k in FILE_HASHES and isinstance(v, str)]
    result: list[tuple[str, str]] = []
    for kind, value in found:
        if kind in _LOWER_KINDS or kind.startswith("file:"):
            value = value.lower()
        if value and len(value) <= MAX_VALUE and "\x00" not in value and (kind, value) not in result:
            result.append((kind, value))
    return result


_COMPLEX_PATHS: dict[tuple[str, tuple[str, ...]], str] = {
    ("ipv4-addr", ("value",)): "ipv4-addr", ("ipv6-addr", ("value",)): "ipv6-addr",
    ("domain-name", ("value",)): "domain-name", ("url", ("value",)): "url", ("email-addr", ("value",)): "email-addr",
}


def _complex_pattern_values(pattern: str) -> list[tuple[str, str]]:
    """Values compared with ``=`` in a pattern the fast path does not handle (already validated: rare, slow path)."""
    try:
        from stix2patterns.v21.pattern import Pattern

        comparisons = Pattern(pattern).inspect().comparisons
    except Exception:
        return []
    found: list[tuple[str, str]] = []
    for obj_type, items in comparisons.items():
        for path, op, value in items:
            if op != "=" or not isinstance(value, str) or not value.startswith("'"):
                continue
            literal = value[1:-1].replace("\\'", "'").replace("\\\\", "\\")
            names = tuple(p for p in path if isinstance(p, str))
            if (obj_type, names) in _COMPLEX_PATHS:
                found.append((_COMPLEX_PATHS[(obj_type, names)], literal))
            elif obj_type == "file" and len(names) == 2 and names[0] == "hashes":
                kind = FILE_HASHES.get(names[1].strip("'"))
                if kind:
                    found.append((kind, literal))
    return found


def display_name(obj: dict[str, Any]) -> str:
    """What lists show: the name, else the value, else the pattern, else the relationship type."""
    for prop in ("name", "value", "pattern", "relationship_type", "path", "subject", "opinion", "content"):
        value = obj.get(prop)
        if isinstance(value, str) and value:
            return value.replace("\x00", "")[:300]
    return ""


def _ends(obj: dict[str, Any]) -> tuple[str, str]:
    """source_ref/target_ref columns: a relationship's two ends; a sighting's sighted object (target left blank)."""
    t = obj.get("type")
    if t == "relationship":
        return str(obj.get("source_ref", "")), str(obj.get("target_ref", ""))
    if t == "sighting":
        return str(obj.get("sighting_of_ref", "")), ""
    return "", ""


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _existing(ids: list[str]) -> list[tuple[int, str, str, int, bool]]:
    """(pk, stix_id, modified, originator_id, is_current) of every stored version of these ids."""
    rows: list[tuple[int, str, str, int, bool]] = []
    with connection.cursor() as cursor:
        for chunk in _chunks(ids):
            marks = ",".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT id, stix_id, modified, originator_id, is_current FROM {STIX_TABLE} "  # noqa: S608 - fixed
                f"WHERE stix_id IN ({marks})", chunk)
            rows.extend((r[0], r[1], r[2], r[3], bool(r[4])) for r in cursor.fetchall())
    return rows


def _created_by(pks: list[int]) -> dict[int, str | None]:
    """created_by_ref of stored versions (only needed for ids receiving a new version: rare)."""
    found: dict[int, str | None] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(pks), _CHUNK):
            chunk = pks[start : start + _CHUNK]
            marks = ",".join(["%s"] * len(chunk))
            cursor.execute(f"SELECT id, data FROM {STIX_TABLE} WHERE id IN ({marks})", chunk)  # noqa: S608
            for pk, data in cursor.fetchall():
                try:
                    found[pk] = json.loads(data).get("created_by_ref")
                except (ValueError, AttributeError):
                    found[pk] = None
    return found


def write_batch(candidates: list[Candidate], *, subject: Subject, originator_id: int) -> BatchResult:
    """Store a batch of valid objects in one transaction (the caller's, or a new one). See the module docstring."""
    result = BatchResult()
    if not candidates:
        return result
    if connection.vendor == "sqlite":
        # SQLite's default page cache (2 MB) thrashes while five indexes over random UUIDs grow; 64 MB for this
        # connection keeps index pages in memory (measured: most of the insert time at 100,000 objects).
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -65536")
    with transaction.atomic():
        # 1. Duplicates within the batch and versions already stored are unchanged.
        seen: set[tuple[str, str]] = set()
        fresh: list[Candidate] = []
        for c in candidates:
            c.version = version_of(c.obj)
            key = (c.obj["id"], c.version)
            if key in seen:
                result.unchanged += 1
            else:
                seen.add(key)
                fresh.append(c)
        ids = sorted({c.obj["id"] for c in fresh})
        stored_versions: set[tuple[str, str]] = set()
        owner: dict[str, int] = {}
        current: dict[str, tuple[int, str]] = {}  # stix_id -> (pk, modified) of the stored current version
        any_version: dict[str, int] = {}
        for pk, stix_id, modified, originator, is_current in _existing(ids):
            stored_versions.add((stix_id, modified))
            owner[stix_id] = originator
            any_version[stix_id] = pk
            if is_current:
                current[stix_id] = (pk, modified)
        new: list[Candidate] = []
        for c in fresh:
            if (c.obj["id"], c.version) in stored_versions:
                result.unchanged += 1
            else:
                new.append(c)

        # 2. New versions of stored ids: only from the originator, created_by_ref unchanged.
        updates = [c for c in new if c.obj["id"] in owner]
        reference: dict[int, str | None] = {}
        if updates:
            reference = _created_by(sorted({current.get(c.obj["id"], (any_version[c.obj["id"]], ""))[0]
                                            for c in updates}))
        kept: list[Candidate] = []
        batch_created_by: dict[str, Any] = {}
        for c in new:
            stix_id = c.obj["id"]
            if stix_id in owner:
                if owner[stix_id] != originator_id:
                    result.rejected.append((c.index, stix_id, REASON_ORIGINATOR))
                    continue
                ref_pk = current.get(stix_id, (any_version[stix_id], ""))[0]
                if c.obj.get("created_by_ref") != reference.get(ref_pk):
                    result.rejected.append((c.index, stix_id, REASON_CREATED_BY))
                    continue
            else:
                first = batch_created_by.setdefault(stix_id, c.obj.get("created_by_ref"))
                if c.obj.get("created_by_ref") != first:
                    result.rejected.append((c.index, stix_id, REASON_CREATED_BY))
                    continue
            kept.append(c)

        # 3. Labels: interned once per distinct label; the importer must be able to see each.
        # Keyed by the label object (id()): hashing a Label walks its fields, and a batch shares a few objects.
        label_ids: dict[int, int | str] = {}
        for label in {id(c.label): c.label for c in kept}.values():
            try:
                record = intern_label(label)
            except LabelError as exc:
                label_ids[id(label)] = gettext("label: %(reason)s") % {"reason": exc}
                continue
            if not may_subject_see(subject, label):
                label_ids[id(label)] = gettext("you could not see an object with this label yourself")
                continue
            label_ids[id(label)] = record.pk
        accepted: list[Candidate] = []
        for c in kept:
            lid = label_ids[id(c.label)]
            if isinstance(lid, str):
                result.rejected.append((c.index, c.obj["id"], lid))
            else:
                accepted.append(c)
                result.label_ids.add(lid)
        if not accepted:
            return result

        # 4. Current flags: per id, the latest of the stored current version and the new ones.
        best: dict[str, Candidate] = {}
        for c in accepted:
            other = best.get(c.obj["id"])
            if other is None or timestamp_key(c.version) > timestamp_key(other.version):
                best[c.obj["id"]] = c
        superseded: list[int] = []
        now_current: set[int] = set()  # id() of candidates that become current
        for stix_id, c in best.items():
            old = current.get(stix_id)
            if old is None or timestamp_key(c.version) > timestamp_key(old[1]):
                now_current.add(id(c))
                if old is not None:
                    superseded.append(old[0])
        now: Any = timezone.now()
        if connection.vendor != "postgresql":
            now = connection.ops.adapt_datetimefield_value(now)  # once, not per row
        # Rows in stix_id order: the random-key indexes are then filled leaf after leaf rather than all over.
        accepted.sort(key=lambda c: c.obj["id"])
        pks = _allocate_ids(len(accepted))
        rows = [_row(pk, c, label_ids[id(c.label)], originator_id, now, id(c) in now_current)
                for pk, c in zip(pks, accepted, strict=True)]
        if superseded:
            _supersede(superseded)
        _insert_objects(rows)
        value_rows = [(pk, kind, value) for pk, c in zip(pks, accepted, strict=True) if id(c) in now_current
                      for kind, value in (c.values if c.values is not None else observable_values(c.obj))]
        if value_rows:
            _insert_values(value_rows)
        result.accepted_ids = [c.obj["id"] for c in sorted(accepted, key=lambda c: c.index)]
    return result


def _row(pk: int, c: Candidate, label_id: Any, originator_id: int, now: Any, is_current: bool) -> tuple[Any, ...]:
    obj = c.obj
    t = obj["type"]
    if t == "relationship" or t == "sighting":
        source, target = _ends(obj)
    else:
        source = target = ""
    return (
        pk, label_id, originator_id, now, now, obj["id"], t, obj.get("spec_version") or "2.1",
        str(obj.get("created") or ""), c.version, is_current, obj.get("revoked") is True, source, target,
        display_name(obj), c.text,
    )


_COLUMNS = ("id", "label_id", "originator_id", "created_at", "updated_at", "stix_id", "type", "spec_version", "created",
            "modified", "is_current", "revoked", "source_ref", "target_ref", "name", "data")


def _insert_objects(rows: list[tuple[Any, ...]]) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {STIX_TABLE} ({', '.join(_COLUMNS)}) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join(["%s"] * len(_COLUMNS))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {STIX_TABLE} ({', '.join(_COLUMNS)}) VALUES ({marks})",  # noqa: S608 - fixed names
            rows,  # created_at/updated_at already adapted by write_batch
        )


def _supersede(pks: list[int]) -> None:
    with connection.cursor() as cursor:
        for start in range(0, len(pks), _CHUNK):
            chunk = pks[start : start + _CHUNK]
            marks = ",".join(["%s"] * len(chunk))
            cursor.execute(f"UPDATE {STIX_TABLE} SET is_current = %s WHERE id IN ({marks})", [False, *chunk])  # noqa: S608
            cursor.execute(f"DELETE FROM {VALUE_TABLE} WHERE obj_id IN ({marks})", chunk)  # noqa: S608


def _allocate_ids(n: int) -> list[int]:
    """Row ids for n new rows, so observable values can point at them without reading the rows back. The caller
    holds the write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: ids come from the table's own sequence)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql = f"SELECT nextval(pg_get_serial_sequence('{STIX_TABLE}', 'id')) FROM generate_series(1, %s)"  # noqa: S608
            cursor.execute(sql, [n])
            return [r[0] for r in cursor.fetchall()]
        # AUTOINCREMENT never reuses an id, even of a deleted last row: start after both the table and its sequence.
        cursor.execute(f"SELECT max(id) FROM {STIX_TABLE}")  # noqa: S608 - fixed names
        top = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [STIX_TABLE])
        seq = cursor.fetchone()
        start = max(top, seq[0] if seq else 0) + 1
    return list(range(start, start + n))


def _insert_values(rows: list[tuple[int, str, str]]) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {VALUE_TABLE} (obj_id, kind, value) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        return
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {VALUE_TABLE} (obj_id, kind, value) VALUES (%s, %s, %s)", rows)  # noqa: S608
