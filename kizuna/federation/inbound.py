"""Objects received from peers, handed to their record types: an app whose records travel as STIX objects of its own
type registers a handler (``RecordType.receive`` in ``kizuna.core.registry``) that turns a received, verified and
stored object back into its record (a received report becomes a ``Report`` row), inside the transaction that stores
the page — so the record and the STIX object commit together.

Handlers must be idempotent: a page may be read again after a crash, and a version already stored may come again.
"""

from __future__ import annotations

from typing import Any

from kizuna.core import registry


def received(objects: list[dict[str, Any]], originator_id: int) -> None:
    """Hand the stored objects to the handlers of their types (called by sync, in the page's transaction)."""
    handlers = registry.receivers()
    by_type: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        if obj.get("type") in handlers:
            by_type.setdefault(obj["type"], []).append(obj)
    for stix_type, objs in by_type.items():
        handlers[stix_type](objs, originator_id)
