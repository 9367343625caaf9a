"""The hash-chained audit log: `record` appends without a lock, `seal` chains what was appended in order, `verify`
finds edited and deleted entries."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections, transaction

from kizuna.core import audit
from kizuna.core.models import AuditEntry


def _chain(n: int) -> list[AuditEntry]:
    written = [audit.record(f"user{i}", "read", "report", [i, i + 1], 42, "127.0.0.1", {"n": i}) for i in range(n)]
    audit.seal()
    return list(AuditEntry.objects.filter(pk__in=[e.pk for e in written]).order_by("seq"))


def test_an_entry_is_appended_unsealed_and_sealed_in_the_order_written(db: Any) -> None:
    AuditEntry.objects.all().delete()
    written = [audit.record(f"user{i}", "read", "report", [i, i + 1]) for i in range(3)]
    assert [e.seq for e in written] == [None, None, None]
    assert audit.unsealed()[0] == 3
    assert audit.verify() == []  # nothing sealed yet: nothing to find
    assert audit.seal() == 3
    entries = list(AuditEntry.objects.order_by("seq"))
    assert [e.pk for e in entries] == [e.pk for e in written]
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == audit.GENESIS
    assert entries[1].prev_hash == entries[0].hash
    assert entries[2].prev_hash == entries[1].hash
    assert entries[0].target_ids == "0,1"
    assert audit.unsealed() == (0, None)
    assert audit.head() == (3, entries[2].hash)
    assert audit.verify() == []
    assert audit.seal() == 0


def test_sealing_continues_the_chain_in_batches(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    AuditEntry.objects.all().delete()
    monkeypatch.setattr(audit, "SEAL_BATCH", 4)
    _chain(3)
    for i in range(9):
        audit.record("later", "read", "report", [i])
    assert audit.seal(limit=5) == 5
    assert audit.unsealed()[0] == 4
    assert audit.seal() == 4
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, 13))
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


def test_an_entry_un_sealed_by_hand_is_a_gap_until_sealed_again_at_the_end(db: Any) -> None:
    """Clearing an entry's seq (to slip an edit past the chain) leaves a gap where it was."""
    AuditEntry.objects.all().delete()
    entries = _chain(3)
    AuditEntry.objects.filter(pk=entries[1].pk).update(seq=None, actor="someone else")
    assert {p.seq for p in audit.verify()} == {3}
    audit.seal()
    assert AuditEntry.objects.get(pk=entries[1].pk).seq == 4
    assert "entries 2..2 are missing" in " / ".join(p.reason for p in audit.verify())


def test_rolled_back_write_leaves_no_audit_entry(db: Any) -> None:
    AuditEntry.objects.all().delete()
    _chain(1)
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record("hanako", "create", "report", [1])
        raise RuntimeError("the write failed")
    assert AuditEntry.objects.count() == 1
    audit.record("hanako", "create", "report", [1])
    audit.seal()
    assert audit.verify() == []
    assert list(AuditEntry.objects.values_list("seq", flat=True)) == [1, 2]


def test_long_fields_are_truncated_not_refused(db: Any) -> None:
    entry = audit.record("a" * 500, "b" * 100, "c" * 100, address="d" * 100)
    assert (len(entry.actor), len(entry.action), len(entry.target_type), len(entry.address)) == (150, 40, 64, 64)
    audit.seal()
    assert audit.verify() == []


def test_client_address_reads_remote_addr() -> None:
    class Request:
        META = {"REMOTE_ADDR": "192.0.2.7"}

    assert audit.client_address(Request()) == "192.0.2.7"
    assert audit.client_address(object()) == ""


@pytest.mark.django_db(transaction=True)
def test_appends_do_not_wait_for_each_other_and_late_commits_are_sealed_after(db: Any) -> None:
    """Issue 12: the chain must not be one lock every write waits for. On PostgreSQL (where writers run concurrently)
    a write that appended its entry and has not committed does not hold up another write's append; the entry that
    took the earlier id but committed later is sealed after the one sealed before it, and the chain stays whole."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers in the database itself")
    AuditEntry.objects.all().delete()
    appended, release, second_done = threading.Event(), threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def slow_writer() -> None:
        try:
            with transaction.atomic():
                audit.record("slow", "create", "report", [1])
                appended.set()
                release.wait(20)
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    slow = threading.Thread(target=slow_writer)
    slow.start()
    try:
        assert appended.wait(10)

        def quick_writer() -> None:
            try:
                with transaction.atomic():
                    audit.record("quick", "create", "report", [2])
                second_done.set()
            finally:
                connections.close_all()

        quick = threading.Thread(target=quick_writer)
        quick.start()
        assert second_done.wait(5), "the second write waited for the first one's audit append"
        quick.join()
        assert audit.seal() == 1  # only the committed entry
        assert list(AuditEntry.objects.values_list("actor", "seq")) == [("quick", 1)]
    finally:
        release.set()
        slow.join()
    assert not failures
    assert audit.seal() == 1
    assert list(AuditEntry.objects.order_by("seq").values_list("actor", "seq")) == [("quick", 1), ("slow", 2)]
    assert audit.verify() == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_sealers_build_one_gap_free_chain(db: Any) -> None:
    """Several workers sealing at once (PostgreSQL: the suite's SQLite database is in memory, shared between threads
    by table locks; on a node's SQLite file the write lock admits one sealer, as test_two_app_servers shows on PG)."""
    if connection.vendor != "postgresql":
        pytest.skip("the in-memory test database cannot take concurrent writers")
    AuditEntry.objects.all().delete()
    for i in range(300):
        audit.record("writer", "read", "report", [i])
    errors: list[BaseException] = []

    def sealer() -> None:
        try:
            for _ in range(5):
                audit.seal(limit=40)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sealer) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    audit.seal()
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, 301))
    assert audit.verify() == []
