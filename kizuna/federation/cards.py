"""Node cards: what one node's administrator gives another's so that each can add the other as a peer without
copying ids and keys by hand (issue 13). A card is JSON: the node's identity id, name and nation, its public keys
(the active one and the retired ones, so that what they signed still verifies) and, when known, the URL of its TAXII
API root. It holds nothing secret: the credential is exchanged separately (each side creates a token for the other).

``kizuna node show --json`` prints one; the federation page offers it as a file; ``kizuna peer add --from-card`` and
the new-peer form read one. Cards written before the TAXII URL was added (no ``format``) are read as well.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext

from kizuna.core.errors import ServiceError
from kizuna.federation.services import node_identity
from kizuna.federation.taxii.collections import API_ROOT

FORMAT = "kizuna-node-card/1"
MAX_BYTES = 64 * 1024  # a card is a few hundred bytes; anything much larger is not one


@dataclass(frozen=True)
class Card:
    node_id: str
    name: str = ""
    nation: str = ""
    public_keys: list[str] = field(default_factory=list)  # active first
    taxii_url: str = ""


def taxii_root_path() -> str:
    """The path of this node's TAXII API root (what a peer's "TAXII URL" names, after the scheme and host)."""
    return f"/taxii2/{API_ROOT}/"


def this_node(base_url: str = "") -> dict[str, Any]:
    """This node's card. ``base_url`` (scheme and host as peers reach this node, e.g. https://nato.example) gives
    the card its TAXII URL; without it the card has none and the peer's administrator types it."""
    node = node_identity()
    keys = sorted(node.keys.all(), key=lambda k: (k.retired_at is not None, -(k.pk or 0)))
    card: dict[str, Any] = {
        "format": FORMAT, "id": node.stix_id, "name": node.name, "nation": node.serves,
        "keys": [{"key_id": k.key_id, "public_key": k.public_key, "retired": k.retired_at is not None} for k in keys],
    }
    if base_url:
        card["taxii_url"] = base_url.rstrip("/") + taxii_root_path()
    return card


def read(text: str | bytes, source: str = "") -> Card:
    """The card in ``text``; a ServiceError (field ``card``) with one readable line when it is not one."""
    where = f" {source}" if source else ""
    if len(text) > MAX_BYTES:
        raise ServiceError(gettext("the node card%(where)s is too large to be one (%(size)d bytes)") % {
            "where": where, "size": len(text)}, "card")
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise ServiceError(gettext("the node card%(where)s is not JSON: export it again from the other node's "
                                   "federation page (or 'kizuna node show --json')") % {"where": where}, "card") from None
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not isinstance(keys, list):
        raise ServiceError(gettext("the node card%(where)s is not a Kizuna node card (it needs an id and keys)") % {
            "where": where}, "card")
    public = [str(k["public_key"]) for k in keys if isinstance(k, dict) and isinstance(k.get("public_key"), str)]
    url = data.get("taxii_url")
    return Card(node_id=data["id"].strip(), name=str(data.get("name") or "")[:200],
                nation=str(data.get("nation") or "")[:8], public_keys=public,
                taxii_url=url.strip() if isinstance(url, str) else "")
