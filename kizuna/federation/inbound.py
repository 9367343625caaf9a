"""Hooks for objects received from peers: an app whose records travel as STIX objects of its own type registers a
handler that turns a received, verified and stored object back into its record (a received report becomes a
``Report`` row), inside the transaction that stores the page — so the record and the STIX object commit together.

Handlers must be idempotent: a page may be read again after a crash, and a version already stored may come again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Handler = Callable[[list[dict[str, Any]], int], None]  # (objects of the type, originator organisation id)

_HANDLERS: dict[str, Handler] = {}


def register(stix_type: str, handler: Handler) -> None:
    """Call ``handler`` with every stored object of ``stix_type`` received from a peer (apps' ``ready()``)."""
    _HANDLERS[stix_type] = handler


def received(objects: list[dict[str, Any]], originator_id: int) -> None:
    """Hand the stored objects to the handlers of their types (called by sync, in the page's transaction)."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        if obj.get("type") in _HANDLERS:
            by_type.setdefault(obj["type"], []).append(obj)
    for stix_type, objs in by_type.items():
        _HANDLERS[stix_type](objs, originator_id)
