"""Objects received from peers, handed to their record types: an app whose records travel as STIX objects of its own
type registers a handler (``RecordType.receive`` in ``kizuna.core.registry``) that turns a received, verified and
stored object back into its record (a received report becomes a ``Report`` row), inside the transaction that stores
the page — so the record and the STIX object commit together.

Handlers must be idempotent: a page may be read again after a crash, and a version already stored may come again.
"""

from __future__ import annotations

import logging
from typing import Any

from kizuna.core import registry
from kizuna.federation.models import Peer

log = logging.getLogger("kizuna.federation.inbound")


def received(objects: list[dict[str, Any]], originator_id: int) -> None:
    """Hand the stored objects to the handlers of their types (called by sync, in the page's transaction)."""
    handlers = registry.receivers()
    by_type: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        if obj.get("type") in handlers:
            by_type.setdefault(obj["type"], []).append(obj)
    if not by_type:
        return
    # The records are the originating organisation's; its peer's account is their author on this node.
    peer = Peer.objects.select_related("account").filter(organisation_id=originator_id).first()
    if peer is None:  # never expected: sync stores only what a known peer's node signed
        log.warning("received %d object(s) of record types from organisation %s, which is no peer's",
                    sum(len(objs) for objs in by_type.values()), originator_id)
        return
    sender = registry.Sender(organisation_id=originator_id, name=peer.name, account=peer.account)
    for stix_type, objs in by_type.items():
        handlers[stix_type](objs, sender)
