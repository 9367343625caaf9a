"""Federation's background jobs on the node's one queue: signing what this node serves (periodic), pulling from the
peers that are due (periodic), and "sync now" of one peer from the federation page."""

from __future__ import annotations

import logging
from datetime import timedelta

from django_tasks import task

from kizuna.federation import outbound, sync
from kizuna.federation.models import Peer
from kizuna.jobs import queue

log = logging.getLogger("kizuna.federation.sync")

# As often as `kizuna sync --loop` ticked: a new object is served signed within seconds, a due peer pulled as soon.
SIGN_EVERY = timedelta(seconds=5)
SYNC_EVERY = timedelta(seconds=5)


@task(queue_name="federation")
def sign() -> int:
    """Sign the rows this node must serve signed; how many. One pass at a time on the whole node (the queue enqueues
    a periodic job only when its previous run has ended), so no row is signed twice by racing passes."""
    signed = outbound.sign_pending(between_batches=queue.checkpoint)
    if signed:
        log.info("signed %d object version(s)", signed)
    return signed


def _log(results: list[sync.CollectionResult], what: str) -> int:
    for r in results:
        log.info("%s %s / %s: %d page(s), %d received, %d unchanged, %d quarantined%s", what, r.peer, r.collection,
                 r.pages, r.received, r.unchanged, r.quarantined, f", error: {r.error}" if r.error else "")
    return sum(r.received for r in results)


@task(queue_name="federation")
def sync_due() -> int:
    """Pull from every enabled peer whose interval has passed; the objects received."""
    return _log(sync.sync_all(due_only=True), "sync")


@task(queue_name="federation")
def sync_peer_now(peer_id: int) -> int:
    """"Sync now" of one peer (the federation page); the objects received. A peer removed meanwhile: nothing to do."""
    peer = Peer.objects.select_related("organisation", "account").filter(pk=peer_id).first()
    if peer is None:
        return 0
    try:
        return _log(sync.sync_peer(peer), "sync now")
    except sync.SyncBusy as exc:  # the periodic sync took the peer meanwhile: it pulls the same pages
        log.info("%s", exc)
        return 0


def sync_now_jobs(peer_id: int) -> list[str]:
    """The ids of the peer's "sync now" jobs waiting or running."""
    return [str(i) for i in queue.unfinished(sync_peer_now, [peer_id]).values_list("id", flat=True)]


def pending_sync_now(peer_id: int) -> bool:
    return queue.unfinished(sync_peer_now, [peer_id]).exists()


def register() -> None:
    queue.periodic("federation.sign", sign, SIGN_EVERY)
    queue.periodic("federation.sync", sync_due, SYNC_EVERY)
