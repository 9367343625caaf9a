"""The federation's periodic jobs of `kizuna worker` (once `kizuna sync --loop`): signing what this node must serve
signed, and pulling from the peers that are due — and only those."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from kizuna.federation import outbound, sync, tasks
from kizuna.federation.client import EVERYTHING
from kizuna.federation.models import Peer, SyncCursor
from kizuna.jobs import queue
from kizuna.threats.markings import label_marking, label_marking_id
from kizuna.threats.models import StixObject
from tests.federation.test_sync_medallion import COLLECTION, SHARED, RemoteNode, indicator, medallion, post, remote  # noqa: F401 - fixtures
from tests.threats.test_queries_fixtures import put

pytestmark = pytest.mark.django_db


def test_the_periodic_jobs_sign_pending_objects_and_pull_from_a_due_peer(
        medallion: str, remote: tuple[RemoteNode, Peer],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    node, peer = remote
    own = put("indicator", SHARED)
    post(medallion, [label_marking(SHARED), node.sign(indicator(1, label_marking_id(SHARED)))])
    calls = []
    original = sync.sync_all

    def once(*args: Any, **kwargs: Any) -> list[sync.CollectionResult]:
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(sync, "sync_all", once)
    assert {p.name for p in queue.periodic_jobs()} >= {"federation.sign", "federation.sync"}
    assert tasks.sign.call() >= 1
    assert tasks.sync_due.call() == 1

    assert calls == [{"due_only": True}]
    assert StixObject.objects.get(pk=own.pk).signature is not None
    assert not outbound.pending().exists()
    assert StixObject.objects.filter(originator_id=peer.organisation_id).count() == 1


def test_a_peer_is_due_only_when_its_interval_has_passed(remote: tuple[RemoteNode, Peer]) -> None:  # noqa: F811
    _node, peer = remote
    recent = timezone.now() - timedelta(seconds=peer.interval - 30)
    SyncCursor.objects.create(peer=peer, collection=COLLECTION, last_attempt=recent)
    assert sync.sync_all(due_only=True) == []  # attempted 30 s before its interval ends: not due

    SyncCursor.objects.filter(peer=peer).update(last_attempt=recent - timedelta(seconds=60))
    [result] = sync.sync_all(due_only=True)
    assert result.peer == peer.name and result.collection == COLLECTION
    assert EVERYTHING != COLLECTION  # the peer's configured collection was pulled, not the default
