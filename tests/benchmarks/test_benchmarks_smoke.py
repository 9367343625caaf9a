"""Every benchmark in benchmarks/ runs here at a tiny size, so none of them rots (docs/performance.md, "How
benchmarks are kept working"). Each runs as the benchmark it is: ``python benchmarks/<name>.py`` in a subprocess,
with its own scratch folder under the test's tmp_path and never the suite's database. The test asserts that it
exits 0 and prints each of its figure lines, by their labels; the figures themselves are never checked (timed at
this size, on a shared machine, they mean nothing).

Each benchmark runs once per run of the suite, on that run's database: on the SQLite run on SQLite files of its own;
on the PostgreSQL run (KIZUNA_TEST_DB=postgres), each benchmark with a PostgreSQL path (``--database-url``, or
DATABASE_URL for consultations and stix_export) on the test PostgreSQL server, in databases of its own named after the
run's database, the xdist worker, the process and the benchmark, dropped afterwards. reports.py is SQLite only: it
runs on SQLite in both runs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"
# Variables of the test run that must not reach a benchmark: it chooses its own database and node.
HIDDEN = ("DATABASE_URL", "KIZUNA_TEST_DB", "KIZUNA_TEST_FILE_DB", "KIZUNA_DEV", "KIZUNA_NODE_NAME",
          "KIZUNA_NODE_NATION", "KIZUNA_SECRET_KEY", "DJANGO_SETTINGS_MODULE")


def on_postgres() -> bool:
    return os.environ.get("KIZUNA_TEST_DB") == "postgres"


def run_benchmark(script: str, *args: str, tmp: Path, env: dict[str, str] | None = None,
                  timeout: float = 600) -> list[str]:
    """``python benchmarks/<script>.py ARGS`` with a scratch folder of its own (KIZUNA_DATA_DIR and TMPDIR under
    ``tmp``); fails the test with the end of its output unless it exits 0. Returns its output lines."""
    scratch = tmp / "scratch"
    scratch.mkdir(exist_ok=True)
    full_env = {k: v for k, v in os.environ.items() if k not in HIDDEN}
    full_env.update(KIZUNA_DATA_DIR=str(tmp / "data"), TMPDIR=str(scratch), KIZUNA_LOG_LEVEL="WARNING",
                    PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
    full_env.update(env or {})
    done = subprocess.run([sys.executable, str(BENCHMARKS / f"{script}.py"), *args], cwd=tmp, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (f"benchmarks/{script}.py exited {done.returncode}:\n{done.stdout[-3000:]}\n"
                                  f"{done.stderr[-3000:]}")
    return done.stdout.splitlines()


def assert_figures(lines: list[str], *labels: str) -> None:
    """Each label begins a printed line (leading spaces aside)."""
    stripped = [line.strip() for line in lines]
    missing = [label for label in labels if not any(line.startswith(label) for line in stripped)]
    assert not missing, f"figure lines missing: {missing}\noutput:\n" + "\n".join(lines)


# --- PostgreSQL databases of the smoke tests ------------------------------------------------------------------------

def _server() -> str:
    return os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test").rpartition("/")[0]


def _admin(*statements: str) -> None:
    import psycopg

    with psycopg.connect(f"{_server()}/postgres", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


@contextmanager
def postgres_database(benchmark: str, *, create: bool = False) -> Iterator[str]:
    """The URL of a PostgreSQL database of this benchmark's run alone, on the test server: named after the run's
    database, the xdist worker, the process and the benchmark. The benchmark creates it (and ``<name>_a``/``_b``)
    unless ``create``; every one of them is dropped afterwards."""
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test").rpartition("/")[2][:16]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"{base}_bench_{worker}_{os.getpid()}_{benchmark[:12]}".lower()
    assert len(name) <= 61, name
    drop = [f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in (name, f"{name}_a", f"{name}_b")]
    _admin(*drop, *([f'CREATE DATABASE "{name}"'] if create else []))
    try:
        yield f"{_server()}/{name}"
    finally:
        _admin(*drop)


# --- the benchmarks -------------------------------------------------------------------------------------------------

def test_reports(tmp_path: Path) -> None:
    """SQLite only (its baseline is the sqlite3 module on the same file), on both runs of the suite."""
    lines = run_benchmark("reports", "--reports", "500", "--users", "20", "--labels", "20", "--requests", "2",
                          "--target", "0.2", "--data-dir", str(tmp_path / "bench"), tmp=tmp_path)
    assert_figures(lines, "measured user ", "bare SQL: first page (sqlite3)", "API  GET /api/v1/reports (first page)",
                   "web  GET /reports/ (first page)", "API  GET /api/v1/reports/", "web  GET /reports/", "max RSS:")


def test_consultations(tmp_path: Path) -> None:
    args = ("--meetings", "200", "--actions", "1000", "--requests", "2", "--data-dir", str(tmp_path / "bench"))
    if on_postgres():
        with postgres_database("consultations", create=True) as url:  # the benchmark expects its database to exist
            lines = run_benchmark("consultations", *args, tmp=tmp_path, env={"DATABASE_URL": url})
    else:
        lines = run_benchmark("consultations", *args, tmp=tmp_path)
    assert_figures(lines, "postgresql: " if on_postgres() else "sqlite: ", "bare SQL: six-week calendar range",
                   "bare SQL: open actions, first page keys", "queries.calendar_range (six weeks)",
                   "queries.my_actions (open, first page)", "queries.my_actions (all, third page)",
                   "notifications: unread count", "notifications: inbox of",
                   "web  GET /consultations/?view=month", "web  GET /consultations/actions/",
                   "API  GET /api/v1/consultations/meetings", "API  GET /api/v1/consultations/actions",
                   "scheduler: 4 weeks, 8 nations")
    assert not [line for line in lines if line.startswith("not measured")], lines


def test_federation_sync(tmp_path: Path) -> None:
    args = ("--objects", "50", "--workers", "1")
    if on_postgres():
        with postgres_database("sync") as url:
            lines = run_benchmark("federation_sync", *args, "--database-url", url, tmp=tmp_path)
    else:
        lines = run_benchmark("federation_sync", *args, tmp=tmp_path)
    vendor = "postgresql" if on_postgres() else "sqlite"
    assert any(f"on node A ({vendor})" in line for line in lines), lines
    assert_figures(lines, "machine: ", "sync (B pulls from A: HTTP, verify, labels, store)",
                   "the same, counting the start-up of the command", "CPU: the sync command and its worker processes",
                   "second sync, nothing new (all unchanged)", "ceiling: fetch and parse the same pages, no processing",
                   "ceiling: verify every signature, two threads, nothing else", "B holds ")


def test_stix_export(tmp_path: Path) -> None:
    args = ("--objects", "200", "--relationships", "20", "--repeat", "1")
    if on_postgres():
        with postgres_database("export") as url:  # the benchmark drops and creates the database of DATABASE_URL
            lines = run_benchmark("stix_export", *args, tmp=tmp_path, env={"DATABASE_URL": url})
    else:
        lines = run_benchmark("stix_export", *args, tmp=tmp_path)
    assert_figures(lines, "database: postgresql;" if on_postgres() else "database: sqlite;", "bare SELECT data:",
                   "export (write_bundle):", "export with 20 relationships:")


def test_stix_import(tmp_path: Path) -> None:
    args = ("--objects", "200", "--sample", "20", "--data-dir", str(tmp_path / "bench"))
    if on_postgres():
        with postgres_database("import") as url:
            lines = run_benchmark("stix_import", *args, "--database-url", url, tmp=tmp_path)
        ceilings = ("plain psycopg COPY of the objects:", "plain sqlite3 executemany (target):")
    else:
        lines = run_benchmark("stix_import", *args, tmp=tmp_path)
        ceilings = ("plain sqlite3 executemany of the objects:",)
    assert_figures(lines, "machine: ", "bundle: 200 indicators", "import (end to end, validation on):", *ceilings,
                   "the same, rows prepared beforehand:", "naive stix2.parse per object:",
                   "second import (all unchanged):", "peak RSS of the process:")


def test_taxii_serve(tmp_path: Path) -> None:
    args = ("--objects", "100", "--repeat", "1", "--workers", "1", "--medallion", "20", "--medallion-page", "10")
    if on_postgres():
        with postgres_database("taxii") as url:
            lines = run_benchmark("taxii_serve", *args, "--database-url", url, tmp=tmp_path)
        variants: tuple[str, ...] = ("100 objects (postgresql)",)
    else:
        lines = run_benchmark("taxii_serve", *args, tmp=tmp_path)
        variants = ("100 objects (sqlite)", "same, persistent SQLite connections, client parses",
                    "same, persistent SQLite connections, client reads")
    assert_figures(lines, "machine: ", *variants, "kizuna serve (1 worker), client parses",
                   "kizuna serve (1 worker), client reads", "plain sqlite3 keyset + JSON join, texts joined",
                   "plain sqlite3 keyset + JSON join, json.loads/dumps",
                   "medallion 3 (memory backend), 20 objects in pages of 10:")


def test_rows_name_a_not_null_column_without_default() -> None:
    """benchmarks/_rows.py: a column the benchmark does not give takes its default; a NOT NULL one without a default
    stops the build with its name (in-process, no database)."""
    from benchmarks._rows import model_insert
    from kizuna.reports.models import Report

    try:
        model_insert(Report, ("title", "label_id", "originator_id", "created_at", "updated_at"))
    except SystemExit as stop:
        assert "author_id" in str(stop) and "reports_report" in str(stop), stop
    else:
        raise AssertionError("a NOT NULL column without a default went unnoticed")
    sql, make_row = model_insert(Report, ("title",), {"label_id": 1, "originator_id": 2, "author_id": 3,
                                                     "created_at": None, "updated_at": None})
    row = make_row("T")
    assert sql.startswith("INSERT INTO reports_report (") and sql.count("%s") == len(row)
    assert "T" in row and "" in row  # the title given, withdrawal_reason (and the other texts) at their default
    assert make_row("T") != make_row("T")  # a callable default (the uuid) is called per row


def test_labels(tmp_path: Path) -> None:
    args = ("--labels", "200", "--reports", "300", "--objects", "300", "--requests", "2",
            "--data-dir", str(tmp_path / "bench"))
    if on_postgres():
        with postgres_database("labels") as url:
            lines = run_benchmark("labels", *args, tmp=tmp_path, env={"DATABASE_URL": url})
    else:
        lines = run_benchmark("labels", *args, tmp=tmp_path)
    assert_figures(lines, "machine: ", "30 labels (baseline): ", "200 labels: ", "API GET /api/v1/reports (first page)",
                   "API GET /api/v1/stix/objects (first page)", "bare SQL, decision in SQL (visible_q)",
                   "bare SQL, materialised per-subject set")


def test_audit_share(tmp_path: Path) -> None:
    args = ("--writers", "2", "--seconds", "0.5", "--data-dir", str(tmp_path / "bench"))
    if on_postgres():
        with postgres_database("audit") as url:
            lines = run_benchmark("audit_share", *args, tmp=tmp_path, env={"DATABASE_URL": url})
    else:
        lines = run_benchmark("audit_share", *args, tmp=tmp_path)
    assert_figures(lines, "machine: ", "as shipped", "chained inline (before)", "audit append skipped",
                   "throughput cost of the audit log, as shipped:", "sealing what was left:",
                   "audit chain: verified")


def test_bench_load(tmp_path: Path) -> None:
    args = ("--seconds", "1", "--writers", "2", "--readers", "2", "--import-mb", "0.5",
            "--data-dir", str(tmp_path / "bench"))
    if on_postgres():
        with postgres_database("load") as url:
            lines = run_benchmark("bench_load", *args, "--database-url", url, tmp=tmp_path)
    else:
        lines = run_benchmark("bench_load", *args, tmp=tmp_path)
    assert any(f"node: {'postgresql' if on_postgres() else 'sqlite'};" in line for line in lines), lines
    assert_figures(lines, "machine: ", "bundle: ", "clients alone (baseline)", "the same clients beside the import",
                   "write: POST /api/v1/reports", "read: GET /api/v1/reports", "read: GET /api/v1/stix/objects",
                   "import beside the clients:", "interactive p95, worst kind:", "errors beside the import: 0")


def test_bench_jobs(tmp_path: Path) -> None:
    args = ("--jobs", "40", "--paced", "5")
    if on_postgres():
        with postgres_database("jobs", create=True) as url:
            lines = run_benchmark("bench_jobs", *args, "--database-url", url, tmp=tmp_path)
    else:
        lines = run_benchmark("bench_jobs", *args, tmp=tmp_path)
    vendor = "postgresql" if on_postgres() else "sqlite"
    assert any(f"queue on {vendor}" in line for line in lines), lines
    assert_figures(lines, "machine: ", "enqueue, one transaction per job", "baseline: the no-op called inline",
                   "enqueue to start, 1 idle worker", "throughput, 1 worker(s)", "throughput, 2 worker(s)",
                   "crash and resume: SIGKILL halfway")


def test_threat_search(tmp_path: Path) -> None:
    args = ("--objects", "400", "--queries", "3", "--data-dir", str(tmp_path / "bench"))
    if on_postgres():
        with postgres_database("search") as url:
            lines = run_benchmark("threat_search", *args, "--database-url", url, tmp=tmp_path)
    else:
        lines = run_benchmark("threat_search", *args, tmp=tmp_path)
    assert_figures(lines, "machine: ", "built 400 objects through the store (40 visible to bench-bel)", "substring",
                   "domain suffix", "CIDR", "hash")


def test_search(tmp_path: Path) -> None:
    args = ("--records", "400", "--queries", "2", "--data-dir", str(tmp_path / "bench"))
    if on_postgres():
        with postgres_database("find") as url:
            lines = run_benchmark("search", *args, "--database-url", url, tmp=tmp_path)
    else:
        lines = run_benchmark("search", *args, tmp=tmp_path)
    assert_figures(lines, "built 400 reports (40 visible to bench-bel)", "bulk import:",
                   "English word: find", "Japanese word: find", "Korean word: find", "rare title word: find")


def test_search_suggest(tmp_path: Path) -> None:
    args = ("--terms", "320", "--reports", "8", "--queries", "2", "--data-dir", str(tmp_path / "bench"))
    if on_postgres():
        with postgres_database("suggest") as url:
            lines = run_benchmark("search_suggest", *args, "--database-url", url, tmp=tmp_path)
    else:
        lines = run_benchmark("search_suggest", *args, tmp=tmp_path)
    assert_figures(lines, "built 320 terms", "vocabulary (read and build)", "candidates (compare",
                   "find, misspelt", "find, corrected")


def test_cjk_tokenizers(tmp_path: Path) -> None:
    """sqlite3 only (no node, no database of the run), on both runs of the suite. The analysers (sudachipy, fugashi,
    kiwipiepy) are not in the project's venv: the benchmark says so and measures the trigram side alone."""
    lines = run_benchmark("cjk_tokenizers", "--records", "200", "--repeat", "1", "--data-dir", str(tmp_path / "bench"),
                          tmp=tmp_path)
    assert_figures(lines, "machine: ", "corpus: 200 records", "build trigram:", "build bigram:", "ja queries: trigram",
                   "ko queries: trigram", "en queries: trigram", "fr queries: trigram", "防衛 (ja, 2 chars",
                   "방어 (ko, 2 chars", "ja recall/precision: trigram", "ko recall/precision: trigram",
                   "two-character words: trigram", "two-character words, time")
    if not any(line.startswith("analyser kiwipiepy:") for line in lines):
        assert any(line.startswith("analyser missing: kiwipiepy") for line in lines), lines
