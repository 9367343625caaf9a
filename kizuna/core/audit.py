"""The append-only audit log: every write and every read of labelled content, hash-chained so that an edited or
deleted entry is found by ``kizuna audit verify``."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from kizuna.core.models import AuditEntry

GENESIS = "0" * 64
_LOCK_KEY = 4774  # PostgreSQL advisory lock that serialises appends to the chain


def entry_hash(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(
    actor: str,
    action: str,
    target_type: str = "",
    target_ids: Iterable[object] = (),
    label_id: int | None = None,
    address: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. Runs inside the caller's transaction when there is one, so a rolled-back write leaves no
    audit entry claiming it happened."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        last = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        entry = AuditEntry(
            seq=seq,
            at=timezone.now(),
            actor=actor[:150],
            action=action[:40],
            target_type=target_type[:64],
            target_ids=",".join(str(t) for t in target_ids),
            label_id=label_id,
            address=address[:64],
            detail=detail or {},
            prev_hash=prev,
        )
        entry.hash = entry_hash(entry.content())
        entry.save()
    return entry


@dataclass(frozen=True)
class Problem:
    seq: int
    reason: str


def verify() -> list[Problem]:
    """Walk the chain in order; report entries whose content no longer matches their hash, and breaks in the chain
    (a deleted entry leaves a gap in ``seq`` and a ``prev_hash`` that no longer matches)."""
    problems: list[Problem] = []
    prev_hash, expected_seq = GENESIS, 1
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
        if entry.seq != expected_seq:
            problems.append(Problem(entry.seq, f"entries {expected_seq}..{entry.seq - 1} are missing"))
        if entry.prev_hash != prev_hash:
            problems.append(Problem(entry.seq, "chain broken: previous hash does not match"))
        if entry_hash(entry.content()) != entry.hash:
            problems.append(Problem(entry.seq, "entry was edited: its hash does not match its content"))
        prev_hash, expected_seq = entry.hash, entry.seq + 1
    return problems


def client_address(request: object) -> str:
    """The client's address. Behind the node's own reverse proxy (KIZUNA_BEHIND_PROXY=1) every request comes from
    the proxy, so the address the proxy appended to X-Forwarded-For is used: the last one, the only one it vouches
    for (earlier entries are whatever the client claimed)."""
    meta = getattr(request, "META", {})
    if getattr(settings, "KIZUNA_BEHIND_PROXY", False):
        forwarded = [part.strip() for part in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",") if part.strip()]
        if forwarded:
            return forwarded[-1][:64]
    return str(meta.get("REMOTE_ADDR", ""))[:64]
