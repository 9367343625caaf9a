"""Writing validated STIX objects to the store, a batch at a time, in one transaction with raw SQL.

Django model instances cost 5-8x over plain rows at this volume, so rows are written with ``executemany`` on SQLite
and ``COPY`` on PostgreSQL. Per batch, in this order:

1. versions already stored, by (id, modified), in a version line the writer may see (below) are counted as
   "unchanged" (one query per batch, not per object);
2. a new version of a stored id is accepted only from the organisation that originated the id's line, and only when
   its ``created_by_ref`` is the one the line was created with (otherwise that object alone is rejected, with the
   reason);
3. each distinct label is interned once (``intern_label``); an object whose label the importer could not see is
   rejected (the importer may not store what it could not read);
4. rows are inserted, ``is_current`` moved so that each version line of an id (below) has exactly one current
   version, the one with the latest ``modified`` (compared as instants, not as text: ``...27Z`` and ``...27.000Z``
   are the same);
5. observable values of current versions (indicator simple patterns, SCO values, file hashes, and the ``ip-range``
   key of each IP address or network) are indexed in ``ObservableValue``, and their search text (name, description,
   aliases, values: ``prepare.search_text``) in the threat search's trigram index (``SEARCH_INDEX``); the old current
   version's values and text are dropped. Domain names, e-mail addresses and hashes are indexed lower-cased, other
   values as they are.

The foreign keys of these rows (label, originator, and the object of an observable value) have no database
constraint (see ``models.StixObject``): this module is their only writer and guarantees them here. Label ids come
only from ``intern_label``, which reads or inserts the label row; the originating organisation is checked once per
batch (``_check_originator``); values point only at rows inserted in the same batch, and are deleted when their
object stops being current (``_supersede``).

Existence is a read. A stored object the writer may not see must answer exactly as a missing one: same result,
same message, same counts (issue 10: "only the originator may issue new versions" or ``unchanged: 1`` for a hidden
id told the writer it existed, and observables have deterministic ids, so this was a search by value). So the
versions of an id form *version lines* (column ``line``: 0 for the first line of an id, the pk of its first row for
any other), each with exactly one current version (unique: stix_id, line, modified). A line is visible to a writer
when the writer (a user, a token's user, a federation peer: ``subject``) may see the label of the line's *current*
version; the decision covers only the labels of the lines at hand (``access.visible_among``), never every label of
the node. Per id of a batch:

- a visible line holding (id, modified): unchanged, as before;
- a visible line: the rules above apply to it (the oldest visible line of the writer's organisation when it sees
  several, else the one it reads as current), so a new version, a revocation or a relabel needs both sight of the
  current version and the originator's authority; the refusal names the rule, which tells the writer nothing it
  cannot read;
- stored lines, none visible: the id is treated exactly as a new one. The object is stored as a new line (a fork),
  current in it, answered "accepted" like any new id, and the writer reads back its own object. Hidden versions are
  never superseded, revoked or counted as unchanged.

Rows of an id with more than one line carry ``forked``; readers see one current version per id: among the current
versions they may see, the one of the oldest line (``queries``). Not the latest ``modified``: a fork is made by
someone who could not see the older line, and must not replace it for the readers who can (issue 10, case 5: a
colleague with a lower clearance "revoking" an object under a wider label would otherwise revoke it for everyone).
The bulk path (ids that are not stored) costs no extra query: lines are looked at only for ids already stored.

Concurrent writers (issue 12). The database holds the invariant: a partial unique index (``stix_one_current``: stix_id,
line WHERE is_current) allows one current version per line, and (stix_id, line, modified) is unique. Two writers that
read the same stored state and decide alike (both "a new id", or both "a new version of the current one") cannot
both store: the second one's insert waits for the first to commit, then fails with a unique violation, its batch is
rolled back whole, and the importer writes the batch again (``importer.Importer._write``): the versions are read
again, now with the other writer's, so each object gets the answer it would have had in turn (unchanged, a new
version, or "only the originator may issue new versions"). Per-id advisory locks were weighed and left out: a
batch of 5,000 ids held in a transaction grouping several batches would need tens of thousands of entries of
PostgreSQL's shared lock table (64 per connection by default).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Final

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from kizuna.core.access import intern_label, may_subject_see, visible_among
from kizuna.core.bulk import sequence_ids
from kizuna.core.textsearch import TrigramIndex
from kizuna.directory.models import Organisation
from kizuna.labels import Label, LabelError, Subject
from kizuna.threats.models import ObservableValue, StixObject
from kizuna.threats.prepare import (  # noqa: F401 - re-exported: what is stored for an object is defined there
    COPY_SPECIAL,
    FILE_HASHES,
    MAX_VALUE,
    P_COPY,
    P_CREATED_BY,
    P_ID,
    P_INDEX,
    P_KEY,
    P_ROW,
    P_TEXT,
    P_VALUES,
    P_VERSION,
    SCO_VALUE_TYPES,
    Prepared,
    copy_tail,
    copy_text,
    display_name,
    observable_values,
    prepare,
    to_text,
    version_of,
)
from kizuna.threats.validate import timestamp_key

STIX_TABLE = StixObject._meta.db_table
VALUE_TABLE = ObservableValue._meta.db_table
ORGANISATION_TABLE = Organisation._meta.db_table
# The substring index of the threat search (kizuna.threats.search): one text per current version, keyed by its pk,
# created by migration 0010 (an FTS5 table on SQLite, pg_trgm on PostgreSQL).
SEARCH_INDEX = TrigramIndex("threats_searchtext")
_CHUNK = 500  # ids per IN (...) query where SQLite's parameter limit is unknown (999 before SQLite 3.32)
MAX_ID = 128  # the width of stix_id, source_ref and target_ref

REASON_ORIGINATOR = "only the originator may issue new versions"
REASON_CREATED_BY = "created_by_ref must not change between versions"


@dataclass(slots=True)
class Candidate:
    """A valid object on its way in: its prepared form (``prepare.prepare``) and the label the importer gave it."""

    prepared: Prepared
    label: Label
    stix_id: str = ""  # prepared[P_ID], an attribute so that batches sort at C speed

    def __post_init__(self) -> None:
        self.stix_id = self.prepared[P_ID]


def candidate(index: int, obj: dict[str, Any], label: Label) -> Candidate:
    """A Candidate for a valid object given as a dict (callers outside the importer)."""
    prepared = prepare(index, obj)
    if isinstance(prepared, str):
        raise ValueError(prepared)
    return Candidate(prepared, label)


@dataclass
class BatchResult:
    accepted_ids: list[str] = field(default_factory=list)
    unchanged: int = 0
    rejected: list[tuple[int, str | None, str]] = field(default_factory=list)  # (index, id, reason)
    label_ids: set[int] = field(default_factory=set)


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    """``items`` in slices that fit one IN (...) list: a whole batch where SQLite allows it (32,766 parameters since
    3.32), so a batch costs one query."""
    size = _CHUNK
    try:
        import sqlite3

        size = max(_CHUNK, connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) - 10)
    except (AttributeError, TypeError):
        pass
    for start in range(0, len(items), size):
        yield items[start : start + size]


# (pk, stix_id, modified, originator_id, is_current, label_id, line)
Stored = tuple[int, str, str, int, bool, int, int]
S_PK: Final = 0
S_ID: Final = 1
S_MODIFIED: Final = 2
S_ORIGINATOR: Final = 3
S_CURRENT: Final = 4
S_LABEL: Final = 5
S_LINE: Final = 6
# Stored versions a caller has just read, by id (an empty list: none stored), so that write_batch need not read them
# again: sync reads them for a page before verifying it, to skip what it already holds. Ids not in it are read.
_PRELOADED: ContextVar[dict[str, list[Stored]] | None] = ContextVar("kizuna_store_preloaded", default=None)


@contextmanager
def preloaded_versions(versions: dict[str, list[Stored]]) -> Iterator[None]:
    """Within this block, write_batch takes the stored versions of these ids from ``versions`` (the caller
    guarantees nothing has written them since it read them, e.g. it holds the sync lease and drops the ids it has
    stored itself since)."""
    token = _PRELOADED.set(versions)
    try:
        yield
    finally:
        _PRELOADED.reset(token)


def current_versions(stix_id: str, originator_id: int | None = None) -> QuerySet[StixObject]:
    """The current version of each version line of ``stix_id`` (only of lines ``originator_id`` wrote, when given),
    the oldest line first: ``.first()`` is the line a writer's organisation continues (see the module docstring).
    Ordered by ``line`` so that the partial unique index (stix_id, line WHERE is_current) answers it with one probe;
    ordered by pk, PostgreSQL walked the primary key instead (issue 12: 46-55 ms per report at 400,000 rows)."""
    rows = StixObject.objects.filter(stix_id=stix_id, is_current=True)
    if originator_id is not None:
        rows = rows.filter(originator_id=originator_id)
    return rows.order_by("line")


def received_current(objects: list[dict[str, Any]], originator_id: int) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """For an inbound handler: (STIX id, label id, object) of the CURRENT stored version, by ``originator_id``, of
    each id among ``objects`` (what a peer's page held). Handlers mirror what is stored, not what arrived, so a page
    read again or an older version arriving late changes nothing. A stored text that is not a JSON object is
    passed over."""
    ids = sorted({o["id"] for o in objects if isinstance(o.get("id"), str)})
    stored = (StixObject.objects.filter(stix_id__in=ids, is_current=True, originator_id=originator_id)
              .values_list("stix_id", "label_id", "data"))
    for stix_id, label_id, data in stored:
        try:
            obj = json.loads(data)
        except ValueError:
            continue
        if isinstance(obj, dict):
            yield stix_id, label_id, obj


def _existing(ids: list[str]) -> list[Stored]:
    known = _PRELOADED.get()
    if known is None:
        return existing_versions(ids)
    rows = [row for i in ids if i in known for row in known[i]]
    missing = [i for i in ids if i not in known]
    if missing:
        rows.extend(existing_versions(missing))
    return rows


def existing_versions(ids: list[str]) -> list[Stored]:
    """(pk, stix_id, modified, originator_id, is_current, label_id, line) of every stored version of these ids,
    whoever may see them: callers keep only what the writer may see (``visible_versions``)."""
    rows: list[Stored] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The ids as one comma-separated text split by the server: psycopg's dumping of a 5,000-element list
            # as an array parameter cost this process about 0.2 s per 100,000 objects (profiled). Valid STIX ids
            # have no comma; should one have it, the list goes as an array.
            joined = ",".join(ids)
            if joined.count(",") == len(ids) - 1:
                where, param = "stix_id = ANY(string_to_array(%s, ','))", joined
            else:
                where, param = "stix_id = ANY(%s)", ids  # type: ignore[assignment]
            with _index_lookups(cursor):
                cursor.execute(
                    f"SELECT id, stix_id, modified, originator_id, is_current, label_id, line "  # noqa: S608
                    f"FROM {STIX_TABLE} WHERE {where}", [param])
                return cursor.fetchall()
        for chunk in _chunks(ids):
            marks = ",".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT id, stix_id, modified, originator_id, is_current, label_id, line "  # noqa: S608 - fixed
                f"FROM {STIX_TABLE} WHERE stix_id IN ({marks})", chunk)
            rows.extend((r[0], r[1], r[2], r[3], bool(r[4]), r[5], r[6]) for r in cursor.fetchall())
    return rows


@contextmanager
def _index_lookups(cursor: Any) -> Iterator[None]:
    """PostgreSQL: plan the enclosed lookups by key on the indexes, whatever the table statistics say. A bulk load
    outruns autovacuum, and with the statistics of a near-empty table (or for a batch of thousands of keys) the planner
    chose sequential scans, which made the import quadratic (measured: 7,000/s at 100,000 objects). Refreshing the
    statistics with ANALYZE as the table grew fixed the plans but cost a full sample each time; this costs two
    round trips. The setting is transaction-local and put back afterwards."""
    cursor.execute("SELECT current_setting('enable_seqscan'), set_config('enable_seqscan', 'off', true)")
    previous = cursor.fetchone()[0]
    try:
        yield
    finally:
        cursor.execute("SELECT set_config('enable_seqscan', %s, true)", [previous])


def _created_by(pks: list[int]) -> dict[int, str | None]:
    """created_by_ref of stored versions (only needed for ids receiving a new version: rare)."""
    found: dict[int, str | None] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with _index_lookups(cursor):
                cursor.execute(f"SELECT id, data FROM {STIX_TABLE} WHERE id = ANY(%s)", [pks])  # noqa: S608
                fetched = cursor.fetchall()
        else:
            fetched = []
            for chunk in _chunks(pks):
                marks = ",".join(["%s"] * len(chunk))
                cursor.execute(f"SELECT id, data FROM {STIX_TABLE} WHERE id IN ({marks})", chunk)  # noqa: S608
                fetched.extend(cursor.fetchall())
        for pk, data in fetched:
            try:
                found[pk] = json.loads(data).get("created_by_ref")
            except (ValueError, AttributeError):
                found[pk] = None
    return found


def visible_versions(stored: list[Stored], subject: Subject) -> list[Stored]:
    """The stored versions that belong to version lines the subject may see: a line is visible when the label of its
    current version is (see the module docstring). Only the labels of these lines are decided."""
    if not stored:
        return []
    current_label = {(r[S_ID], r[S_LINE]): r[S_LABEL] for r in stored if r[S_CURRENT]}
    seen = visible_among(subject, set(current_label.values()))
    lines = {key for key, label_id in current_label.items() if label_id in seen}
    return [r for r in stored if (r[S_ID], r[S_LINE]) in lines]


def _line(row: Stored) -> int:
    """The order in which readers pick among the current versions of one id in several lines (``queries``): the
    oldest line first (0, then forks by the pk of their first row)."""
    return row[S_LINE]


def _check_versions(candidates: list[Candidate], stored: list[Stored], originator_id: int, result: BatchResult
                    ) -> tuple[list[Candidate], dict[str, tuple[int, str]], dict[str, int]]:
    """Steps 1 and 2 of ``write_batch`` over the versions of the lines the writer may see (``stored``): the
    candidates to store, and for each stored id the current version (pk, modified) and the line of the line they
    go to."""
    # 1. Duplicates within the batch and versions already stored are unchanged.
    seen: set[tuple[str, str]] = set()
    fresh: list[Candidate] = []
    for c in candidates:
        p = c.prepared
        key = (p[P_ID], p[P_VERSION])
        if key in seen:
            result.unchanged += 1
        else:
            seen.add(key)
            fresh.append(c)
    stored_versions: set[tuple[str, str]] = set()
    lines: dict[str, list[Stored]] = {}  # stix_id -> the current version of each visible line
    for row in stored:
        stored_versions.add((row[S_ID], row[S_MODIFIED]))
        if row[S_CURRENT]:
            lines.setdefault(row[S_ID], []).append(row)
    # The line a new version goes to: the writer's organisation's own, else the one the writer reads as current
    # (refused below, by the originator rule).
    target: dict[str, Stored] = {}
    for stix_id, rows in lines.items():
        own = [r for r in rows if r[S_ORIGINATOR] == originator_id]
        target[stix_id] = min(own or rows, key=_line)
    current = {stix_id: (row[S_PK], row[S_MODIFIED]) for stix_id, row in target.items()}
    line_of = {stix_id: row[S_LINE] for stix_id, row in target.items()}
    if stored_versions:
        new: list[Candidate] = []
        for c in fresh:
            if (c.prepared[P_ID], c.prepared[P_VERSION]) in stored_versions:
                result.unchanged += 1
            else:
                new.append(c)
    else:
        new = fresh

    # 2. New versions of stored ids: only from the originator, created_by_ref unchanged.
    reference: dict[int, str | None] = {}
    if target:
        updates = {c.prepared[P_ID] for c in new if c.prepared[P_ID] in target}
        if updates:
            reference = _created_by(sorted({current[i][0] for i in updates}))
    kept: list[Candidate] = []
    batch_created_by: dict[str, Any] = {}
    for c in new:
        p = c.prepared
        stix_id = p[P_ID]
        if stix_id in target:
            if target[stix_id][S_ORIGINATOR] != originator_id:
                result.rejected.append((p[P_INDEX], stix_id, REASON_ORIGINATOR))
                continue
            if p[P_CREATED_BY] != reference.get(current[stix_id][0]):
                result.rejected.append((p[P_INDEX], stix_id, REASON_CREATED_BY))
                continue
        else:
            first = batch_created_by.setdefault(stix_id, p[P_CREATED_BY])
            if p[P_CREATED_BY] != first:
                result.rejected.append((p[P_INDEX], stix_id, REASON_CREATED_BY))
                continue
        kept.append(c)
    return kept, current, line_of


def write_batch(candidates: list[Candidate], *, subject: Subject, originator_id: int) -> BatchResult:
    """Store a batch of valid objects, given in input order, in one transaction (the caller's, or a new one). See
    the module docstring."""
    result = BatchResult()
    if not candidates:
        return result
    if connection.vendor == "sqlite":
        # SQLite's default page cache (2 MB) thrashes while five indexes over random UUIDs grow; 64 MB for this
        # connection keeps index pages in memory (measured: most of the insert time at 100,000 objects).
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -65536")
    # Raw cursors (COPY) raise the driver's own errors; wrapped, they reach the caller as Django's DatabaseError, which
    # the importer handles per batch (issue 12: a UniqueViolation from COPY was a 500 and lost the whole request).
    with connection.wrap_database_errors, transaction.atomic():
        ids = {c.stix_id for c in candidates}
        stored = _existing(sorted(ids))
        forks: set[str] = set()  # stored ids of which the writer may see no line: each gets a new line
        forked: set[str] = set()  # ids whose new rows are marked ``forked`` (more than one line)
        line_of: dict[str, int] = {}
        if len(ids) == len(candidates) and not stored:
            # The bulk case (a new feed): every id once in the batch and not stored yet, so nothing is unchanged,
            # no originator or created_by_ref rule applies, and every object becomes current. The general steps
            # below give the same result, object by object.
            kept = candidates
            current: dict[str, tuple[int, str]] = {}
        else:
            visible = visible_versions(stored, subject)
            kept, current, line_of = _check_versions(candidates, visible, originator_id, result)
            if len(visible) != len(stored):
                forks = {r[S_ID] for r in stored}.difference(r[S_ID] for r in visible)
            line_sets: dict[str, set[int]] = {}
            for row in stored:
                line_sets.setdefault(row[S_ID], set()).add(row[S_LINE])
            forked = forks.union(i for i, held in line_sets.items() if len(held) > 1)

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
        if all(isinstance(v, int) for v in label_ids.values()):
            accepted = kept
        else:
            accepted = []
            for c in kept:
                lid = label_ids[id(c.label)]
                if isinstance(lid, str):
                    result.rejected.append((c.prepared[P_INDEX], c.prepared[P_ID], lid))
                else:
                    accepted.append(c)
        if not accepted:
            return result
        _check_originator(originator_id)
        result.label_ids.update(v for v in label_ids.values() if isinstance(v, int))  # exactly the accepted ones'

        # 4. Current flags: per id, the latest of the stored current version and the new ones.
        superseded: list[int] = []
        now_current: set[int] | None = None  # id() of prepared tuples that become current; None: all of them
        if current or len(ids) != len(candidates):
            best: dict[str, Prepared] = {}
            for c in accepted:
                p = c.prepared
                other = best.get(p[P_ID])
                if other is None or p[P_KEY] > other[P_KEY]:
                    best[p[P_ID]] = p
            now_current = set()
            for stix_id, p in best.items():
                old = current.get(stix_id)
                if old is None or p[P_KEY] > timestamp_key(old[1]):
                    now_current.add(id(p))
                    if old is not None:
                        superseded.append(old[0])
        now: Any = timezone.now()
        if connection.vendor != "postgresql":
            now = connection.ops.adapt_datetimefield_value(now)  # once, not per row
        result.accepted_ids = [c.stix_id for c in accepted]  # candidates come in input order
        # Rows in stix_id order: the random-key indexes are then filled leaf after leaf rather than all over.
        accepted.sort(key=_BY_ID)
        pks = _allocate_ids(len(accepted))
        if now_current is None and not line_of and not forked:
            rows = [(pk, label_ids[id(c.label)], originator_id, now, now, True, 0, False, *c.prepared[P_ROW],
                     *c.prepared[P_COPY:]) for pk, c in zip(pks, accepted, strict=True)]
            value_rows = [(pk, kind, value) for pk, c in zip(pks, accepted, strict=True)
                          for kind, value in c.prepared[P_VALUES]]
            text_rows = [(pk, c.prepared[P_TEXT]) for pk, c in zip(pks, accepted, strict=True) if c.prepared[P_TEXT]]
        else:
            rows = []
            value_rows = []
            text_rows = []
            new_line: dict[str, int] = {}  # a fork's line: the pk of its first row
            for pk, c in zip(pks, accepted, strict=True):
                p = c.prepared
                is_current = now_current is None or id(p) in now_current
                stix_id = c.stix_id
                line = new_line.setdefault(stix_id, pk) if stix_id in forks else line_of.get(stix_id, 0)
                rows.append((pk, label_ids[id(c.label)], originator_id, now, now, is_current, line,
                             stix_id in forked, *p[P_ROW], *p[P_COPY:]))
                if is_current:
                    for kind, value in p[P_VALUES]:
                        value_rows.append((pk, kind, value))
                    if p[P_TEXT]:
                        text_rows.append((pk, p[P_TEXT]))
            if new_line:
                _mark_forked(sorted(new_line))
        if superseded:
            _supersede(superseded)
        _insert_objects(rows)
        if value_rows:
            _insert_values(value_rows)
        if text_rows:
            SEARCH_INDEX.insert(text_rows)
    return result


_BY_ID = attrgetter("stix_id")


# The stored columns, in the order of the rows above: the prepared row (prepare.prepare) after the first eight.
_COLUMNS = ("id", "label_id", "originator_id", "created_at", "updated_at", "is_current", "line", "forked", "stix_id",
            "type", "spec_version", "created", "modified", "revoked", "source_ref", "target_ref", "name", "data")
_HEAD = 8  # columns before the prepared row


def _check_originator(originator_id: int) -> None:
    """The organisation exists: the check the database no longer makes for each row (see the module docstring).
    IntegrityError, as a constraint would raise: the batch is rolled back and its objects rejected."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {ORGANISATION_TABLE} WHERE id = %s", [originator_id])  # noqa: S608
        if cursor.fetchone() is None:
            raise IntegrityError(f"no organisation {originator_id} to originate STIX objects")


_COPY_ROWS = 100  # rows per write to the COPY stream: few calls, and little text held at once (memory test of a 50 MB bundle)


def _insert_objects(rows: list[tuple[Any, ...]]) -> None:
    if connection.vendor == "postgresql":
        # The COPY text is made here rather than by psycopg's write_row: the first six columns are the same for the
        # whole batch but the id and is_current, and write_row looked up a dumper for each of the 16 values of
        # every row (measured: 1.07 s of this process per 100,000 objects).
        with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {STIX_TABLE} ({', '.join(_COLUMNS)}) FROM STDIN"
        ) as copy:
            heads: dict[tuple[Any, ...], str] = {}
            lines: list[str] = []
            width = len(_COLUMNS)
            for row in rows:
                key = row[1:_HEAD]  # label_id, originator_id, created_at, updated_at, is_current, line, forked
                head = heads.get(key)
                if head is None:
                    label_id, originator_id, created_at, updated_at, is_current, line, forked = key
                    head = heads[key] = (f"{int(label_id)}\t{int(originator_id)}\t{created_at.isoformat()}\t"
                                         f"{updated_at.isoformat()}\t{'t' if is_current else 'f'}\t{int(line)}\t"
                                         f"{'t' if forked else 'f'}\t")
                # The rest of the line: made by the parsing process (prepare.P_COPY) when the row came from it.
                tail = row[width] if len(row) > width else copy_tail(row[_HEAD:width])
                lines.append(f"{int(row[0])}\t{head}{tail}")
                if len(lines) >= _COPY_ROWS:
                    copy.write("".join(lines))
                    lines.clear()
            if lines:
                copy.write("".join(lines))
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
    SEARCH_INDEX.delete(pks)


def _mark_forked(stix_ids: list[str]) -> None:
    """Every stored row of these ids now belongs to an id with more than one line (a fork was just stored)."""
    with connection.cursor() as cursor:
        for start in range(0, len(stix_ids), _CHUNK):
            chunk = stix_ids[start : start + _CHUNK]
            marks = ",".join(["%s"] * len(chunk))
            cursor.execute(f"UPDATE {STIX_TABLE} SET forked = %s WHERE forked = %s AND stix_id IN ({marks})",  # noqa: S608
                           [True, False, *chunk])


def _allocate_ids(n: int) -> list[int]:
    """Row ids for n new rows, so observable values can point at them without reading the rows back. The caller
    holds the write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: ids come from the table's own sequence)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            return sequence_ids(STIX_TABLE, n)
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
            esc, special = copy_text, COPY_SPECIAL  # the COPY text made here, as in _insert_objects
            for start in range(0, len(rows), _COPY_ROWS):
                chunk = rows[start : start + _COPY_ROWS]
                if special("".join([kind + value for _, kind, value in chunk])):  # rare: escape row by row
                    copy.write("".join([
                        f"{int(pk)}\t{esc(kind)}\t{esc(value)}\n" if special(kind + value)
                        else f"{int(pk)}\t{kind}\t{value}\n" for pk, kind, value in chunk]))
                else:  # one pattern search for the chunk
                    copy.write("".join([f"{int(pk)}\t{kind}\t{value}\n" for pk, kind, value in chunk]))
        return
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {VALUE_TABLE} (obj_id, kind, value) VALUES (%s, %s, %s)", rows)  # noqa: S608
