"""``kizuna backup`` / ``kizuna restore``: a backup restores into a fresh node with the same rows, audit chain,
attachments and identity; it finishes while another process keeps writing; bad paths, wrong kinds, damaged backups
and a node that already has data are refused in one line."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from kizuna.core import audit
from kizuna.core.errors import ServiceError
from kizuna.federation import services as federation
from kizuna.ops import backup
from kizuna.reports.models import Attachment, Report
from kizuna.reports.services import ReportInput, do_add_attachment, do_create_report
from tests.cli.helpers import kizuna, kizuna_refused

from .nodes import FreshNode

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40


@pytest.fixture
def node_with_data(transactional_db: Any, source_dir: Path, make_user: Callable[..., Any],
                   label: Callable[..., Any]) -> dict[str, Any]:
    """A node with users, reports, two attachments, audit entries and an identity with a key."""
    author = make_user("hanako", "JPN", "JPN-MOD")
    reports = [do_create_report(author, ReportInput(title=f"report {i}", label=label(releasable_to=["NATO", "JPN"])))
               for i in range(5)]
    for i, report in enumerate(reports[:2]):
        do_add_attachment(author, report, f"paper{i}.pdf", io.BytesIO(PDF + bytes([i])))
    node = federation.node_identity()
    return {"data_dir": source_dir, "node": node.stix_id, "key_id": federation.active_key().key_id,
            "reports": Report.objects.count(),
            "attachments": {a.stored_name: a.sha256 for a in Attachment.objects.all()},
            "head": _sealed_head()}


def _sealed_head() -> tuple[int, str] | None:
    audit.seal()  # as the worker does every few seconds (and the backup itself, first)
    return audit.head()


@pytest.fixture
def fresh_node(tmp_path: Path) -> Iterator[FreshNode]:
    node = FreshNode(tmp_path / "fresh", f"{connection.settings_dict['NAME']}_restore")
    yield node
    node.drop()


def _restored_counts(node: FreshNode, table: str) -> int:
    """Rows of ``table`` in the node's database, read directly (not through the node's code)."""
    if node.database is None:
        with sqlite3.connect(node.data_dir / "kizuna.sqlite3") as db:
            return int(db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0])  # noqa: S608 - a fixed name
    import psycopg

    with psycopg.connect(node.database) as db:
        row = db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()  # noqa: S608 - a fixed name
        assert row is not None
        return int(row[0])


@pytest.mark.parametrize("name", ["backup", "backup.tar.gz"])
def test_a_backup_restores_into_a_fresh_node_with_the_same_rows_audit_chain_attachments_and_identity(
    node_with_data: dict[str, Any], fresh_node: FreshNode, tmp_path: Path, name: str,
) -> None:
    dest = tmp_path / name
    run = kizuna("backup", str(dest))
    assert run.out.startswith(f"backed up {'PostgreSQL' if fresh_node.database else 'SQLite'} database")
    assert oct(dest.stat().st_mode & 0o777) in ("0o700", "0o600")  # the backup holds the private key

    done = fresh_node.cli("restore", str(dest))
    assert done.returncode == 0, done.stderr
    assert "restored and verified" in done.stdout
    assert "2 attachment(s) match their hashes" in done.stdout

    # The fresh node, seen on its own: same reports, same audit head, same identity and key, the files back.
    assert _restored_counts(fresh_node, "reports_report") == node_with_data["reports"]
    seq, digest = node_with_data["head"]
    verified = fresh_node.cli("audit", "verify", "--expect-head", f"{seq}:{digest}")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith(f"audit log intact: {seq} entries")
    shown = fresh_node.cli("node", "show", "--json")
    card = json.loads(shown.stdout)
    assert card["id"] == node_with_data["node"]
    assert [k["key_id"] for k in card["keys"] if not k["retired"]] == [node_with_data["key_id"]]
    for stored_name, sha256 in node_with_data["attachments"].items():
        restored = fresh_node.data_dir / "attachments" / stored_name
        assert hashlib.sha256(restored.read_bytes()).hexdigest() == sha256
    key_file = fresh_node.data_dir / "keys" / f"{node_with_data['key_id']}.pem"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert (fresh_node.data_dir / "secret_key").read_bytes() == (node_with_data["data_dir"] / "secret_key").read_bytes()

    # Now the node has data: a second restore is refused, unless forced (and then verified again).
    again = fresh_node.cli("restore", str(dest))
    assert again.returncode != 0
    assert again.stderr.strip().startswith("kizuna restore: error: this node is not empty (")
    forced = fresh_node.cli("restore", str(dest), "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "restored and verified" in forced.stdout


def test_the_manifest_says_what_when_which_node_and_how_many(node_with_data: dict[str, Any], tmp_path: Path) -> None:
    manifest = backup.backup(tmp_path / "b")
    assert manifest == json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["database"]["kind"] == connection.vendor
    assert manifest["node"] == {"id": node_with_data["node"], "name": manifest["node"]["name"],
                                "key_id": node_with_data["key_id"]}
    assert manifest["tables"]["reports_report"] == node_with_data["reports"]
    assert (manifest["audit"]["head_seq"], manifest["audit"]["head_hash"]) == node_with_data["head"]
    assert set(manifest["contents"]) == {manifest["database"]["file"], "keys", "attachments", "secret_key"}
    assert {f"attachments/{n}" for n in node_with_data["attachments"]} < set(manifest["files"])
    assert manifest["started_at"] <= manifest["finished_at"]


def test_restore_verifies_and_reports_each_difference_from_the_manifest(node_with_data: dict[str, Any],
                                                                        tmp_path: Path) -> None:
    manifest = backup.backup(tmp_path / "b")
    assert backup.verify(manifest).problems == []
    stored = next(iter(node_with_data["attachments"]))
    (tmp_path / "source" / "attachments" / stored).write_bytes(b"changed")
    Report.objects.filter(title="report 4").delete()
    problems = backup.verify(manifest).problems
    assert f"attachment {stored}: hash differs from the database's" in problems
    assert any(p.startswith("table reports_report: 4, expected 5 rows") for p in problems)


def test_restore_refuses_a_node_that_has_data_unless_forced(node_with_data: dict[str, Any], tmp_path: Path) -> None:
    kizuna("backup", str(tmp_path / "b"))
    message, _ = kizuna_refused("restore", str(tmp_path / "b"))
    assert message.startswith("this node is not empty (")
    assert "--force" in message


def test_restore_refuses_a_damaged_backup_before_touching_the_node(node_with_data: dict[str, Any],
                                                                   tmp_path: Path) -> None:
    kizuna("backup", str(tmp_path / "b"))
    key = tmp_path / "b" / "keys" / f"{node_with_data['key_id']}.pem"
    key.write_bytes(key.read_bytes()[:-10])
    message, _ = kizuna_refused("restore", str(tmp_path / "b"), "--force")
    assert message == f"the backup's file keys/{node_with_data['key_id']}.pem is missing or damaged (its hash differs)"
    assert Report.objects.count() == node_with_data["reports"]


def test_restore_refuses_a_backup_of_the_other_database_kind(node_with_data: dict[str, Any], tmp_path: Path) -> None:
    kizuna("backup", str(tmp_path / "b"))
    path = tmp_path / "b" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["database"]["kind"] = "sqlite" if connection.vendor == "postgresql" else "postgresql"
    path.write_text(json.dumps(manifest))
    message, _ = kizuna_refused("restore", str(tmp_path / "b"))
    other, here = ("SQLite", "PostgreSQL") if connection.vendor == "postgresql" else ("PostgreSQL", "SQLite")
    assert message == (f"{tmp_path / 'b'} is a backup of a {other} node; this node's database is {here}"
                       " (set DATABASE_URL to match)")


def test_bad_paths_are_refused_in_one_line(transactional_db: Any, source_dir: Path, tmp_path: Path) -> None:
    assert kizuna_refused("backup", str(tmp_path / "no" / "such" / "b"))[0] == (
        f"cannot write the backup: directory {tmp_path / 'no' / 'such'} does not exist")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    assert kizuna_refused("backup", str(tmp_path / "full"))[0] == (
        f"cannot write the backup: {tmp_path / 'full'} already exists and is not an empty directory")
    assert kizuna_refused("backup", str(source_dir / "b"))[0].startswith("cannot write the backup inside the data")
    assert kizuna_refused("restore", str(tmp_path / "missing"))[0] == f"no backup at {tmp_path / 'missing'}"
    assert kizuna_refused("restore", str(tmp_path / "full"))[0].startswith(f"{tmp_path / 'full'} is not a Kizuna backup")
    assert kizuna_refused("restore", str(tmp_path / "full" / "x"))[0].startswith(f"{tmp_path / 'full' / 'x'} is not a")
    with tarfile.open(tmp_path / "empty.tar", "w"):
        pass
    assert "is not a Kizuna backup (no manifest.json" in kizuna_refused("restore", str(tmp_path / "empty.tar"))[0]
    assert list(tmp_path.glob(".kizuna-backup-*")) == []  # nothing half-written left behind


def test_a_missing_client_tool_is_named(monkeypatch: pytest.MonkeyPatch, transactional_db: Any, source_dir: Path,
                                        tmp_path: Path) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ServiceError, match=r"^pg_dump not found: install PostgreSQL's client tools"):
        backup._tool("pg_dump")
    if connection.vendor == "postgresql":
        assert kizuna_refused("backup", str(tmp_path / "b"))[0] == (
            "pg_dump not found: install PostgreSQL's client tools (apt-get install postgresql-client)")
        assert not (tmp_path / "b").exists()


WRITER = """
import sys, time
from pathlib import Path
import django
django.setup()
from kizuna.directory.services import create_user, ensure_reference_data
from kizuna.federation.services import node_identity
from kizuna.labels import Label
from kizuna.reports.services import ReportInput, do_create_report

ensure_reference_data()
node_identity()
user = create_user(username="writer", nation="JPN", organisation="JPN-GOV", clearances={"NATO": "RESTRICTED"},
                   communities=[], role="contributor")
label = Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["NATO", "JPN"]}, "AMBER", [])
stop, n = Path(sys.argv[1]), 0
while not stop.exists():
    do_create_report(user, ReportInput(title=f"report {n}", label=label))
    n += 1
    if n == 20:
        print("writing", flush=True)
print(n, flush=True)
"""


def test_a_backup_taken_while_another_process_keeps_writing_finishes_and_restores_consistently(tmp_path: Path) -> None:
    """The sqlite3 shell's ``.backup`` restarted on every write and ran until the writes stopped; this must finish in
    bounded time while reports (and their audit entries) keep being written, and restore to a consistent state."""
    base = os.environ.get("DATABASE_URL", "postgres:///test").rpartition("/")[2] or "test"
    source = FreshNode(tmp_path / "source", f"test_{base}_{os.getpid()}_backup_source")
    target = FreshNode(tmp_path / "target", f"test_{base}_{os.getpid()}_backup_target")
    writer = None
    try:
        assert source.cli("migrate", "-v0").returncode == 0
        writer = source.python(WRITER, str(tmp_path / "stop"))
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "writing", writer.stderr.read() if writer.stderr else ""
        before = _restored_counts(source, "reports_report")
        started = time.monotonic()
        done = source.cli("backup", str(tmp_path / "backup.tar"), timeout=60)
        took = time.monotonic() - started
        after = _restored_counts(source, "reports_report")
        assert done.returncode == 0, done.stderr
        assert writer.poll() is None  # still writing when the backup finished
        assert took < 45  # a subprocess's start included; the copy itself takes well under a second here
        (tmp_path / "stop").touch()
        writer.communicate(timeout=60)

        manifest = json.loads(tarfile.open(tmp_path / "backup.tar").extractfile("./manifest.json").read())  # type: ignore[union-attr]
        in_backup = manifest["tables"]["reports_report"]
        assert before < after  # reports were written while the backup ran...
        assert before <= in_backup <= after  # ...and it holds a snapshot taken among them
        # One audit entry per report, and the backup's snapshot holds exactly those of its reports: the chain up
        # to its head, and the entries written during the dump that no sealer had chained yet.
        audit_facts = manifest["audit"]
        assert manifest["tables"]["core_auditentry"] == audit_facts["head_seq"] + audit_facts["unsealed"]

        restored = target.cli("restore", str(tmp_path / "backup.tar"))
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert "restored and verified" in restored.stdout
        assert _restored_counts(target, "reports_report") == in_backup
        verified = target.cli("audit", "verify")
        assert verified.stdout.startswith(f"audit log intact: {manifest['audit']['entries']} entries")
    finally:
        if writer is not None and writer.poll() is None:
            writer.kill()
            writer.wait()
        source.drop()
        target.drop()

