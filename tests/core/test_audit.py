"""The hash-chained audit log: `record` appends, `verify` finds edited and deleted entries."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from kizuna.core import audit
from kizuna.core.models import AuditEntry


def _chain(n: int) -> list[AuditEntry]:
    return [audit.record(f"user{i}", "read", "report", [i, i + 1], 42, "127.0.0.1", {"n": i}) for i in range(n)]


def test_entries_are_numbered_and_chained(db: Any) -> None:
    AuditEntry.objects.all().delete()
    entries = _chain(3)
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == audit.GENESIS
    assert entries[1].prev_hash == entries[0].hash
    assert entries[2].prev_hash == entries[1].hash
    assert entries[0].target_ids == "0,1"
    assert audit.verify() == []


def test_verify_reports_an_edited_entry(db: Any) -> None:
    AuditEntry.objects.all().delete()
    entries = _chain(4)
    AuditEntry.objects.filter(pk=entries[1].pk).update(actor="someone else")
    problems = audit.verify()
    assert [p.seq for p in problems] == [entries[1].seq]
    assert "edited" in problems[0].reason


def test_verify_reports_an_edited_detail(db: Any) -> None:
    AuditEntry.objects.all().delete()
    entries = _chain(2)
    AuditEntry.objects.filter(pk=entries[0].pk).update(detail={"n": 99})
    assert [p.seq for p in audit.verify()] == [entries[0].seq]


def test_verify_reports_an_edit_even_when_the_hash_is_recomputed(db: Any) -> None:
    """Rewriting an entry and its own hash still breaks the link to the next entry."""
    AuditEntry.objects.all().delete()
    entries = _chain(3)
    forged = AuditEntry.objects.get(pk=entries[1].pk)
    forged.actor = "someone else"
    forged.hash = audit.entry_hash(forged.content())
    forged.save()
    problems = audit.verify()
    assert problems and problems[0].seq == entries[2].seq
    assert "chain broken" in problems[0].reason


def test_verify_reports_a_deleted_entry(db: Any) -> None:
    AuditEntry.objects.all().delete()
    entries = _chain(4)
    AuditEntry.objects.filter(pk=entries[1].pk).delete()
    problems = audit.verify()
    reasons = " / ".join(p.reason for p in problems)
    assert {p.seq for p in problems} == {entries[2].seq}
    assert "entries 2..2 are missing" in reasons
    assert "chain broken" in reasons


def test_verify_reports_a_deleted_first_entry(db: Any) -> None:
    AuditEntry.objects.all().delete()
    entries = _chain(2)
    AuditEntry.objects.filter(pk=entries[0].pk).delete()
    assert [p.seq for p in audit.verify()] == [2, 2]


def test_rolled_back_write_leaves_no_audit_entry(db: Any) -> None:
    AuditEntry.objects.all().delete()
    _chain(1)
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record("hanako", "create", "report", [1])
        raise RuntimeError("the write failed")
    assert AuditEntry.objects.count() == 1
    audit.record("hanako", "create", "report", [1])
    assert audit.verify() == []
    assert list(AuditEntry.objects.values_list("seq", flat=True)) == [1, 2]


def test_long_fields_are_truncated_not_refused(db: Any) -> None:
    entry = audit.record("a" * 500, "b" * 100, "c" * 100, address="d" * 100)
    assert (len(entry.actor), len(entry.action), len(entry.target_type), len(entry.address)) == (150, 40, 64, 64)
    assert audit.verify() == []


def test_client_address_reads_remote_addr() -> None:
    class Request:
        META = {"REMOTE_ADDR": "192.0.2.7"}

    assert audit.client_address(Request()) == "192.0.2.7"
    assert audit.client_address(object()) == ""
