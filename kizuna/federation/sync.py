"""Pulling from peers: TAXII pages in, each object verified against its originating node's key, stored through the
threat store's importer, with a cursor per peer and collection saved in the same transaction as each page.

For each page, in order:

1. Objects this node already holds in that version are unchanged (counted, not verified again): re-reading a page
   after a crash or an overlap costs one query.
2. Every other object must carry a Kizuna signature by a node this node knows (itself excluded: its own objects
   coming back are ignored) under a trusted key of that node. Unsigned, badly signed and unknown-origin objects go
   to quarantine with the reason; so do objects with no Kizuna label marking (a node never guesses a label).
3. Label markings the page names and this node does not know are fetched from the peer by id; a label
   marking-definition is accepted only when its id is the one its label determines (content-addressed), so a peer
   cannot redefine a label.
4. The accepted objects are imported per originating node, with that node's organisation as originator: the store
   refuses a new version of an object whose originator is another node ("only the originating node may issue new
   versions"), and the importer's subject is the sending peer, which can pass on only labels it may see itself.
   Refused and invalid objects are quarantined and logged.
5. The cursor moves on, in the same transaction. A crash anywhere rolls the page back with the cursor: the next run
   reads the same page again, and (id, modified) makes that idempotent.

Anything wrong with the page as a whole (the peer is down or slow, malformed JSON, a lying ``more``, an object too
large, a database conflict) is a logged error that leaves the cursor where it was; the next run retries.
"""

from __future__ import annotations

import logging
import marshal
import multiprocessing
import os
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from kizuna.core import audit
from kizuna.core.access import label_by_marking
from kizuna.directory.subjects import peer_subject
from kizuna.federation import inbound, signing
from kizuna.federation.checkwork import Checked, check_marshalled, check_objects
from kizuna.federation.client import EVERYTHING, ObjectsPage, PeerError, TaxiiClient
from kizuna.federation.models import Peer, QuarantinedObject, SyncCursor
from kizuna.federation.peers import trusted_keys
from kizuna.labels import Label, LabelError
from kizuna.stix.definitions import KIZUNA_IDENTITY_ID
from kizuna.stix.timestamps import format_timestamp
from kizuna.threats.importer import REASON_DATABASE, Checkpointer, HeldTransaction, Importer, marking_refs
from kizuna.threats.markings import KIZUNA_LABEL_EXTENSION_ID, TLP_BY_ID, label_from_marking, label_marking_id
from kizuna.threats.prepare import P_REFS, is_marked
from kizuna.threats.services import _notify_watchers
from kizuna.threats.store import (
    REASON_CREATED_BY,
    REASON_ORIGINATOR,
    S_ID,
    S_MODIFIED,
    Stored,
    existing_versions,
    preloaded_versions,
    visible_versions,
)

log = logging.getLogger("kizuna.federation.sync")

PAGE_LIMIT = 1000
# Re-read this much before the last date added of the previous walk: an import on the peer that committed late
# (its rows dated before a reader passed them) is then still picked up. Re-reading stored versions costs little.
OVERLAP = timedelta(seconds=120)
VERIFY_THREADS = 2
PROCESS_THRESHOLD = 400  # objects to check on a page from which worker processes pay off (else threads)
CHECK_AHEAD = 2  # pages checked ahead of the one being stored
LEASE = timedelta(minutes=5)  # a sync that died holds its collection this long at most (renewed at every page)
# Objects that are the same on every node (declarations by Kizuna itself): never stored from peers.
WELL_KNOWN = {KIZUNA_IDENTITY_ID, KIZUNA_LABEL_EXTENSION_ID, signing.SIGNATURE_EXTENSION_ID}

VERDICT_UNSIGNED = "unsigned"
VERDICT_UNKNOWN_NODE = "unknown node"
VERDICT_UNKNOWN_KEY = "unknown key"
VERDICT_BAD_SIGNATURE = "bad signature"
VERDICT_NO_LABEL = "no label"
VERDICT_REFUSED = "refused"
VERDICT_INVALID = "invalid"

_locks: dict[int, threading.Lock] = {}
_locks_guard = threading.Lock()


class SyncBusy(Exception):
    """Another sync of the same peer is running in this process."""


@dataclass
class PageResult:
    received: int = 0
    unchanged: int = 0
    quarantined: int = 0
    by_verdict: dict[str, int] = field(default_factory=dict)


@dataclass
class CollectionResult:
    peer: str
    collection: str
    pages: int = 0
    received: int = 0
    unchanged: int = 0
    quarantined: int = 0
    error: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass
class Quarantine:
    obj: Any
    verdict: str
    reason: str
    claimed: str = ""


class _NodeLabels(dict[str, Label]):
    """Label markings by id: those learnt from peers, and any label of this node, looked up by its indexed marking
    id when first asked for (a sync never reads every label of the node: there may be hundreds of thousands)."""

    def _load(self, marking_id: object) -> Label | None:
        if not isinstance(marking_id, str) or not marking_id.startswith("marking-definition--"):
            return None
        found = super().get(marking_id)
        if found is None:
            found = label_by_marking(marking_id)
            if found is not None:
                self[marking_id] = found
        return found

    def __contains__(self, marking_id: object) -> bool:
        return self._load(marking_id) is not None

    def __missing__(self, marking_id: str) -> Label:
        found = self._load(marking_id)
        if found is None:
            raise KeyError(marking_id)
        return found


class LabelMarkingCache:
    """Kizuna label markings by id: the labels of this node (looked up as needed), plus those fetched from peers
    (checked)."""

    def __init__(self) -> None:
        self.labels: dict[str, Label] = _NodeLabels()
        self.not_labels: set[str] = set(TLP_BY_ID)

    def learn(self, marking: Any) -> str | None:
        """Accept a label marking-definition from a peer; the reason when it is refused."""
        if not isinstance(marking, dict) or not isinstance(marking.get("id"), str):
            return "not a marking-definition"
        try:
            label = label_from_marking(marking)
        except (LabelError, ValueError, TypeError) as exc:
            return f"invalid Kizuna label: {exc}"
        if label is None:
            return "carries no Kizuna label"
        if label_marking_id(label) != marking["id"]:
            return "its id is not the one its label determines"
        self.labels[marking["id"]] = label
        return None


def _lock_for(peer: Peer) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(peer.pk, threading.Lock())


def is_running(peer: Peer) -> bool:
    """Whether a sync of the peer is running now, in this process or another (a lease not yet expired)."""
    if _lock_for(peer).locked():
        return True
    return SyncCursor.objects.filter(peer=peer, lease_until__gt=timezone.now()).exists()


def client_for(peer: Peer, timeout: float = 30.0) -> TaxiiClient:
    if not peer.taxii_url:
        raise PeerError(f"peer {peer.name} has no TAXII URL: its keys are trusted, nothing is pulled from it")
    return TaxiiClient(peer.taxii_url, peer.credential, timeout=timeout, max_depth=settings.KIZUNA_JSON_MAX_DEPTH,
                       max_string=settings.KIZUNA_JSON_MAX_STRING_BYTES)


def test_connection(peer: Peer) -> str:
    """A one-line account of the peer's API root and collections, or a PeerError."""
    client = client_for(peer, timeout=10.0)
    try:
        root = client.api_root()
        collections = client.collections()
    finally:
        client.close()
    names = ", ".join(str(c.get("title") or c.get("id")) for c in collections[:8])
    return f"{root.get('title')}: {len(collections)} collection(s) readable ({names})"


def sync_peer(peer: Peer, *, page_limit: int = PAGE_LIMIT, max_pages: int | None = None,
              timeout: float = 30.0) -> list[CollectionResult]:
    """Pull every configured collection of one peer. Never raises for the peer's faults: each result says."""
    lock = _lock_for(peer)
    if not lock.acquire(blocking=False):
        raise SyncBusy(f"a sync of peer {peer.name} is already running")
    try:
        results = []
        for collection in peer.collections or [EVERYTHING]:
            results.append(sync_collection(peer, str(collection), page_limit=page_limit, max_pages=max_pages,
                                           timeout=timeout))
        return results
    finally:
        lock.release()


def sync_all(names: Iterable[str] | None = None, *, due_only: bool = False,
             page_limit: int = PAGE_LIMIT) -> list[CollectionResult]:
    """Pull from every enabled peer with a TAXII URL (or those named); ``due_only``: only peers whose interval has
    passed since their last attempt."""
    peers = Peer.objects.select_related("organisation", "account").filter(enabled=True).exclude(taxii_url="")
    if names is not None:
        peers = peers.filter(name__in=list(names))
    results: list[CollectionResult] = []
    now = timezone.now()
    for peer in peers:
        if due_only:
            last = SyncCursor.objects.filter(peer=peer).order_by("last_attempt").values_list("last_attempt", flat=True)
            stamps = [s for s in last if s is not None]
            if stamps and len(stamps) >= len(peer.collections or [EVERYTHING]) and \
                    min(stamps) + timedelta(seconds=peer.interval) > now:
                continue
        try:
            results.extend(sync_peer(peer, page_limit=page_limit))
        except SyncBusy as exc:
            log.info("%s", exc)
    return results


def sync_collection(peer: Peer, collection: str, *, page_limit: int = PAGE_LIMIT, max_pages: int | None = None,
                    timeout: float = 30.0, after_page: Callable[[int], None] | None = None) -> CollectionResult:
    """Pull one collection of one peer from its cursor to the end (or ``max_pages`` pages)."""
    result = CollectionResult(peer=peer.name, collection=collection)
    started = time.monotonic()
    cursor, _created = SyncCursor.objects.get_or_create(peer=peer, collection=collection)
    _claim(peer, cursor)
    client = client_for(peer, timeout=timeout) if peer.taxii_url else None
    clients = [client] if client is not None else []
    try:
        state = _State(peer)
        if client is None:
            raise PeerError(f"peer {peer.name} has no TAXII URL")
        token = cursor.next_token or None
        walk_from = cursor.added_after
        added_after = format_timestamp(walk_from - OVERLAP, "microsecond") if walk_from is not None else None
        highest = walk_from
        previous: tuple[str, ...] = ()
        pools = _Pools()
        # Pages are fetched one ahead by a thread with a connection of its own, so the peer serves page n+1 while
        # this node verifies and stores page n (the main thread's client fetches label markings when needed).
        fetcher = client_for(peer, timeout=timeout)
        ahead = ThreadPoolExecutor(1)
        clients.append(fetcher)

        def fetch(next_token: str | None) -> Future[ObjectsPage]:
            return ahead.submit(fetcher.objects, collection, added_after=added_after, next_token=next_token,
                                limit=page_limit)

        # Prepared pages not stored yet, oldest first: while the oldest is stored, the worker processes check the
        # next ones (two pages ahead, so they do not wait for this process between pages).
        waiting: deque[_Prepared] = deque()

        def store_waiting() -> None:
            while waiting:
                store(waiting.popleft())

        group = _Group()

        def store(prepared: _Prepared) -> None:
            group.begin()
            outcome = _store_page(peer, client, collection, prepared, state, cursor)  # type: ignore[arg-type]
            group.stored()
            result.pages += 1
            result.received += outcome.received
            result.unchanged += outcome.unchanged
            result.quarantined += outcome.quarantined
            if after_page is not None:
                after_page(result.pages)

        try:
            pending = fetch(token)
            read = 0
            while max_pages is None or read < max_pages:
                try:
                    page = pending.result()
                except PeerError as exc:
                    store_waiting()  # what was read before the failure is kept
                    if token and "HTTP 400" in str(exc) and result.pages == 0:
                        # The peer no longer knows the saved next (e.g. it restarted): walk again from the date.
                        log.info("peer %s refused the saved next; walking again from %s", peer.name, added_after)
                        token = None
                        pending = fetch(None)
                        continue
                    raise
                # A server may keep one ``next`` for a whole walk (medallion does), so progress is judged by the
                # objects: the same page twice means the peer's paging goes round in circles.
                mark = _page_mark(page)
                if page.more and mark == previous:
                    store_waiting()
                    raise PeerError("the peer served the same page again (its paging does not advance)")
                previous = mark
                read += 1
                if page.more and (max_pages is None or read < max_pages):
                    pending = fetch(page.next)
                if page.date_added_last is not None and (highest is None or page.date_added_last > highest):
                    highest = page.date_added_last
                prepared = _prepare_page(page, state, pools, next_token=(page.next or "") if page.more else "",
                                         added_after=walk_from if page.more else highest)
                waiting.append(prepared)
                if len(waiting) > CHECK_AHEAD:
                    store(waiting.popleft())
                if not page.more:
                    break
                token = page.next
            store_waiting()
            group.commit()
        except (PeerError, _PageRefused):
            group.commit()  # the pages stored before the failure stay, with the cursor after them
            raise
        except BaseException as exc:
            group.rollback(exc)
            raise
        finally:
            group.close()
            pools.shutdown()
            ahead.shutdown(wait=True, cancel_futures=True)
    except (PeerError, _PageRefused) as exc:
        result.error = str(exc)
    except DatabaseError as exc:
        result.error = f"database: {' '.join(str(exc).split())[:300]}"
    except BaseException:
        SyncCursor.objects.filter(pk=cursor.pk).update(lease_until=None)  # a bug or an interrupt: free it now
        raise
    finally:
        for c in clients:
            c.close()
    result.seconds = time.monotonic() - started
    if result.error:
        log.warning("sync of %s / %s failed after %d page(s): %s", peer.name, collection, result.pages,
                    result.error)
        SyncCursor.objects.filter(pk=cursor.pk).update(last_error=result.error[:2000], errors=F("errors") + 1,
                                                       lease_until=None)
        with transaction.atomic():
            audit.record(f"peer:{peer.name}", "federation.sync-error", "peer", [peer.pk],
                         detail={"collection": collection, "error": result.error[:500], "pages": result.pages})
    else:
        SyncCursor.objects.filter(pk=cursor.pk).update(last_error="", errors=0, last_success=timezone.now(),
                                                       lease_until=None)
    return result


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def _holder_is_dead(owner: str) -> bool:
    """True when ``owner`` is a process of this host that no longer exists (e.g. killed): its lease is void."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's process: only the lease's expiry frees it
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _claim(peer: Peer, cursor: SyncCursor) -> None:
    """Take the collection's lease, or raise SyncBusy. A lease expires, or is void when its holder on this host has
    died (a SIGKILL leaves it set): the next sync resumes at once rather than after the expiry."""
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    if cursor.lease_owner and cursor.lease_until is not None and cursor.lease_until >= now \
            and _holder_is_dead(cursor.lease_owner):
        free |= Q(lease_owner=cursor.lease_owner)
    claimed = SyncCursor.objects.filter(pk=cursor.pk).filter(free).update(
        last_attempt=now, lease_until=now + LEASE, lease_owner=_owner())
    if not claimed:
        raise SyncBusy(f"a sync of peer {peer.name}, collection {cursor.collection}, is already running")
    cursor.refresh_from_db()


def _page_mark(page: ObjectsPage) -> tuple[str, ...]:
    """What tells two pages apart: the id and version of their first and last objects."""
    ends = [page.objects[0], page.objects[-1]] if page.objects else []
    return tuple(f"{o.get('id')}@{o.get('modified')}" if isinstance(o, dict) else "?" for o in ends)


class _PageRefused(Exception):
    """The page as a whole cannot be stored now (e.g. a database conflict); the cursor stays."""


class _State:
    """What one sync run reads once: trusted keys, the peer's subject and organisation, label markings."""

    def __init__(self, peer: Peer) -> None:
        from kizuna.federation.services import node_identity

        self.me = node_identity().stix_id
        self.keys = trusted_keys()
        self.subject = peer_subject(peer)
        self.orgs: dict[str, tuple[int, str]] = {
            p.node_id: (p.organisation_id, p.organisation.code)
            for p in Peer.objects.select_related("organisation")
        }
        self.markings = LabelMarkingCache()
        self.stored_ids: set[str] = set()  # ids stored by this run: their preloaded versions are stale


def _stored_versions(ids: list[str]) -> dict[str, list[Stored]]:
    """The stored versions of these ids, by id (an empty list: none), in the form write_batch reads them: one
    lookup per page serves both the skip of what is already held and the store (``store.preloaded_versions``)."""
    found: dict[str, list[Stored]] = {i: [] for i in ids}
    for row in existing_versions(sorted(found)):
        found[row[S_ID]].append(row)
    return found


def _version(obj: dict[str, Any]) -> str:
    return str(obj.get("modified") or obj.get("created") or "")


def _check_async(objects: list[dict[str, Any]], state: _State, plain: bool, pools: _Pools
                 ) -> Callable[[], list[Checked]]:
    """Start checking the objects (signature, then preparation for the store: ``checkwork``) in worker processes,
    or threads for a small page; the returned function waits for the results. Runs while the previous page is
    being stored."""
    if not objects:
        return list
    use_processes = len(objects) >= PROCESS_THRESHOLD
    pool = pools.processes() if use_processes else pools.threads
    parts = VERIFY_THREADS * (2 if use_processes else 1)
    size = max(32, (len(objects) + parts - 1) // parts)
    futures: list[Future[Any]]
    if use_processes:
        futures = [pool.submit(check_marshalled, marshal.dumps(objects[i : i + size]), state.keys, state.me, plain,
                               i) for i in range(0, len(objects), size)]
    else:
        futures = [pool.submit(check_objects, objects[i : i + size], state.keys, state.me, plain, i)
                   for i in range(0, len(objects), size)]

    def gather() -> list[Checked]:
        out: list[Checked] = []
        for future in futures:
            try:
                answer = future.result()
                # Plain values from our own worker process (marshal cannot run code when read).
                out.extend(marshal.loads(answer) if isinstance(answer, bytes) else answer)  # noqa: S302
            except BrokenProcessPool as exc:
                raise _PageRefused(f"a worker process checking signatures died: {exc}") from None
        return out

    return gather


class _Group(HeldTransaction):
    """The transaction of each stored page (with its cursor), committed at once so that a crash loses at most the
    page being stored. Grouping pages into fewer commits was measured and gained nothing (sync is CPU-bound), and it
    made a crash lose more. On SQLite (outside a caller's transaction) the write-ahead log is checkpointed by the
    importer's ``Checkpointer`` thread rather than inside commits."""

    def __init__(self) -> None:
        super().__init__(Checkpointer() if Checkpointer.wanted_for(connection) else None)

    def stored(self) -> None:
        self.commit()


class _Pools:
    """Threads for small pages; worker processes, started on first need, for large ones."""

    def __init__(self) -> None:
        self.threads = ThreadPoolExecutor(VERIFY_THREADS)
        self._processes: ProcessPoolExecutor | None = None

    def processes(self) -> ProcessPoolExecutor:
        if self._processes is None:
            # spawn, not fork: this process has threads (the page fetcher) and open database connections.
            self._processes = ProcessPoolExecutor(VERIFY_THREADS, mp_context=multiprocessing.get_context("spawn"))
        return self._processes

    def shutdown(self) -> None:
        self.threads.shutdown(wait=True)
        if self._processes is not None:
            self._processes.shutdown(wait=True, cancel_futures=True)


@dataclass
class _Prepared:
    """A page read and checked, its signatures being verified, not stored yet."""

    page: ObjectsPage
    result: PageResult
    quarantine: list[Quarantine]
    fresh: list[dict[str, Any]]
    checked: Callable[[], list[Checked]]
    next_token: str
    added_after: datetime | None
    versions: dict[str, list[Stored]]  # stored versions of the page's ids when it was read


def _prepare_page(page: ObjectsPage, state: _State, pools: _Pools, *, next_token: str,
                  added_after: datetime | None) -> _Prepared:
    result = PageResult()
    quarantine: list[Quarantine] = []
    candidates: list[dict[str, Any]] = []
    for obj in page.objects:
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not isinstance(obj.get("type"), str):
            quarantine.append(Quarantine(obj, VERDICT_INVALID, "not a STIX object (no id or type)"))
        elif obj["id"] in WELL_KNOWN or obj["id"] in TLP_BY_ID:
            result.unchanged += 1
        elif obj["type"] == "marking-definition" and isinstance(obj.get("extensions"), dict) \
                and KIZUNA_LABEL_EXTENSION_ID in obj["extensions"]:
            reason = state.markings.learn(obj)  # content-addressed: checked, never stored
            if reason is None:
                result.unchanged += 1
            else:
                quarantine.append(Quarantine(obj, VERDICT_INVALID, f"label marking-definition refused: {reason}"))
        else:
            candidates.append(obj)
    versions = _stored_versions([o["id"] for o in candidates])
    # Held already: only versions in lines the peer may see (``store.visible_versions``); a version the peer may not
    # see is treated as missing, and the store keeps the peer's object in a line of its own.
    stored = {(row[S_ID], row[S_MODIFIED])
              for row in visible_versions([row for rows in versions.values() for row in rows], state.subject)}
    fresh = [o for o in candidates if (o["id"], _version(o)) not in stored]
    result.unchanged += len(candidates) - len(fresh)
    return _Prepared(page, result, quarantine, fresh, _check_async(fresh, state, page.plain, pools), next_token,
                     added_after, versions)


def _store_page(peer: Peer, client: TaxiiClient, collection: str, prepared: _Prepared, state: _State,
                cursor: SyncCursor) -> PageResult:
    """Store a prepared page and move the cursor past it, in one transaction."""
    result, quarantine, fresh = prepared.result, prepared.quarantine, prepared.fresh
    next_token, added_after = prepared.next_token, prepared.added_after
    by_origin: dict[str, list[tuple[dict[str, Any], Any]]] = {}
    for obj, (verdict, reason, claimed, ready) in zip(fresh, prepared.checked(), strict=True):
        if verdict == "mine":
            result.unchanged += 1  # our own object come back round: this node is its origin
        elif verdict != "ok":
            quarantine.append(Quarantine(obj, verdict, reason, claimed))
        elif isinstance(ready, str):
            quarantine.append(Quarantine(obj, VERDICT_INVALID, ready, claimed))  # signed, but not valid STIX
        else:
            by_origin.setdefault(claimed, []).append((obj, ready))

    # Label markings: fetch those the page names and this node does not know.
    wanted = {r for items in by_origin.values() for o, _ in items for r in marking_refs(o)
              if r not in state.markings.labels and r not in state.markings.not_labels}
    for ref in sorted(wanted):
        fetched = client.object(collection, ref) or client.object(EVERYTHING, ref) if collection != EVERYTHING \
            else client.object(collection, ref)
        refusal = state.markings.learn(fetched[0]) if fetched else "the peer does not serve it"
        if refusal is not None:
            state.markings.not_labels.add(ref)
            log.info("marking %s from %s not usable as a label: %s", ref, peer.name, refusal)

    with transaction.atomic():
        known = state.markings.labels
        for node, items in by_origin.items():
            # By label marking: an object whose only marking is its label marking (nearly all) is stored under that
            # label directly; any other goes through the importer's marking rules (TLP, statements, unknown refs).
            groups: dict[str | None, list[tuple[dict[str, Any], Any]]] = {}
            for obj, ready in items:
                refs = obj.get("object_marking_refs") or []
                label_refs = {r for r in refs if isinstance(r, str) and r in known}
                if len(label_refs) != 1:
                    quarantine.append(Quarantine(obj, VERDICT_NO_LABEL, "the object carries no Kizuna label marking"
                                                 if not label_refs else "the object carries more than one Kizuna "
                                                 "label", node))
                elif len(refs) == 1 and "granular_markings" not in obj:
                    groups.setdefault(refs[0], []).append((obj, ready))
                else:
                    groups.setdefault(None, []).append((obj, ready))
            for marking, group in groups.items():
                # What was read when the page was prepared, less the ids this run has stored since: the page before
                # this one was stored after this one was read, and an earlier group of this page may hold another
                # version of the same id.
                fresh_versions = {i: v for i, v in prepared.versions.items() if i not in state.stored_ids}
                with preloaded_versions(fresh_versions):
                    stored_count, refused = _import(peer, node, group, state, known[marking] if marking else None)
                result.received += stored_count
                quarantine.extend(refused)
        _quarantine(peer, quarantine, result)
        SyncCursor.objects.filter(pk=cursor.pk).update(
            next_token=next_token, added_after=added_after, lease_until=timezone.now() + LEASE,
            received=F("received") + result.received, unchanged=F("unchanged") + result.unchanged,
            quarantined=F("quarantined") + result.quarantined,
        )
        cursor.next_token, cursor.added_after = next_token, added_after
        # The stored objects are in the audit log already (the importer's entry per batch, by peer:<name>); a
        # page with quarantined objects gets an entry of its own, with the verdicts.
        if result.quarantined:
            audit.record(f"peer:{peer.name}", "federation.receive", "peer", [peer.pk], detail={
                "collection": collection, "received": result.received, "unchanged": result.unchanged,
                "quarantined": result.by_verdict})
    return result


def _import(peer: Peer, node: str, items: list[tuple[dict[str, Any], Any]], state: _State, label: Label | None
            ) -> tuple[int, list[Quarantine]]:
    """Store the objects signed by ``node`` (each with its prepared tuple) with its organisation as originator;
    what the store refused. ``label``: every object carries that label's marking and no other marking, so it is
    stored under it without the importer's marking rules; None: the rules decide per object."""
    org_id, org_code = state.orgs[node]
    objects = [obj for obj, _ in items]
    labels = {r: state.markings.labels[r] for o in objects for r in marking_refs(o) if r in state.markings.labels}
    importer = Importer(
        actor=f"peer:{peer.name}", subject=state.subject, originator_id=org_id, originator_code=org_code,
        default_label=label or next(iter(labels.values())), default_label_display="", source=f"peer {peer.name}",
    )
    importer.markings.labels.update(labels)
    # Prepared tuples come without marking references (checkwork): with ``label`` the default label, which is that
    # label, applies as they are; otherwise the references go back in for the importer's marking rules. Indexes
    # are positions on the page: ``by_index`` leads an error back to its object.
    if label is not None:
        prepared = [ready for _, ready in items]
    else:
        prepared = [(*ready[:P_REFS], sorted(marking_refs(obj)) if obj.get("object_marking_refs") is not None
                     or "granular_markings" in obj else None, *ready[P_REFS + 1 :]) for obj, ready in items]
    by_index = {ready[0]: obj for obj, ready in items}
    try:
        importer.feed_prepared(prepared, [i for i, p in enumerate(prepared) if is_marked(p)])
        summary = importer.finish()
    except BaseException as exc:
        importer.abort(exc)
        raise
    if summary.rejected > len(summary.errors):
        first = summary.errors[0].reason if summary.errors else "?"
        raise _PageRefused(f"{summary.rejected} objects were refused, more than could be recorded one by one "
                           f"(the first: {first})")
    refused: list[Quarantine] = []
    for error in summary.errors:
        if error.reason.startswith(REASON_DATABASE):
            raise _PageRefused(f"the page could not be stored: {error.reason}")
        obj = by_index[error.index]
        verdict = VERDICT_REFUSED if error.reason in (REASON_ORIGINATOR, REASON_CREATED_BY) else VERDICT_INVALID
        refused.append(Quarantine(obj, verdict, error.reason, node))
        if verdict == VERDICT_REFUSED:
            log.warning("refused %s from peer %s: %s", error.id, peer.name, error.reason)
    if summary.accepted:
        failed = {error.index for error in summary.errors}
        inbound.received([obj for obj, ready in items if ready[0] not in failed], org_id)
        state.stored_ids.update(obj["id"] for obj, ready in items if ready[0] not in failed)
        _notify_watchers(summary)
    return summary.accepted, refused


def _quarantine(peer: Peer, items: list[Quarantine], result: PageResult) -> None:
    if not items:
        return
    import json

    rows = []
    for q in items:
        obj = q.obj if isinstance(q.obj, dict) else {}
        stix_id = str(obj.get("id") or "(no id)")[:128]
        rows.append(QuarantinedObject(
            peer=peer, stix_id=stix_id, stix_type=str(obj.get("type") or "")[:64],
            modified=str(obj.get("modified") or obj.get("created") or "")[:40], claimed_node=q.claimed[:64],
            verdict=q.verdict, reason=q.reason[:2000],
            data=json.dumps(q.obj, ensure_ascii=False, separators=(",", ":"))[:1_100_000],
        ))
        result.by_verdict[q.verdict] = result.by_verdict.get(q.verdict, 0) + 1
    # Seen before (a page read again): kept once.
    QuarantinedObject.objects.bulk_create(rows, ignore_conflicts=True)
    result.quarantined += len(rows)
    for q in items[:20]:
        log.warning("quarantined from peer %s: %s (%s: %s)", peer.name,
                    q.obj.get("id") if isinstance(q.obj, dict) else "(not an object)", q.verdict, q.reason)
