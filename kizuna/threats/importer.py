"""Streaming import of STIX 2.1 bundles: parse, validate, give each object its label, store in batches.

The bundle is read with ijson (its C backend when built) over ``objects.item``, so memory holds one batch (5,000
objects), not the bundle. Each object is validated and prepared (``prepare.prepare``: a rejected object comes back with
its index in ``objects``, its id and the reason), then each batch is written in one transaction with one audit entry
(``store.write_batch``). JSON that breaks midway stops the import there: the batches before it stay stored, and the
summary says where it broke. A large bundle is parsed and prepared in a child process while this one labels and
writes (``_run_parallel``); the import means the same either way.

Labels (see docs/threats.md): a Kizuna label marking referenced by the object's ``object_marking_refs`` gives its
label; otherwise the importer's default label for this source, with the TLP of a standard TLP marking on the object
when it has one (TLP:RED names the importer's organisation as a recipient). A referenced marking must be a TLP id or a
marking-definition in the bundle or already in the store; anything else rejects the object ("unknown marking").

Markings after their users: bundles usually put marking-definitions first, but nothing requires it. Labels are
resolved when a batch is flushed, so a marking anywhere in the same batch is found; an object whose marking is still
unknown at its flush is set aside (spilled to a temporary file, so memory stays bounded) and resolved once the whole
bundle has been read, when every marking it holds is known. This costs nothing for well-ordered bundles, unlike a
second pass over the whole file, and works on streams that cannot be rewound (an HTTP upload).
"""

from __future__ import annotations

import gc
import io
import json
import logging
import marshal
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

import ijson
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils.translation import gettext

from kizuna.core import audit
from kizuna.core.access import visible_among
from kizuna.core.jsonguard import GuardedReader, JsonLimitError, scan
from kizuna.core.sqlite.base import importing, takes_turns, waited
from kizuna.core.sqlite.turns import Turns
from kizuna.labels import TLP, Label, LabelError, Subject
from kizuna.threats import prepare as prepare_module
from kizuna.threats import sniff
from kizuna.threats.markings import TLP_BY_ID, label_from_marking, tlp_of_refs
from kizuna.threats.prepare import (
    LIMIT_ERROR,
    LIMITS,
    P_ID,
    P_INDEX,
    P_OBJECT_REFS,
    P_REFS,
    P_ROW,
    P_TYPE,
    REASON_TOO_LARGE,
    REASON_TOO_LONG,
    REASON_UNSTORABLE,
    ROW_TEXT,
    CountingReader,
    Prepared,
    is_marked,
    marking_refs,  # noqa: F401 - re-exported (federation.sync)
    prepare,
    read_frame,
    text_size,
)
from kizuna.threats.store import (
    REASON_CREATED_BY,
    REASON_ORIGINATOR,
    STIX_TABLE,
    VALUE_TABLE,
    Candidate,
    write_batch,
)

logger = logging.getLogger("kizuna.threats.import")

BATCH_SIZE = 5000
MAX_ERRORS = 100  # the first rejections are listed; all are counted by reason
MAX_ACCEPTED_IDS = 10_000  # accepted_ids lists the first ones (forms and MISP import need a handful)
PROGRESS_EVERY = 0.5  # seconds between progress reports
# Each batch is atomic (a savepoint), but batches are committed together at most every COMMIT_EVERY seconds: a commit
# writes every index page the batch touched, and random STIX ids touch nearly every leaf of the stix_id indexes, so
# committing per batch made the import quadratic (measured: 5,900/s at 100,000 objects on SQLite, most of it commits).
COMMIT_EVERY = 0.5
# SQLite has one writer at a time, and an import's open transaction holds the write lock: on a SQLite file the
# import commits in slices of SLICE_SECONDS, and after each one lets writers that wait for the lock go first
# (``kizuna.core.sqlite.turns``), so an interactive write waits for at most about one slice (issue 12, item 5).
# Measured on main (7281bdb), one import of 200,000 indicators (92 MB) beside a writer every 50 ms: the import held
# the lock 0.55-0.63 s at a time (COMMIT_EVERY and a batch of 5,000) and took it again 8 ms after each commit, and
# single writes waited 2.3-7.3 s. A slice ends only between batches (each batch is atomic), so batches are smaller
# in slices: 5,000 indicators took 0.3-0.45 s to write, 1,000 about 0.03 s.
SLICE_SECONDS = 0.15
SLICE_BATCH_SIZE = 1000
# The Checkpointer copies the log at most this often, not after every commit: in slices, hot index pages were copied
# again after every slice (measured: 200,000 indicators 12.2 s with it, 18.0 s copying after every commit).
CHECKPOINT_EVERY = 0.5
# A passive checkpoint copies the log but never restarts it while writers keep writing, so beside other writers the
# log grew to 2 GB for 300,000 objects from two imports (1 GB on main), and every read of a page searches the log's
# index, which grows with it. Once the log holds RESTART_FRAMES pages (128 MB) and nearly all are copied, the
# checkpoint thread copies the rest in RESTART mode (waiting at most RESTART_WAIT for the write lock), so that the
# next writer writes the log from its start.
RESTART_FRAMES = 32_768
RESTART_WAIT = 0.1

# Bundles at least this large are parsed and prepared in a separate process (``prepare.serve``) while this one
# writes: parsing, validation and JSON encoding take about as long as the writes, and the GIL keeps a thread from
# overlapping them (measured: a writer thread with per-row GIL hand-overs ran 20x slower). Below it, starting a
# process (about 0.1 s) costs more than it saves.
PARALLEL_MIN_BYTES = 4_000_000
# Messages from the parsing process read ahead into memory (each at most 500 objects or 512 KB of JSON text): enough
# for the child to prepare the next batch while this process writes one. With only the pipe's buffer (1 MB) the two
# processes took turns instead (measured: this process waited 2 s of 5.7 s for the child).
QUEUED_MESSAGES = 12
# A batch also ends once its objects hold this many characters of JSON and search text (``prepare.text_size``):
# objects with long descriptions carry their text twice (the threat search's text, ``prepare.search_text``), and
# batches of 5,000 of them held twice the memory (the 50 MB streaming test's peak went from under 30 MB to 41 MB).
# Plain indicators (about 550 characters each) never reach it.
BATCH_TEXT = 6_000_000

REASON_UNKNOWN_MARKING = "unknown marking"
REASON_INVALID_MARKING = "invalid marking"
REASON_NOT_VISIBLE = "label not visible to the importer"
REASON_BAD_LABEL = "invalid label"
REASON_DATABASE = "database error"
# Writes of one batch that met a concurrent writer (see Importer._write): each retry reads the other's committed
# versions, so a second attempt normally settles it; more only when several imports keep meeting each other.
WRITE_ATTEMPTS = 6


# PostgreSQL: after an import that stored at least this many objects, the statistics of the STIX tables are refreshed
# (ANALYZE, about a second at 400,000 rows): a bulk load outruns autovacuum, and with the statistics of a much smaller
# table the planner chose plans that walked the primary key or scanned the table (issue 12, item 6: creating a report
# took 46-194 ms until a manual ANALYZE, 16 ms after).
ANALYZE_AFTER = 10_000


def refresh_statistics() -> None:
    """ANALYZE the STIX object and observable value tables (PostgreSQL). A failure is logged, never the import's."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {STIX_TABLE}, {VALUE_TABLE}")
    except DatabaseError as exc:
        logger.warning("ANALYZE after an import failed: %s", exc)


def _is_conflict(exc: DatabaseError) -> bool:
    """A unique violation, a deadlock or a serialisation failure: what a concurrent writer of the same ids causes."""
    cause = exc.__cause__
    state = getattr(cause, "sqlstate", None) or getattr(getattr(cause, "diag", None), "sqlstate", None)
    if state in {"23505", "40P01", "40001"}:
        return True
    return isinstance(exc, IntegrityError) and "UNIQUE" in str(exc).upper()


def _backend() -> Any:
    try:
        return ijson.get_backend("yajl2_c")
    except ImportError:  # the C extension was not built on this machine: the default backend is correct, slower
        return ijson


BACKEND = _backend()


@dataclass
class ObjectError:
    index: int
    id: str | None
    reason: str


@dataclass
class SliceStats:
    """What a ``HeldTransaction`` held: how many transactions it committed, the longest (seconds from its begin to
    the end of its commit: on SQLite, how long it held the write lock), the time spent in all of them, and (SQLite,
    in slices) the time spent between them letting other writers go first and waiting for the lock. Read by tests,
    benchmarks and ``kizuna stix import``."""

    slices: int = 0
    longest: float = 0.0
    held: float = 0.0
    waited: float = 0.0


@dataclass
class ImportSummary:
    accepted: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    errors: list[ObjectError] = field(default_factory=list)
    accepted_ids: list[str] = field(default_factory=list)
    default_label_display: str = ""
    stream_error: str = ""  # set when the input stopped being readable (broken JSON): what came before was stored
    # Set when the input broke a limit of the whole document (depth, objects, bytes): refused, nothing stored; the
    # HTTP status that fits (400 depth, 413 size) and the message in stream_error.
    refused_status: int = 0
    read_bytes: int = 0
    total_bytes: int = 0
    writes: SliceStats = field(default_factory=SliceStats)  # the import's write transactions (see HeldTransaction)

    def as_errors_json(self) -> list[dict[str, Any]]:
        return [{"index": e.index, "id": e.id, "reason": e.reason} for e in self.errors]


def storable_text(text: str) -> str:
    """Text quoted from the input, made storable in any database column or JSON value: NUL shown as U+FFFD."""
    return text.replace("\x00", "\ufffd")


def category_of(reason: str) -> str:
    """The short key under which a rejection is counted ("invalid STIX (pattern)", "unknown marking", ...)."""
    for fixed in (REASON_ORIGINATOR, REASON_CREATED_BY, REASON_UNKNOWN_MARKING, REASON_INVALID_MARKING,
                  REASON_UNSTORABLE, REASON_DATABASE, REASON_TOO_LONG, REASON_TOO_LARGE):
        if reason.startswith(fixed):
            return fixed
    if reason.startswith(gettext("you could not see")):
        return REASON_NOT_VISIBLE
    if reason.startswith("label:") or reason.startswith(gettext("label: %(reason)s").split("%")[0]):
        return REASON_BAD_LABEL
    prop = reason.split(":", 1)[0] if ":" in reason else ""
    if prop and " " not in prop and len(prop) < 40:
        return f"invalid STIX ({prop})"
    return "invalid STIX"


def configure_limits() -> None:
    """The input limits of this node's settings (docs/security.md), for this process's reads."""
    from django.conf import settings

    prepare_module.configure(
        depth=int(getattr(settings, "KIZUNA_JSON_MAX_DEPTH", LIMITS["depth"])),
        string=int(getattr(settings, "KIZUNA_JSON_MAX_STRING_BYTES", LIMITS["string"])),
        objects=int(getattr(settings, "KIZUNA_STIX_MAX_BUNDLE_OBJECTS", LIMITS["objects"])),
        object_bytes=int(getattr(settings, "KIZUNA_STIX_MAX_OBJECT_BYTES", LIMITS["object_bytes"])),
    )


def max_bundle_bytes() -> int:
    from django.conf import settings

    return int(getattr(settings, "KIZUNA_STIX_MAX_BUNDLE_BYTES", 4 * 1024 * 1024 * 1024))


def _refuse(summary: ImportSummary, exc: JsonLimitError) -> ImportSummary:
    summary.stream_error = gettext("%(reason)s (this node's limit); the bundle was refused and nothing was imported") \
        % {"reason": exc.message}
    summary.refused_status = exc.status
    return summary


class Precheck:
    """What the scan before an import found: ``refused`` (a limit of the whole input, or None) and ``clean`` (the
    whole input was scanned and holds no string over the limit: it can then be parsed without the guard)."""

    def __init__(self, refused: JsonLimitError | None = None, clean: bool = False) -> None:
        self.refused, self.clean = refused, clean


def precheck(stream: BinaryIO, total_bytes: int) -> Precheck:
    """Before anything is parsed or stored: the whole input's size, and, when it can be read twice (a file, a body in
    memory), a scan of its nesting and object count (``jsonguard.scan``, linear, at C speed), so that a bundle
    refused for its depth or size stores nothing. A stream that cannot be rewound is checked as it is read."""
    limit = max_bundle_bytes()
    if total_bytes > limit:
        return Precheck(JsonLimitError("size", f"the bundle is larger than {limit:,} bytes"))
    try:
        seekable = stream.seekable() if hasattr(stream, "seekable") else False
        start = stream.tell() if seekable else 0
    except (OSError, ValueError):
        seekable = False
    if not seekable:
        return Precheck()
    guard = prepare_module.guard()
    guard.max_bytes = limit
    try:
        scan(stream, guard)
    except JsonLimitError as exc:
        return Precheck(exc)
    finally:
        stream.seek(start)
    return Precheck(clean=not guard.too_long and not guard.in_string)


class Markings:
    """What the importer knows about marking-definitions: the labels Kizuna label markings carry, markings that
    carry none (statements, TLP definitions), and those that were invalid. Store lookups are made once per id."""

    def __init__(self) -> None:
        self.labels: dict[str, Label] = {}
        self.plain: set[str] = set()
        self.invalid: dict[str, str] = {}
        self.looked_up: set[str] = set()

    def knows(self, ref: str) -> bool:
        return ref in TLP_BY_ID or ref in self.labels or ref in self.plain or ref in self.invalid

    def learn(self, marking: dict[str, Any]) -> None:
        ref = marking["id"]
        try:
            label = label_from_marking(marking)
        except (LabelError, ValueError, TypeError) as exc:
            self.invalid.setdefault(ref, str(exc))
            return
        if label is None:
            self.plain.add(ref)
        else:
            self.labels.setdefault(ref, label)

    def look_up_stored(self, refs: set[str], subject: Subject) -> None:
        """Learn the stored marking-definitions among ``refs`` that the subject may see (current versions), one
        query per call. A stored marking the subject may not see is not learnt: it stays unknown, exactly as an id
        that is not stored ("existence is a read", see ``store``). Of an id stored in several version lines, the
        one the subject is shown (the oldest visible line)."""
        wanted = sorted(r for r in refs if r not in self.looked_up and not self.knows(r))
        self.looked_up.update(wanted)
        if not wanted:
            return
        found: list[tuple[str, int, int, str]] = []  # (stix_id, line, label_id, data)
        with connection.cursor() as cursor:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join(["%s"] * len(chunk))
                cursor.execute(
                    f"SELECT stix_id, line, label_id, data FROM {STIX_TABLE} "  # noqa: S608 - fixed names
                    f"WHERE is_current = %s AND stix_id IN ({marks})",
                    [True, *chunk])
                found.extend(cursor.fetchall())
        if not found:
            return
        seen = visible_among(subject, {label_id for _, _, label_id, _ in found})
        shown: dict[str, tuple[int, str]] = {}
        for stix_id, line, label_id, data in found:
            if label_id in seen and (stix_id not in shown or line < shown[stix_id][0]):
                shown[stix_id] = (line, data)
        for _, data in shown.values():
            try:
                self.learn(json.loads(data))
            except (ValueError, KeyError, TypeError):
                continue


class Importer:
    """One import: feed objects (with their index), then ``finish()`` for the summary."""

    def __init__(
        self,
        *,
        actor: str,
        subject: Subject,
        originator_id: int,
        originator_code: str,
        default_label: Label,
        default_label_display: str,
        source: str,
        progress: Callable[[ImportSummary], None] | None = None,
    ) -> None:
        self.actor = actor
        self.subject = subject
        self.originator_id = originator_id
        self.originator_code = originator_code
        self.default_label = default_label
        self.source = source
        self.progress = progress
        self.summary = ImportSummary(default_label_display=default_label_display)
        self.markings = Markings()
        self.batch: list[Prepared] = []
        self.batch_text = 0  # characters of text in the batch (BATCH_TEXT)
        self.batch_marked = False  # some object of the batch has markings or is a marking-definition
        self.pending: IO[bytes] | None = None
        self.pending_count = 0
        self.final = False  # after the whole input: unknown markings are final
        self.batch_number = 0
        self.analyze_at = ANALYZE_AFTER  # PostgreSQL: refresh the statistics when this many objects are stored
        self.analyzed = 0  # objects stored at the last refresh
        self.last_progress = 0.0
        self.labels_cache: dict[tuple[str, TLP | None], Label] = {}
        # The open transaction that groups batches until the next commit (with, on SQLite for large imports, the
        # Checkpointer that copies the log after each commit). On a SQLite file, outside a caller's transaction:
        # short slices, other writers first between them (SLICE_SECONDS); in a caller's transaction the lock is the
        # caller's.
        sliced = takes_turns(connection)
        self.commit_every = SLICE_SECONDS if sliced else COMMIT_EVERY
        self.batch_size = min(BATCH_SIZE, SLICE_BATCH_SIZE) if sliced else BATCH_SIZE
        self.group = HeldTransaction(turns=Turns(str(connection.settings_dict["NAME"])) if sliced else None)

    # ---- feeding -------------------------------------------------------------------------------------------------

    def feed(self, index: int, obj: Any) -> None:
        prepared = prepare(index, obj)
        if isinstance(prepared, str):
            self.reject(index, obj.get("id") if isinstance(obj, dict) and isinstance(obj.get("id"), str) else None,
                        prepared)
            return
        if is_marked(prepared):
            self.batch_marked = True
            if prepared[P_TYPE] == "marking-definition":
                self.markings.learn(obj)
        self.batch.append(prepared)
        self.batch_text += text_size(prepared)
        if len(self.batch) >= self.batch_size or self.batch_text >= BATCH_TEXT:
            self.flush()

    def feed_prepared(self, prepared: list[Prepared], marked: list[int]) -> None:
        """Objects prepared by the parsing process (``prepare.serve``), in input order; ``marked`` the positions of
        those for which ``prepare.is_marked`` holds."""
        for i in marked:
            if prepared[i][P_TYPE] == "marking-definition":
                self.markings.learn(json.loads(prepared[i][P_ROW][ROW_TEXT]))
        sizes = [text_size(p) for p in prepared]
        start = 0
        while start < len(prepared):  # batches ending where they would when fed one by one
            end = min(len(prepared), start + self.batch_size - len(self.batch))
            text = sum(sizes[start:end])
            if self.batch_text + text >= BATCH_TEXT:  # the text budget ends the batch sooner (rare)
                text, end = 0, start
                while self.batch_text + text < BATCH_TEXT:
                    text += sizes[end]
                    end += 1
            self.batch.extend(prepared[start:end])
            self.batch_text += text
            if marked and any(start <= i < end for i in marked):
                self.batch_marked = True
            start = end
            if len(self.batch) >= self.batch_size or self.batch_text >= BATCH_TEXT:
                self.flush()

    def reject(self, index: int, stix_id: str | None, reason: str) -> None:
        # The id and the reason may quote what was sent, NUL included, and are stored in the job's JSON (PostgreSQL's
        # jsonb cannot hold U+0000: found by the fuzzer as a 500 on TAXII POST).
        stix_id = storable_text(stix_id) if stix_id is not None else None
        reason = storable_text(reason)
        s = self.summary
        s.rejected += 1
        key = category_of(reason)
        s.rejected_by_reason[key] = s.rejected_by_reason.get(key, 0) + 1
        if len(s.errors) < MAX_ERRORS:
            s.errors.append(ObjectError(index, stix_id, reason))

    # ---- labels --------------------------------------------------------------------------------------------------

    def label_for(self, p: Prepared) -> Label | str | None:
        """The object's label, a rejection reason, or None when a marking is not known yet (set it aside)."""
        if p[P_TYPE] == "marking-definition" and p[P_ID] in self.markings.labels:
            return self.markings.labels[p[P_ID]]  # a label marking lives under the label it carries
        refs = p[P_REFS]
        if refs is None:
            return self._default_with(None)  # no markings at all (most bulk feeds): the default label as it is
        found: set[Label] = set()
        for ref in refs:
            if ref in TLP_BY_ID or ref in self.markings.plain:
                continue
            if ref in self.markings.labels:
                found.add(self.markings.labels[ref])
            elif ref in self.markings.invalid:
                return f"{REASON_INVALID_MARKING}: {ref} carries an invalid Kizuna label ({self.markings.invalid[ref]})"
            elif not self.final:
                return None
            else:
                return (f"{REASON_UNKNOWN_MARKING}: {ref} is neither a TLP marking nor a marking-definition in the "
                        "bundle or the store")
        object_refs = p[P_OBJECT_REFS] or []
        labels = {self.markings.labels[r] for r in object_refs if r in self.markings.labels}
        if len(labels) > 1:
            return f"{REASON_INVALID_MARKING}: more than one Kizuna label marking on the object"
        if labels:
            return next(iter(labels))
        tlp = tlp_of_refs(object_refs) if object_refs else None
        return self._default_with(tlp)

    def _default_with(self, tlp: TLP | None) -> Label:
        key = ("", tlp)
        cached = self.labels_cache.get(key)
        if cached is None:
            d = self.default_label
            cached = d if tlp is None else Label.build(d.policy, d.classification, dict(d.categories), tlp,
                                                       d.recipients)
            if cached.tlp is TLP.RED:
                cached = cached.with_recipient(f"org:{self.originator_code}")
            self.labels_cache[key] = cached
        return cached

    # ---- writing -------------------------------------------------------------------------------------------------

    def flush(self) -> None:
        batch, self.batch = self.batch, []
        self.batch_text = 0
        marked, self.batch_marked = self.batch_marked, False
        if not batch:
            return
        default = self._default_with(None)
        if not marked:  # no markings in the whole batch (most bulk feeds): the default label, as in label_for
            candidates = [Candidate(p, default) for p in batch]
        else:
            knows = self.markings.knows
            unknown = {r for p in batch if p[P_REFS] for r in p[P_REFS] if not knows(r)}
            if unknown:
                self.markings.look_up_stored(unknown, self.subject)
            candidates = []
            for p in batch:
                label = self.label_for(p)
                if label is None:
                    self._set_aside(p)
                elif isinstance(label, str):
                    self.reject(p[P_INDEX], p[P_ID], label)
                else:
                    candidates.append(Candidate(p, label))
        if candidates:
            self._write(candidates)
        self.report_progress()

    def _write(self, candidates: list[Candidate]) -> None:
        self.batch_number += 1
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            held = not self._begin_group()  # earlier batches of this import wait in the open group
            try:
                with transaction.atomic():  # the batch: all or nothing (a savepoint inside the group)
                    result = write_batch(candidates, subject=self.subject, originator_id=self.originator_id)
                    audit.record(
                        self.actor, "import", "stix", result.accepted_ids, None, "",
                        {"source": self.source[:300], "batch": self.batch_number,
                         "accepted": len(result.accepted_ids), "unchanged": result.unchanged,
                         "rejected": len(result.rejected), "labels": sorted(result.label_ids)},
                    )
                break
            except DatabaseError as exc:
                # Another writer stored some of these ids between our read of the stored versions and our insert
                # (a unique violation once it committed), or the two imports waited on each other (deadlock): the
                # batch was rolled back whole. Commit the batches written before it (they hold row locks the other
                # writer may be waiting for) and write it again: the versions are read again, with the other
                # writer's, and each object gets its own answer (issue 12). Anything else, or a conflict that does
                # not go away, rejects this batch only.
                if attempt < WRITE_ATTEMPTS and _is_conflict(exc):
                    logger.info("import batch %s of %s met a concurrent writer (%s): written again",
                                self.batch_number, self.source, type(exc).__name__)
                    if held:
                        self.commit()
                    continue
                logger.warning("import batch %s of %s rolled back: %s", self.batch_number, self.source, exc)
                detail = " ".join(str(exc).split())[:200]
                for c in candidates:
                    self.reject(c.prepared[P_INDEX], c.prepared[P_ID], f"{REASON_DATABASE}: {detail}")
                return
        if self.group.held_for() >= self.commit_every:
            self.commit()
        s = self.summary
        s.accepted += len(result.accepted_ids)
        s.unchanged += result.unchanged
        room = MAX_ACCEPTED_IDS - len(s.accepted_ids)
        if room > 0:
            s.accepted_ids.extend(result.accepted_ids[:room])
        for index, stix_id, reason in sorted(result.rejected, key=lambda r: r[0]):
            self.reject(index, stix_id, reason)

    def _begin_group(self) -> bool:
        """Open the group of batches unless it is open; True when this call opened it."""
        return self.group.begin()

    def commit(self) -> None:
        """Commit the batches written since the last commit (see COMMIT_EVERY and SLICE_SECONDS). On PostgreSQL,
        refresh the statistics whenever the import has doubled what it stored since the last refresh: readers beside
        a long import otherwise get plans made for a table a fraction of its size (the first page of STIX objects
        took 3.4 s beside a 200 MB import, benchmarks/bench_load.py)."""
        self.group.commit()
        if (connection.vendor == "postgresql" and not connection.in_atomic_block
                and self.summary.accepted >= self.analyze_at):
            refresh_statistics()
            self.analyze_at = 2 * self.summary.accepted
            self.analyzed = self.summary.accepted

    def idle(self) -> None:
        """Nothing to write until more input comes: in slices, end the slice now rather than hold the lock idle."""
        if self.group.turns is not None:
            self.group.commit()

    def abort(self, exc: BaseException) -> None:
        """Roll back the batches not yet committed (an unexpected error: the import stops)."""
        self.group.rollback(exc)

    def _set_aside(self, p: Prepared) -> None:
        if self.pending is None:
            self.pending = tempfile.TemporaryFile("w+b")
        marshal.dump(p, self.pending)
        self.pending_count += 1

    def finish(self) -> ImportSummary:
        """Flush the last batch, then resolve what was set aside now that every marking of the input is known."""
        self.flush()
        self.final = True
        if self.pending is not None:
            pending, self.pending = self.pending, None
            with pending:
                pending.seek(0)
                for _ in range(self.pending_count):
                    self.batch.append(marshal.load(pending))  # noqa: S302 - written above by this import
                    self.batch_marked = True  # everything set aside refers to markings
                    if len(self.batch) >= self.batch_size:
                        self.flush()
            self.flush()
        self.commit()
        self.summary.writes = self.group.stats
        if self.group.turns is not None:
            self.group.turns.close()
        if (self.summary.accepted >= ANALYZE_AFTER and connection.vendor == "postgresql"
                and self.summary.accepted != self.analyzed):
            refresh_statistics()
        self.summary.errors.sort(key=lambda e: e.index)
        self.report_progress(force=True)
        return self.summary

    def report_progress(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.progress is not None and (force or now - self.last_progress >= PROGRESS_EVERY):
            self.last_progress = now
            self.progress(self.summary)


class HeldTransaction:
    """A transaction held open across several writes and ended as one: committed (then, when a ``Checkpointer``
    runs, the SQLite write-ahead log copied by its thread) or rolled back. Used by the importer (batches grouped until
    COMMIT_EVERY, or in slices of SLICE_SECONDS on SQLite) and by sync (one page and its cursor). With ``turns``
    (SQLite), each ``begin`` takes its turn at the write lock: writers waiting for it go first
    (``kizuna.core.sqlite.turns``)."""

    def __init__(self, checkpointer: Checkpointer | None = None, turns: Turns | None = None) -> None:
        self.atomic: Any = None
        self.checkpointer = checkpointer
        self.turns = turns
        self.started = 0.0
        self.stats = SliceStats()

    def begin(self) -> bool:
        """Open the transaction unless it is open already; True when this call opened it."""
        if self.atomic is not None:
            return False
        self.atomic = transaction.atomic()
        if self.turns is None:
            self.atomic.__enter__()
        else:
            if self.stats.slices:
                self.stats.waited += self.turns.after_commit()
            with importing(connection, self.turns):
                self.atomic.__enter__()
            self.stats.waited += waited(connection)
        self.started = time.monotonic()
        return True

    def held_for(self) -> float:
        """Seconds since the open transaction began (0 when none is open)."""
        return time.monotonic() - self.started if self.atomic is not None else 0.0

    def commit(self) -> None:
        if self.atomic is not None:
            atomic, self.atomic = self.atomic, None
            atomic.__exit__(None, None, None)
            held = time.monotonic() - self.started
            self._count(held)
            if self.turns is not None:
                self.turns.last_held = held  # the next slice gives way in proportion (turns.IMPORT_SHARE)
            if self.checkpointer is not None:
                self.checkpointer.request()

    def rollback(self, exc: BaseException) -> None:
        if self.atomic is not None:
            atomic, self.atomic = self.atomic, None
            atomic.__exit__(type(exc), exc, exc.__traceback__)
            self._count(time.monotonic() - self.started)

    def _count(self, seconds: float) -> None:
        stats = self.stats
        stats.slices += 1
        stats.held += seconds
        stats.longest = max(stats.longest, seconds)

    def close(self) -> None:
        """Stop the checkpointer, if one runs (it finishes the last copy first)."""
        if self.turns is not None:
            self.turns.close()
            self.turns = None
        if self.checkpointer is not None:
            checkpointer, self.checkpointer = self.checkpointer, None
            checkpointer.close()


class Checkpointer:
    """SQLite: copies the write-ahead log into the database file in a thread of its own while the import goes on.

    By default the connection that commits runs the checkpoint itself once the log exceeds 1,000 pages, so every
    commit of the import also waited for a copy of what it wrote (measured: most of the commit time). Here automatic
    checkpoints are off on the importing connection for the import, and after each commit this thread runs a passive
    checkpoint on a connection of its own (sqlite3 releases the GIL for it, and a passive checkpoint never blocks
    writers or readers). ``close`` waits for the last one, so the import's time includes it."""

    def __init__(self) -> None:
        import sqlite3

        self.path = str(connection.settings_dict["NAME"])
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_autocheckpoint")
            self.previous = int(cursor.fetchone()[0])
            cursor.execute("PRAGMA wal_autocheckpoint = 0")
        self.db = sqlite3.connect(self.path, timeout=20, check_same_thread=False)
        self.wanted = threading.Event()
        self.last_request = 0.0
        self.closing = False
        self.thread = threading.Thread(target=self._run, name="kizuna-import-checkpoint", daemon=True)
        self.thread.start()

    @staticmethod
    def wanted_for(conn: Any) -> bool:
        return bool(conn.vendor == "sqlite" and not conn.is_in_memory_db() and not conn.in_atomic_block)

    def request(self) -> None:
        now = time.monotonic()
        if now - self.last_request >= CHECKPOINT_EVERY:
            self.last_request = now
            self.wanted.set()

    def _run(self) -> None:
        while True:
            self.wanted.wait()
            self.wanted.clear()
            try:
                _, log, copied = self.db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if log >= RESTART_FRAMES and copied >= log - RESTART_FRAMES // 8:
                    self._restart()
            except Exception:  # a checkpoint is an optimisation: SQLite checkpoints later by itself
                logger.warning("import checkpoint failed", exc_info=True)
            if self.closing:
                return

    def _restart(self) -> None:
        """Copy the rest of the log and have the next writer write it from its start (RESTART): the passive copies
        have done most of it, so writers wait only for the rest; if they hold the lock longer than RESTART_WAIT, the
        log just grows until the next try."""
        self.db.execute(f"PRAGMA busy_timeout = {int(RESTART_WAIT * 1000):d}")
        try:
            self.db.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
        finally:
            self.db.execute("PRAGMA busy_timeout = 20000")

    def close(self) -> None:
        self.closing = True
        self.wanted.set()
        self.thread.join()
        self.db.close()
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA wal_autocheckpoint = {self.previous:d}")


def run_stream(importer: Importer, stream: BinaryIO, total_bytes: int = 0) -> ImportSummary:
    """Feed every object of a bundle read from ``stream`` (``objects`` array, streamed), then finish. A large bundle
    (``PARALLEL_MIN_BYTES``) is parsed in a separate process, see ``_run_parallel``."""
    importer.summary.total_bytes = total_bytes
    original = importer.progress
    read = [0]

    def with_bytes(summary: ImportSummary) -> None:
        summary.read_bytes = read[0]
        if original is not None:
            original(summary)

    importer.progress = with_bytes
    configure_limits()
    shape, stream = look_at_head(stream)
    if shape.refusal:  # not a bundle, an object or an array of objects: say what it is, store nothing
        importer.progress = original
        importer.summary.stream_error = shape.refusal
        return importer.finish()
    checked = precheck(stream, total_bytes)
    if checked.refused is not None:
        importer.progress = original
        _refuse(importer.summary, checked.refused)
        return importer.finish()
    # Parsing builds many small containers that all survive until their batch is written: the cyclic garbage
    # collector would walk them again and again for nothing (it dominated the parse time when measured). Reference
    # counting still frees everything; the collector is back on at the end.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        if total_bytes >= PARALLEL_MIN_BYTES:
            if Checkpointer.wanted_for(connection):
                importer.group.checkpointer = Checkpointer()
            summary = _run_parallel(importer, stream, read, checked.clean, shape.prefix)
        else:
            summary = _run_here(importer, stream, read, checked.clean, shape.prefix)
    except BaseException as exc:
        importer.abort(exc)
        raise
    finally:
        importer.progress = original
        importer.group.close()
        if was_enabled:
            gc.enable()
    return summary


class _Replay(io.RawIOBase):
    """A stream that cannot be rewound, with the head already read from it put back in front."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        super().__init__()
        self.head, self.rest = head, rest

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.head:
            if size is None or size < 0:
                data, self.head = self.head + self.rest.read(), b""
                return data
            data, self.head = self.head[:size], self.head[size:]
            return data
        return self.rest.read(size)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def look_at_head(stream: BinaryIO) -> tuple[sniff.Shape, BinaryIO]:
    """What the input is (``sniff.shape``) from its first bytes, and the stream to read it from: the same stream
    rewound (past a UTF-8 byte order mark), or one that gives the head back first when it cannot be rewound."""
    try:
        seekable = stream.seekable() if hasattr(stream, "seekable") else False
        start = stream.tell() if seekable else 0
    except (OSError, ValueError):
        seekable = False
    head = b""
    while len(head) < sniff.HEAD_BYTES:  # a pipe or socket may give less than asked before its end
        chunk = stream.read(sniff.HEAD_BYTES - len(head))
        if not chunk:
            break
        head += chunk
    found = sniff.shape(head)
    if seekable:
        stream.seek(start + found.skip)
        return found, stream
    return found, _Replay(head[found.skip:], stream)  # type: ignore[return-value]


def _run_here(importer: Importer, stream: BinaryIO, read: list[int], clean: bool = False,
              prefix: str = sniff.BUNDLE) -> ImportSummary:
    reader: GuardedReader | CountingReader
    if clean:  # scanned already and nothing to take out: the parser reads the input as it is
        reader = CountingReader(stream)
    else:
        guard = prepare_module.guard()
        guard.max_bytes = max_bundle_bytes()
        reader = GuardedReader(stream, guard)
    index = -1
    try:
        for index, obj in enumerate(BACKEND.items(reader, prefix, use_float=True)):
            read[0] = reader.count
            importer.feed(index, obj)
    except JsonLimitError as exc:  # only a stream that could not be scanned first (see precheck)
        importer.summary.stream_error = _limit_text(index + 1, reader.count, exc.message)
        importer.summary.refused_status = exc.status
    except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError, ValueError) as exc:
        importer.summary.stream_error = _stream_message(index + 1, reader.count, exc)
    read[0] = reader.count
    if index == -1 and not importer.summary.stream_error:
        importer.summary.stream_error = _no_objects_text()
    summary = importer.finish()
    summary.read_bytes = reader.count
    return summary


def _no_objects_text() -> str:
    return gettext("no objects found: %(expected)s") % {"expected": sniff.expected()}


def _run_parallel(importer: Importer, stream: BinaryIO, read: list[int], clean: bool = False,
                  prefix: str = sniff.BUNDLE) -> ImportSummary:
    """Parse, validate and prepare in a child process (``python -m kizuna.threats.prepare``) while this process labels
    and writes: a thread copies ``stream`` to the child's stdin, the child sends prepared objects and rejections back
    in input order. Labels, the store, transactions and audit stay here, so the import means exactly what it means
    in one process (same connection, same batches, atomic per batch, inside the caller's transaction if any)."""
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
    errors = tempfile.TemporaryFile("w+b")
    try:
        child = subprocess.Popen(  # our own module, run by this interpreter
            [sys.executable, "-m", "kizuna.threats.prepare", *(["--copy"] if connection.vendor == "postgresql" else []),
             "--limits=" + ",".join(str(LIMITS[k]) for k in ("depth", "string", "objects", "object_bytes")),
             *(["--scanned"] if clean else []), "--prefix=" + prefix],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=errors, env=env, bufsize=0,
        )
    except OSError:  # no interpreter to start (embedded Python): parse here, slower but the same import
        logger.warning("could not start the STIX parsing process; parsing in this one", exc_info=True)
        errors.close()
        return _run_here(importer, stream, read, clean, prefix)
    assert child.stdin is not None and child.stdout is not None
    _widen_pipe(child.stdin)
    _widen_pipe(child.stdout)
    feed_error: list[BaseException] = []

    def copy_input() -> None:
        try:
            while True:
                chunk = stream.read(1 << 20)
                if not chunk:
                    break
                child.stdin.write(chunk)  # type: ignore[union-attr]
        except BrokenPipeError:
            pass  # the child stopped reading (broken JSON): it reports why
        except BaseException as exc:  # a failed read is raised in the importing thread below
            feed_error.append(exc)
        finally:
            try:
                child.stdin.close()  # type: ignore[union-attr]
            except OSError:
                pass

    feeder = threading.Thread(target=copy_input, name="kizuna-import-feed", daemon=True)
    feeder.start()
    messages: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=QUEUED_MESSAGES)

    def pump() -> None:
        """Read messages as the child writes them, so that it never waits for this process's writes."""
        try:
            while True:
                frame = read_frame(child.stdout)  # type: ignore[arg-type]
                messages.put(frame)
                if frame is None:
                    return
        except BaseException as exc:  # handed to the importing thread
            messages.put(exc)

    reader = threading.Thread(target=pump, name="kizuna-import-read", daemon=True)
    reader.start()
    end: Any = None
    item: bytes | BaseException | None = b""
    try:
        while True:
            if messages.empty():
                importer.idle()  # the parsing process is behind: hold no lock while waiting for it
            item = messages.get()
            if item is None:
                break
            if isinstance(item, BaseException):
                raise item
            message = marshal.loads(item)  # noqa: S302 - plain values from our own parsing process
            if message[0] == "e":
                end = message
                break
            _, read[0], prepared, marked, rejected = message
            for index, stix_id, reason in rejected:
                importer.reject(index, stix_id, reason)
            if prepared:
                importer.feed_prepared(prepared, marked)
            else:
                importer.report_progress()
    finally:
        if end is None:
            child.kill()
        while item is not None and not isinstance(item, BaseException):  # let the reader reach the end
            item = messages.get()
        reader.join()
        child.stdout.close()
        feeder.join()
        child.wait()
        errors.seek(0)
        child_said = errors.read().decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        errors.close()
    if feed_error:
        raise feed_error[0]
    if end is None:
        raise RuntimeError(f"the STIX parsing process stopped (exit status {child.returncode}): {child_said[0][:300]}")
    _, read[0], count, error = end
    if error.startswith(LIMIT_ERROR):  # only a stream that could not be scanned first (see precheck)
        kind, _, message = error[len(LIMIT_ERROR):].partition(":")
        importer.summary.stream_error = _limit_text(count, read[0], message)
        importer.summary.refused_status = JsonLimitError(kind, message).status
    elif error:
        importer.summary.stream_error = _stream_text(count, read[0], error)
    elif count == 0:
        importer.summary.stream_error = _no_objects_text()
    summary = importer.finish()
    summary.read_bytes = read[0]
    return summary


def _widen_pipe(pipe: Any) -> None:
    """1 MB pipes (Linux): the child can be a message or two ahead of the writes, and the copy needs fewer turns."""
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError, ValueError):
        pass


def _stream_message(objects_read: int, at_byte: int, exc: Exception) -> str:
    return _stream_text(objects_read, at_byte, " ".join(str(exc).split())[:200] or type(exc).__name__)


def _stream_text(objects_read: int, at_byte: int, detail: str) -> str:
    return gettext(
        "the input is not valid JSON after %(count)d object(s) (near byte %(byte)d: %(detail)s); the objects before "
        "it were imported, nothing after it"
    ) % {"count": objects_read, "byte": at_byte, "detail": detail}


def _limit_text(objects_read: int, at_byte: int, detail: str) -> str:
    return gettext(
        "the bundle breaks a limit of this node after %(count)d object(s) (near byte %(byte)d: %(detail)s); the objects "
        "before it were imported, nothing after it"
    ) % {"count": objects_read, "byte": at_byte, "detail": detail}


def run_objects(importer: Importer, objects: Iterable[Any]) -> ImportSummary:
    configure_limits()
    try:
        for index, obj in enumerate(objects):
            importer.feed(index, obj)
        return importer.finish()
    except BaseException as exc:
        importer.abort(exc)
        raise
    finally:
        importer.group.close()
