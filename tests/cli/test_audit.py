"""``kizuna audit verify|tail``: an edited or deleted entry is reported, one line per problem."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.management.base import CommandError
from django.db import connection

from kizuna.core import audit
from kizuna.core.models import AuditEntry

from .helpers import kizuna, kizuna_refused


@pytest.fixture
def chain(db: Any) -> list[AuditEntry]:
    AuditEntry.objects.all().delete()
    written = [audit.record(f"user{i}", "read", "report", [i], None, "10.0.0.1", {"n": i}) for i in range(5)]
    audit.seal()
    return list(AuditEntry.objects.filter(pk__in=[e.pk for e in written]).order_by("seq"))


def test_audit_verify_seals_what_was_written_since_the_last_pass(db: Any) -> None:
    AuditEntry.objects.all().delete()
    for i in range(3):
        audit.record(f"user{i}", "read", "report", [i])
    run = kizuna("audit", "verify")
    assert run.lines[0].startswith("audit log intact: 3 entries (3 sealed just now); head 3:")
    assert not AuditEntry.objects.filter(seq__isnull=True).exists()


def test_audit_tail_shows_unsealed_entries_as_such(chain: list[AuditEntry]) -> None:
    audit.record("late", "read", "report", [9])
    lines = kizuna("audit", "tail", "-n", "2").lines
    assert [line.split()[0] for line in lines[1:]] == ["5", "(unsealed)"]


def test_audit_verify_says_intact_with_the_number_of_entries(chain: list[AuditEntry]) -> None:
    run = kizuna("audit", "verify")
    assert run.out.startswith("audit log intact: 5 entries")
    assert f"head 5:{chain[-1].hash}" in run.out


def test_audit_verify_detects_an_entry_edited_with_raw_sql(chain: list[AuditEntry]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET actor = %s WHERE seq = %s", ["mallory", 3])
    message, run = kizuna_refused("audit", "verify")
    assert message == "audit log damaged: 1 problem(s) in 5 entries"
    assert run.lines == ["entry #3: entry was edited: its hash does not match its content"]


def test_audit_verify_detects_a_deleted_entry(chain: list[AuditEntry]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE seq = %s", [2])
    message, run = kizuna_refused("audit", "verify")
    assert message.startswith("audit log damaged")
    lines = run.lines
    assert lines[0] == "entry #3: entries 2..2 are missing"
    assert all(line.startswith("entry #3:") for line in lines)


def test_audit_verify_detects_entries_cut_from_the_end_given_the_earlier_head(chain: list[AuditEntry]) -> None:
    head = f"{chain[-1].seq}:{chain[-1].hash}"
    assert kizuna("audit", "verify", "--expect-head", head).out.startswith("audit log intact")
    AuditEntry.objects.filter(seq__gte=4).delete()
    assert kizuna("audit", "verify").out.startswith("audit log intact: 3 entries")  # the chain alone cannot tell
    with pytest.raises(CommandError, match="1 problem"):
        kizuna("audit", "verify", "--expect-head", head)


def test_audit_tail_shows_the_latest_entries_oldest_first(chain: list[AuditEntry]) -> None:
    lines = kizuna("audit", "tail", "-n", "2").lines
    assert lines[0].split()[:2] == ["SEQ", "AT"]
    assert [line.split()[0] for line in lines[1:]] == ["4", "5"]
    assert "user4" in lines[2]


def test_audit_tail_shows_the_label_of_a_write(make_user: Callable[..., Any], label: Callable[..., Any]) -> None:
    from kizuna.reports.services import ReportInput, do_create_report

    author = make_user("hanako", "JPN", "JPN-MOD")
    do_create_report(author, ReportInput(title="t", label=label(releasable_to=["NATO", "JPN"])))
    last = kizuna("audit", "tail", "-n", "1").lines[-1]
    assert "hanako" in last
    assert "REL TO NATO, JPN" in last
