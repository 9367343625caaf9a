"""Objects as this node serves them to peers: with their Kizuna label marking and the standard TLP 2.0 marking of the
label's TLP, and signed by their originating node.

An object this node originated is signed by this node over its served form (the stored JSON with the label marking
and the TLP marking added, as the exporter adds them: the label is part of what is signed, so no relay can lower it).
Signatures made before the TLP marking was added (issue 13) were cleared by migration threats/0009, so that every
stored signature is over today's served form. Signing is the costly part (tens of
microseconds), so it is done once per version and label by ``sign_pending`` — run by the periodic job
``federation.sign`` of ``kizuna worker`` (one pass at a time on the whole node) and by ``kizuna node sign`` — and kept
on the row (``signature``, ``signed_label``); serving then only splices the stored signature into the text. A row
not yet signed (or relabelled since) is signed on the fly.

An object received from a peer is served exactly as it was received: it already carries its label marking and its
originator's signature, which this node cannot and must not replace.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q

from kizuna.federation import signing
from kizuna.federation.models import Peer
from kizuna.federation.services import Signer, node_identity, signer
from kizuna.threats.exporter import LabelMarkings, with_label_marking
from kizuna.threats.markings import KIZUNA_LABEL_EXTENSION_ID, TLP_BY_ID
from kizuna.threats.models import StixObject

SIGN_BATCH = 2000
_EXT_KEY = '"extensions"'
_MARKING_KEY = '"object_marking_refs"'


def _member_parts(node: str) -> tuple[str, str, str]:
    """The signature extension's JSON member in three fixed pieces, around the key id and the signature."""
    return (f'"{signing.SIGNATURE_EXTENSION_ID}":{{"extension_type":"property-extension","node":"{node}","key_id":"',
            f'","alg":"{signing.ALGORITHM}","signature":"', '"}')


def signature_member(node: str, stored: str) -> str:
    """The JSON member ``"<extension id>": {...}`` of the signature extension for a stored "<key id>:<signature>"."""
    kid, _, sig = stored.partition(":")
    head, mid, tail = _member_parts(node)
    return f"{head}{kid}{mid}{sig}{tail}"


def splice_signature(text: str, member: str) -> str:
    """``text`` (a compact JSON object) with the signature extension member added to its ``extensions``."""
    if _EXT_KEY not in text and text.endswith("}"):
        return f"{text[:-1]},{_EXT_KEY}:{{{member}}}}}"  # the common case: no extensions yet
    obj = json.loads(text)
    extensions = obj.get("extensions")
    if not isinstance(extensions, dict):
        extensions = {}
    extensions[signing.SIGNATURE_EXTENSION_ID] = json.loads("{" + member + "}")[signing.SIGNATURE_EXTENSION_ID]
    obj["extensions"] = extensions
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def sign_text(text: str, key: Signer) -> str:
    """The stored form "<key id>:<base64 signature>" of ``key``'s signature over the object ``text``."""
    signed = signing.sign_with(json.loads(text), key.node, key.key_id, key.private_key)
    return f"{key.key_id}:{signed['extensions'][signing.SIGNATURE_EXTENSION_ID]['signature']}"


def peer_organisations() -> set[int]:
    return set(Peer.objects.values_list("organisation_id", flat=True))


@dataclass
class Outbound:
    """Per request (or export): the served text of each row. Reads the key, the markings and the peers once."""

    markings: LabelMarkings = field(default_factory=LabelMarkings)
    node: str = ""
    received_from: set[int] = field(default_factory=set)  # organisations of peers: their objects are relayed as is
    _signer: Signer | None = None
    members: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.node = self.node or node_identity().stix_id
        self.received_from = self.received_from or peer_organisations()

    def key(self) -> Signer:
        if self._signer is None:
            self._signer = signer()
        return self._signer

    def text(self, label_id: int, data: str, originator_id: int, signature: str | None,
             signed_label: int | None) -> str:
        if originator_id in self.received_from:
            return data  # as received: label marking and originator's signature included
        marked = with_label_marking(data, self.markings.refs_of(label_id))
        if signature is None or signed_label != label_id:
            signature = sign_text(marked, self.key())
        member = self.members.get(signature)
        if member is None:
            member = signature_member(self.node, signature)
        return splice_signature(marked, member)


def pending() -> Any:
    """Rows this node must (re)sign: its own objects with no signature, or signed under another label."""
    return (StixObject.objects.filter(Q(signature__isnull=True) | ~Q(signed_label=F("label_id")))
            .exclude(originator_id__in=sorted(peer_organisations())))


def sign_pending(limit: int | None = None, between_batches: Callable[[], None] | None = None) -> int:
    """Sign up to ``limit`` pending rows (all when None), in batches; the number signed. Safe to run at any time and
    in several processes: a row relabelled meanwhile is simply signed again next time (but two passes at once sign
    the same rows twice: the queue runs one pass at a time). ``between_batches`` is called after each committed
    batch (the worker's checkpoint)."""
    key = signer()
    markings = LabelMarkings()
    done = 0
    last = 0
    while limit is None or done < limit:
        size = SIGN_BATCH if limit is None else min(SIGN_BATCH, limit - done)
        rows = list(pending().filter(pk__gt=last).order_by("pk").values_list("pk", "label_id", "data")[:size])
        if not rows:
            break
        updates = [(sign_text(with_label_marking(data, markings.refs_of(label_id)), key), label_id, pk, label_id)
                   for pk, label_id, data in rows]
        table = StixObject._meta.db_table
        with transaction.atomic(), connection.cursor() as cursor:
            # Only where the label is still the one signed for: a concurrent relabel wins and is signed next time.
            cursor.executemany(
                f"UPDATE {table} SET signature = %s, signed_label = %s WHERE id = %s AND label_id = %s",  # noqa: S608 - fixed name
                updates,
            )
        done += len(rows)
        last = rows[-1][0]
        if between_batches is not None:
            between_batches()
    return done


# The columns a serving query selects for ``envelope_text`` (after the primary key, which page() puts first).
SERVED_COLUMNS = ("stix_id", "label_id", "data", "originator_id", "signature", "signed_label")


def envelope_text(rows: list[tuple[Any, ...]], out: Outbound | None = None) -> str:
    """The objects of rows ``(pk, *SERVED_COLUMNS)`` as served (label marking, signature), joined with commas.

    The hot loop of the TAXII objects endpoint: for an object signed under its current label and with no markings
    or extensions of its own — nearly all — it is one string formatting, no parsing."""
    out = out or Outbound()
    marks: dict[int, str] = {}  # label id -> its marking ids, quoted and joined (label marking, TLP 2.0 marking)
    node = out.node
    head, sig_mid, _tail = _member_parts(node)
    sig_head = f',"extensions":{{{head}'
    received = out.received_from
    parts: list[str] = []
    append = parts.append
    for _pk, stix_id, label_id, data, originator_id, signature, signed_label in rows:
        if originator_id in received:
            append(data)  # as received, with its originator's signature
            continue
        if stix_id.startswith("marking-definition--") and (
                stix_id in TLP_BY_ID or KIZUNA_LABEL_EXTENSION_ID in data):
            append(data)  # standard or content-addressed definitions: the same on every node, never rewritten
            continue
        mid = marks.get(label_id)
        if mid is None:
            mid = marks[label_id] = ",".join(f'"{ref}"' for ref in out.markings.refs_of(label_id))
        if (signature is not None and signed_label == label_id and _MARKING_KEY not in data
                and _EXT_KEY not in data and data.endswith("}")):
            kid, _, sig = signature.partition(":")
            append(f'{data[:-1]},{_MARKING_KEY}:[{mid}]{sig_head}{kid}{sig_mid}{sig}"}}}}}}')
        else:
            append(out.text(label_id, data, originator_id, signature, signed_label))
    return ",".join(parts)
