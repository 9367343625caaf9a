"""The node's identity and keys: created on first use, rotated on request.

``node_identity()`` returns the single ``NodeIdentity`` row, creating it (id ``identity--<uuid4>``, never changed
afterwards) and its first key pair on first use; its name and nation follow the settings ``KIZUNA_NODE_NAME`` and
``KIZUNA_NODE_NATION`` (empty or absent = the node serves NATO). ``rotate_key()`` makes a new active pair, retires
the old one (its public key stays for verification) and deletes the old private key file: a retired key must never
sign again, and verifying needs only the public half.
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from kizuna.core import audit
from kizuna.core.errors import ServiceError
from kizuna.federation import keys
from kizuna.federation.models import NodeIdentity, NodeKey

log = logging.getLogger(__name__)

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}$")


@dataclass(frozen=True)
class Signer:
    """What signing needs, read once: the node's identity id and its active key."""

    node: str
    key_id: str
    private_key: Ed25519PrivateKey


def configured_nation() -> str:
    """The nation or organisation code this node serves, from settings (or the environment); "" means NATO."""
    value = getattr(settings, "KIZUNA_NODE_NATION", None)
    if value is None:
        value = os.environ.get("KIZUNA_NODE_NATION", "")
    code = str(value or "").strip().upper()
    if code and not _CODE.match(code):
        raise ServiceError(f"KIZUNA_NODE_NATION {value!r} is not a nation or organisation code (e.g. JPN)")
    return code


def node_identity() -> NodeIdentity:
    """This node's identity, created with its first key pair on first use."""
    name, nation = str(settings.KIZUNA_NODE_NAME), configured_nation()
    node = NodeIdentity.objects.filter(singleton=1).first()
    if node is None:
        try:
            with transaction.atomic():
                node = NodeIdentity.objects.create(stix_id=f"identity--{uuid.uuid4()}", name=name, nation=nation)
        except IntegrityError:  # another process created it first
            node = NodeIdentity.objects.get(singleton=1)
    elif (node.name, node.nation) != (name, nation):
        node.name, node.nation = name, nation
        node.save(update_fields=["name", "nation"])
    _ensure_active_key(node)
    return node


def _ensure_active_key(node: NodeIdentity) -> NodeKey:
    active = node.keys.filter(retired_at__isnull=True).first()
    if active is not None:
        return active
    private, kid = keys.generate()
    keys.write_private(private)  # the file first: a row without its private key could never sign
    try:
        with transaction.atomic():
            return NodeKey.objects.create(node=node, key_id=kid, public_key=keys.public_b64(keys.public_raw(private)))
    except IntegrityError:  # another process made the first key at the same moment: theirs wins
        keys.remove_private(kid)
        return node.keys.get(retired_at__isnull=True)


def active_key() -> NodeKey:
    return _ensure_active_key(node_identity())


def signer() -> Signer:
    """The active key with its private half loaded (and checked against the recorded public key)."""
    node = node_identity()
    key = _ensure_active_key(node)
    return Signer(node=node.stix_id, key_id=key.key_id, private_key=keys.load_private(key.key_id))


def public_keys() -> dict[str, bytes]:
    """Every public key of this node by key id, retired ones included, for ``signing.verify_object``."""
    node = node_identity()
    return {key.key_id: keys.public_from_b64(key.public_key) for key in node.keys.all()}


@dataclass(frozen=True)
class Rotation:
    retired: str | None
    active: str


def rotate_key(actor: str) -> Rotation:
    """A new active key pair; the old one is retired (public key kept) and its private key file deleted. The
    rotation is in the audit log under ``actor``."""
    node = node_identity()
    private, kid = keys.generate()
    keys.write_private(private)
    try:
        with transaction.atomic():
            old = NodeKey.objects.select_for_update().filter(node=node, retired_at__isnull=True).first()
            if old is not None:
                old.retired_at = timezone.now()
                old.save(update_fields=["retired_at"])
            NodeKey.objects.create(node=node, key_id=kid, public_key=keys.public_b64(keys.public_raw(private)))
            audit.record(actor, "node.rotate-key", "node-key", [kid],
                         detail={"retired": old.key_id if old else None, "active": kid})
    except Exception:
        keys.remove_private(kid)  # not recorded: the new file must not linger
        raise
    # After the commit: if this process dies before here, the next rotation removes the leftover file.
    for retired in node.keys.filter(retired_at__isnull=False).values_list("key_id", flat=True):
        keys.remove_private(retired)
    log.info("node key rotated: %s retired, %s active", old.key_id if old else None, kid)
    return Rotation(retired=old.key_id if old else None, active=kid)
