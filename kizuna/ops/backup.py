"""Backup and restore of a whole node: its database, its private signing keys (``keys/``), its attachments and its
secret key, in one directory (or one tar file) with a manifest.

A backup is online. SQLite is copied with ``VACUUM INTO``, one read transaction: under WAL writers go on and the copy
finishes in bounded time (the sqlite3 shell's ``.backup`` copies in steps and starts again whenever another
connection writes, so under steady writes it never finishes). PostgreSQL is dumped by ``pg_dump`` (custom format)
from a snapshot exported by a REPEATABLE READ transaction, and the manifest's facts (row counts per table, the audit
chain's head, the node's identity and key) are read in that same snapshot, so they describe exactly what the dump
holds. Files are copied after the database: every attachment the backup's database names was written before it.

A restore goes into a fresh node only (no users, no audit entries, no identity, no keys or attachments), unless
``force``; then it checks what came back against the manifest: row counts, the audit chain, every attachment's hash,
and the node's identity and active key (whose private half must load).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.utils import timezone

from kizuna.core import audit
from kizuna.core.errors import ServiceError
from kizuna.core.models import AuditEntry
from kizuna.federation import keys
from kizuna.federation.models import NodeIdentity, NodeKey
from kizuna.reports.models import Attachment

FORMAT = "kizuna-backup"
VERSION = 1
MANIFEST = "manifest.json"
DB_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
KIND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# What of the data directory a node needs, besides its database. Not imports/ (uploads of running imports, deleted
# when they end), not static/ (files come from the code), not the SQLite files (copied through SQLite itself).
DATA_PARTS = ("keys", "attachments", "secret_key")
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz")
_CHUNK = 1024 * 1024


def _kind() -> str:
    vendor = connection.vendor
    if vendor not in DB_FILES:
        raise ServiceError(f"cannot back up a {vendor} database; Kizuna runs on SQLite or PostgreSQL")
    return vendor


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table_names(cursor: Any, kind: str) -> list[str]:
    if kind == "sqlite":
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    else:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
    return [row[0] for row in cursor.fetchall()]


def _one(cursor: Any, sql: str) -> Any:
    cursor.execute(sql)
    return cursor.fetchone()


def snapshot_facts(cursor: Any, kind: str) -> dict[str, Any]:
    """Row counts per table, the audit chain's head and the node's identity, read through ``cursor`` (a DB-API
    cursor on the copy, or inside the dump's snapshot)."""
    tables = _table_names(cursor, kind)
    # Every f-string below names a table the database itself listed, or a model's own table, quoted.
    counts = {name: int(_one(cursor, f"SELECT COUNT(*) FROM {_quote(name)}")[0]) for name in tables}  # noqa: S608
    facts: dict[str, Any] = {"tables": counts, "audit": {"entries": 0, "head_seq": 0, "head_hash": audit.GENESIS,
                                                         "unsealed": 0}, "node": None, "attachments": {}}
    audit_table = AuditEntry._meta.db_table
    if audit_table in counts:
        # Entries written while the dump ran may not be sealed yet: they travel as they are, and the restored node's
        # worker seals them after its head.
        table = _quote(audit_table)
        head = _one(cursor, f"SELECT seq, hash FROM {table} WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1")  # noqa: S608
        unsealed = int(_one(cursor, f"SELECT COUNT(*) FROM {table} WHERE seq IS NULL")[0])  # noqa: S608
        facts["audit"] = {"entries": counts[audit_table], "head_seq": int(head[0]) if head else 0,
                          "head_hash": str(head[1]) if head else audit.GENESIS, "unsealed": unsealed}
    node_table, key_table = NodeIdentity._meta.db_table, NodeKey._meta.db_table
    if node_table in counts and key_table in counts:
        node = _one(cursor, f"SELECT id, stix_id, name FROM {_quote(node_table)} WHERE singleton = 1")  # noqa: S608
        if node:
            where = f"node_id = {int(node[0])} AND retired_at IS NULL"
            active = _one(cursor, f"SELECT key_id FROM {_quote(key_table)} WHERE {where}")  # noqa: S608
            facts["node"] = {"id": str(node[1]), "name": str(node[2]), "key_id": str(active[0]) if active else ""}
    attachment_table = Attachment._meta.db_table
    if attachment_table in counts:
        cursor.execute(f"SELECT stored_name, sha256 FROM {_quote(attachment_table)}")  # noqa: S608
        facts["attachments"] = {str(name): str(digest) for name, digest in cursor.fetchall()}
    return facts


def _pg_env() -> dict[str, str]:
    """libpq's environment for the database Django uses (tests included: their settings name the test database)."""
    conf = connection.settings_dict
    env = {**os.environ, "PGDATABASE": str(conf["NAME"])}
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if conf.get(key):
            env[var] = str(conf[key])
    return env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ServiceError(f"{name} not found: install PostgreSQL's client tools (apt-get install postgresql-client)")
    return path


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line for line in (done.stderr or done.stdout).strip().splitlines() if line.strip()]
        raise ServiceError(f"{Path(args[0]).name} failed: {lines[0] if lines else f'exit status {done.returncode}'}")


def _dump_sqlite(target: Path) -> dict[str, Any]:
    if connection.in_atomic_block:
        raise ServiceError("cannot back up from inside a transaction")
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM INTO %s", [str(target)])
    copy = sqlite3.connect(target)
    try:
        return snapshot_facts(copy.cursor(), "sqlite")
    finally:
        copy.close()


def _dump_postgresql(target: Path) -> dict[str, Any]:
    pg_dump = _tool("pg_dump")
    if connection.in_atomic_block:
        raise ServiceError("cannot back up from inside a transaction")
    connection.ensure_connection()
    was_autocommit = connection.get_autocommit()
    connection.set_autocommit(False)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            snapshot = str(_one(cursor, "SELECT pg_export_snapshot()")[0])
            facts = snapshot_facts(cursor, "postgresql")
            # The snapshot lives as long as this transaction: pg_dump must attach to it before the rollback below.
            _run([pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={target}"], _pg_env())
    finally:
        connection.rollback()
        connection.set_autocommit(was_autocommit)
    return facts


def _copy_file(source: Path, target: Path, mode: int | None = None) -> dict[str, Any]:
    digest, size = hashlib.sha256(), 0
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with source.open("rb") as src, os.fdopen(fd, "wb") as dst:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            dst.write(chunk)
    os.chmod(target, mode if mode is not None else stat.S_IMODE(source.stat().st_mode))
    return {"size": size, "sha256": digest.hexdigest()}


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _walk(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path


def _copy_data(data_dir: Path, into: Path) -> dict[str, dict[str, Any]]:
    files: dict[str, dict[str, Any]] = {}
    for part in DATA_PARTS:
        source = data_dir / part
        if source.is_file():
            files[part] = _copy_file(source, into / part)
        elif source.is_dir():
            (into / part).mkdir(mode=0o700)
            for path in _walk(source):
                rel = path.relative_to(data_dir).as_posix()
                try:
                    files[rel] = _copy_file(path, into / rel)
                except FileNotFoundError:  # removed while we walked (an attachment deleted after the snapshot)
                    continue
    return files


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kizuna")
    except PackageNotFoundError:
        return "unknown"


def _check_dest(dest: Path) -> None:
    if not dest.parent.is_dir():
        raise ServiceError(f"cannot write the backup: directory {dest.parent} does not exist")
    if dest.name.endswith(TAR_SUFFIXES):
        if dest.exists():
            raise ServiceError(f"cannot write the backup: {dest} already exists")
    elif dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ServiceError(f"cannot write the backup: {dest} already exists and is not an empty directory")
    data_dir = Path(settings.DATA_DIR).resolve()
    resolved = dest.resolve()
    if resolved == data_dir or data_dir in resolved.parents:
        raise ServiceError(f"cannot write the backup inside the data directory {data_dir}")


def backup(dest: Path) -> dict[str, Any]:
    """Write a backup of this node to ``dest``: a directory (new or empty), or a tar file when ``dest`` ends in
    .tar, .tar.gz or .tgz. Returns the manifest. Nothing is left at ``dest`` on failure."""
    dest = Path(dest)
    _check_dest(dest)
    kind = _kind()
    data_dir = Path(settings.DATA_DIR)
    started = timezone.now()
    audit.seal()  # the backup carries the chain up to now (what is written during the dump is sealed on either side)
    if kind == "sqlite":
        # VACUUM INTO refuses to run while a statement of its connection is unfinished ("SQL statements in
        # progress", seen once in the suite right after sealing): the copy starts on a connection of its own.
        connection.close()
    with tempfile.TemporaryDirectory(prefix=".kizuna-backup-", dir=dest.parent) as tmp:
        work = Path(tmp) / "backup"
        work.mkdir(mode=0o700)
        db_file = work / DB_FILES[kind]
        facts = _dump_sqlite(db_file) if kind == "sqlite" else _dump_postgresql(db_file)
        os.chmod(db_file, 0o600)
        files = _copy_data(data_dir, work)
        node = facts["node"]
        if node and node["key_id"] and f"keys/{node['key_id']}.pem" not in files:
            raise ServiceError(f"the private key of the node's active key {node['key_id']} is not in {data_dir / 'keys'}"
                               " (was the key rotated during the backup? run it again)")
        missing = sorted(name for name in facts["attachments"] if f"attachments/{name}" not in files)
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "kizuna_version": _version(),
            "started_at": started.isoformat(),
            "finished_at": timezone.now().isoformat(),
            "node": node,
            "database": {"kind": kind, "file": DB_FILES[kind], "sha256": _file_hash(db_file),
                         "size": db_file.stat().st_size},
            "tables": facts["tables"],
            "audit": facts["audit"],
            "attachments": {"count": len(facts["attachments"]), "missing": missing},
            "contents": [DB_FILES[kind], *(part for part in DATA_PARTS if (work / part).exists())],
            "files": files,
        }
        # The manifest last: a backup with one is complete.
        fd = os.open(work / MANIFEST, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, indent=2, sort_keys=True)
        if dest.name.endswith(TAR_SUFFIXES):
            partial = Path(tmp) / "backup.tar"
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz" if dest.suffix != ".tar" else "w") as tar:
                tar.add(work, arcname=".")
            os.replace(partial, dest)
        else:
            if dest.exists():
                dest.rmdir()
            os.replace(work, dest)
    return manifest


# --- restore ------------------------------------------------------------------------------------------------------


@contextmanager
def _opened(src: Path) -> Iterator[Path]:
    """The backup's directory: ``src`` itself, or ``src`` (a tar file) extracted to a private temporary directory."""
    if not src.exists():
        raise ServiceError(f"no backup at {src}")
    if src.is_dir():
        yield src
        return
    if not tarfile.is_tarfile(src):
        raise ServiceError(f"{src} is not a Kizuna backup (neither a directory nor a tar file)")
    with tempfile.TemporaryDirectory(prefix=".kizuna-restore-", dir=Path(settings.DATA_DIR)) as tmp, tarfile.open(src) as tar:
        tar.extractall(tmp, filter="data")
        yield Path(tmp)


def read_manifest(root: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ServiceError(f"{root} is not a Kizuna backup (no {MANIFEST}; an unfinished backup has none)") from None
    except ValueError:
        raise ServiceError(f"{root / MANIFEST} is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ServiceError(f"{root} is not a Kizuna backup ({MANIFEST} is not a Kizuna manifest)")
    if manifest.get("version") != VERSION:
        raise ServiceError(f"backup format version {manifest.get('version')} is not supported (this Kizuna reads {VERSION})")
    return manifest


def _check_backup_files(root: Path, manifest: dict[str, Any]) -> None:
    """Every file of the backup is there and unchanged, before anything of the node is touched."""
    db = manifest["database"]
    if not (root / db["file"]).is_file() or _file_hash(root / db["file"]) != db["sha256"]:
        raise ServiceError(f"the backup's database file {db['file']} is missing or damaged (its hash differs)")
    for rel, meta in manifest["files"].items():
        path = root / rel
        if not path.is_file() or _file_hash(path) != meta["sha256"]:
            raise ServiceError(f"the backup's file {rel} is missing or damaged (its hash differs)")


def node_has_data() -> str:
    """Why this node is not fresh ("" if it is): users, audit entries, an identity, keys or attachments."""
    data_dir = Path(settings.DATA_DIR)
    for part in ("keys", "attachments"):
        if (data_dir / part).is_dir() and any(_walk(data_dir / part)):
            return f"{data_dir / part} holds files"
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
    for model, what in ((get_user_model(), "users"), (AuditEntry, "audit entries"), (NodeIdentity, "an identity")):
        if model._meta.db_table in tables and model.objects.exists():
            return f"its database holds {what}"
    return ""


def _restore_sqlite(db_file: Path) -> None:
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or "mode=memory" in name:
        raise ServiceError("cannot restore into an in-memory database")
    connections.close_all()
    source = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    target = sqlite3.connect(name, timeout=20)
    try:
        # Page by page through SQLite, into the node's own file: its WAL (if any) stays consistent with it.
        source.backup(target)
    finally:
        target.close()
        source.close()


def _restore_postgresql(db_file: Path) -> None:
    pg_restore = _tool("pg_restore")
    with connection.cursor() as cursor:
        has_tables = bool(_table_names(cursor, "postgresql"))
    connections.close_all()
    args = [pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    if has_tables:  # a migrated (or forced) node: replace its tables rather than fail on "already exists"
        args += ["--clean", "--if-exists"]
    _run([*args, f"--dbname={connection.settings_dict['NAME']}", str(db_file)], _pg_env())


def _restore_files(root: Path, manifest: dict[str, Any]) -> None:
    data_dir = Path(settings.DATA_DIR)
    for part in DATA_PARTS:
        if part in manifest["contents"] and (root / part).is_dir():
            (data_dir / part).mkdir(mode=0o700, exist_ok=True)
    if (data_dir / "keys").is_dir():
        os.chmod(data_dir / "keys", keys.DIR_MODE)  # keys_dir() refuses a key directory others may enter
    for rel in manifest["files"]:
        target = data_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        mode = stat.S_IMODE((root / rel).stat().st_mode)
        if target.exists():
            target.unlink()
        _copy_file(root / rel, target, mode)


@dataclass
class Verification:
    problems: list[str] = field(default_factory=list)
    tables: int = 0
    rows: int = 0
    audit_entries: int = 0
    attachments: int = 0
    key_id: str = ""


def verify(manifest: dict[str, Any]) -> Verification:
    """Compare this node with the manifest it was restored from."""
    result = Verification()
    with connection.cursor() as cursor:
        facts = snapshot_facts(cursor, connection.vendor)
    for table, expected in sorted(manifest["tables"].items()):
        found = facts["tables"].get(table)
        if found != expected:
            result.problems.append(f"table {table}: {found if found is not None else 'missing'}, expected {expected} rows")
    result.tables, result.rows = len(manifest["tables"]), sum(manifest["tables"].values())
    result.problems += [f"audit entry #{p.seq}: {p.reason}" for p in audit.verify()]
    head = manifest["audit"]
    if {key: facts["audit"].get(key) for key in head} != head:  # a manifest older than "unsealed" lacks it
        result.problems.append(f"audit head is {facts['audit']['head_seq']}:{facts['audit']['head_hash'][:16]},"
                               f" expected {head['head_seq']}:{head['head_hash'][:16]}")
    result.audit_entries = facts["audit"]["entries"]
    folder = Path(settings.MEDIA_ROOT)
    for name, digest in sorted(facts["attachments"].items()):
        path = folder / name
        if not path.is_file():
            result.problems.append(f"attachment {name}: file missing")
        elif _file_hash(path) != digest:
            result.problems.append(f"attachment {name}: hash differs from the database's")
    result.attachments = len(facts["attachments"])
    expected_node, node = manifest["node"], facts["node"]
    if node != expected_node:
        result.problems.append(f"node identity is {node}, expected {expected_node}")
    elif node and node["key_id"]:
        try:
            keys.load_private(node["key_id"])
            result.key_id = node["key_id"]
        except ServiceError as exc:
            result.problems.append(str(exc))
    return result


def restore(src: Path, force: bool = False) -> tuple[dict[str, Any], Verification]:
    """Restore the backup at ``src`` into this node, then verify it. Refuses a node that has data unless ``force``."""
    src = Path(src)
    with _opened(src) as root:
        manifest = read_manifest(root)
        kind, here = manifest["database"]["kind"], connection.vendor
        if kind != here:
            raise ServiceError(f"{src} is a backup of a {KIND_NAMES.get(kind, kind)} node; this node's database is"
                               f" {KIND_NAMES.get(here, here)} (set DATABASE_URL to match)")
        _check_backup_files(root, manifest)
        if not force and (reason := node_has_data()):
            raise ServiceError(f"this node is not empty ({reason}); restore into a fresh node, or pass --force to"
                               " overwrite it")
        db_file = root / manifest["database"]["file"]
        if kind == "sqlite":
            _restore_sqlite(db_file)
        else:
            _restore_postgresql(db_file)
        _restore_files(root, manifest)
    return manifest, verify(manifest)
