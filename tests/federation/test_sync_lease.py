"""One sync per peer and collection across processes: a lease on the cursor, renewed per page, void when its
holder on this host has died (a SIGKILL must not block the next sync until the lease expires)."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from kizuna.federation import peers, sync
from kizuna.federation.client import EVERYTHING
from kizuna.federation.models import Peer, SyncCursor
from tests.federation.test_sync_medallion import RemoteNode

pytestmark = pytest.mark.django_db


@pytest.fixture
def peer(make_user: Any) -> Peer:
    make_user("hanako")
    node = RemoteNode()
    return peers.add_peer("leased", node.id, nations=["JPN"], public_keys=[node.public_b64],
                          taxii_url="http://127.0.0.1:9/root/", credential="kz_x", actor="test")


def test_a_collection_held_by_a_live_process_is_busy(peer: Peer) -> None:
    SyncCursor.objects.create(peer=peer, collection=EVERYTHING, lease_until=timezone.now() + timedelta(minutes=5),
                              lease_owner=sync._owner().rsplit(":", 1)[0] + ":1")  # pid 1 is alive
    with pytest.raises(sync.SyncBusy):
        sync.sync_peer(peer)
    assert sync.is_running(peer)


def test_the_lease_of_a_killed_holder_is_void_and_the_next_sync_runs(peer: Peer) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    owner = sync._owner().rsplit(":", 1)[0] + ":" + dead.stdout.strip()
    SyncCursor.objects.create(peer=peer, collection=EVERYTHING, lease_until=timezone.now() + timedelta(minutes=5),
                              lease_owner=owner)

    [result] = sync.sync_peer(peer, timeout=1)

    assert "cannot reach the peer" in result.error  # it ran (and the peer is down)
    cursor = SyncCursor.objects.get(peer=peer)
    assert cursor.lease_until is None and not sync.is_running(peer)


def test_an_expired_lease_is_taken_over(peer: Peer) -> None:
    SyncCursor.objects.create(peer=peer, collection=EVERYTHING, lease_until=timezone.now() - timedelta(seconds=1),
                              lease_owner="elsewhere:42")
    [result] = sync.sync_peer(peer, timeout=1)
    assert result.error and SyncCursor.objects.get(peer=peer).lease_until is None
