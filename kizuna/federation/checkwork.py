"""The per-object work on what a peer sent that needs no database: verify the signature against the claimed node's
keys, and prepare a verified object for the store (validate, JSON text, stored columns: ``threats.prepare``).

Free of Django, so that sync can run it in worker processes: it is most of the CPU a received object costs
(signature verification alone is about 55 µs), and in another process it runs on the second core beside the
process that stores the previous page. Small pages are checked in a thread instead (starting processes costs more
than it saves). Results are plain tuples that pickle cheaply:

    (verdict, reason, claimed node, prepared)

``verdict`` is "ok", "mine" (signed by this node itself), "unsigned", "unknown node", "unknown key" or
"bad signature"; ``prepared`` is ``threats.prepare.prepare``'s tuple or rejection reason for "ok" objects, else None.
"""

from __future__ import annotations

import marshal
from collections.abc import Mapping
from typing import Any

from kizuna.federation import signing
from kizuna.threats.prepare import P_REFS, prepare

Checked = tuple[str, str, str, Any]

_VERDICTS = {signing.Verdict.UNSIGNED: "unsigned", signing.Verdict.UNKNOWN_KEY: "unknown key",
             signing.Verdict.BAD_SIGNATURE: "bad signature"}


def claimed_node(obj: Mapping[str, Any]) -> str:
    extensions = obj.get("extensions")
    ext = extensions.get(signing.SIGNATURE_EXTENSION_ID) if isinstance(extensions, Mapping) else None
    node = ext.get("node") if isinstance(ext, Mapping) else None
    return node if isinstance(node, str) else ""


def check_objects(objects: list[dict[str, Any]], keys: Mapping[str, Mapping[str, bytes]], me: str,
                  plain: bool, base: int = 0) -> list[Checked]:
    """The checks of ``objects``; prepared tuples are indexed from ``base`` (their position on the page) and carry
    no marking references (sync decides the label from the label marking; it adds them back for the rare object
    that needs the importer's marking rules)."""
    out: list[Checked] = []
    for index, obj in enumerate(objects, base):
        extensions = obj.get("extensions")
        if not isinstance(extensions, Mapping) or signing.SIGNATURE_EXTENSION_ID not in extensions:
            out.append(("unsigned", "the object carries no Kizuna signature", "", None))
            continue
        node = claimed_node(obj)
        if node not in keys:
            out.append(("unknown node", f"signed by node {node or '(none)'}, which this node does not know", node,
                        None))
            continue
        result = signing.verify_object(obj, keys[node], plain=plain)
        if not result.ok:
            out.append((_VERDICTS.get(result.verdict, "bad signature"), result.reason, node, None))
        elif node == me:
            out.append(("mine", "", node, None))
        else:
            ready = prepare(index, obj)
            if isinstance(ready, tuple):
                ready = (*ready[:P_REFS], None, *ready[P_REFS + 1 :])
            out.append(("ok", "", node, ready))
    return out


def check_marshalled(objects: bytes, keys: Mapping[str, Mapping[str, bytes]], me: str, plain: bool,
                     base: int = 0) -> bytes:
    """``check_objects`` between processes: objects in and results out as marshal bytes, which cost a fifth of
    pickling them (the process that stores pages is the one that waits for this) and cannot run code when read."""
    return marshal.dumps(check_objects(marshal.loads(objects), keys, me, plain, base))  # noqa: S302 - from sync, ours
