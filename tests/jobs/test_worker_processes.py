"""``kizuna worker`` as real processes on one node (SQLite file or PostgreSQL, as the run chooses): a worker killed
with SIGKILL mid-import leaves the job to another, which finishes it once; SIGTERM stops a busy worker within 5 s and
gives its job back; two workers run 200 jobs each exactly once; periodic signing with two workers signs each row
once. On the code before the queue there is no ``kizuna worker`` (imports were threads of the web process, lost with
it), so every test here fails there."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.jobs.nodes import LABEL, SETUP_USER, QueueNode, database_name, until, write_bundle

# Enough for an import of several seconds on this machine: killed or stopped while it runs, not after.
OBJECTS = 150_000
IMPORTS = "task_path = 'kizuna.threats.services.import_file'"


@pytest.fixture
def node(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[QueueNode]:
    n = QueueNode(tmp_path / "node", database_name(request.node.name[5:25]), KIZUNA_JOB_LEASE_SECONDS="3",
                  KIZUNA_JOB_EVERY_FEDERATION_SIGN="0.2")
    try:
        yield n
    finally:
        n.stop_all()


def _enqueue_import(node: QueueNode, path: Path) -> int:
    return int(node.django(SETUP_USER + f"""
from pathlib import Path
from kizuna.directory.models import User
from kizuna.labels import Label
from kizuna.threats.services import start_import_job
job = start_import_job(User.objects.get(username="hanako"), Path({str(path)!r}), "big.json", Label.from_api({LABEL!r}),
                       remove_when_done=True)
print(job.pk)
""").strip().splitlines()[-1])


def _job(node: QueueNode, job: int) -> tuple[str, int, int]:
    status, accepted, attempts = node.sql(f"SELECT status, accepted, attempts FROM threats_importjob WHERE id = {job}")[0]
    return str(status), int(accepted), int(attempts)


def _job_ended(node: QueueNode) -> bool:
    """The queue's job has ended (after the ImportJob's status is set comes the removal of the upload)."""
    return not node.one(f"SELECT COUNT(*) FROM django_tasks_database_dbtaskresult WHERE {IMPORTS} AND status IN "
                        "('READY', 'RUNNING')")


def _stored_once(node: QueueNode, ids: list[str]) -> None:
    twice = node.sql("SELECT stix_id, COUNT(*) FROM threats_stixobject GROUP BY stix_id HAVING COUNT(*) > 1")
    assert twice == [], f"objects stored twice: {twice[:5]}"
    stored = node.one("SELECT COUNT(*) FROM threats_stixobject WHERE stix_id LIKE 'indicator--%'")
    assert stored == len(ids)


def _upload(node: QueueNode) -> tuple[Path, list[str]]:
    folder = node.data_dir / "imports"
    folder.mkdir(exist_ok=True)
    path = folder / "upload.json"
    return path, write_bundle(path, OBJECTS)


def test_a_worker_killed_mid_import_leaves_it_to_another_that_finishes_it_once(node: QueueNode) -> None:
    path, ids = _upload(node)
    job = _enqueue_import(node, path)
    first = node.worker(name="first")
    until(lambda: _job(node, job)[1] > 0, 180, "the import's first stored batch", node)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    status, accepted, _ = _job(node, job)
    assert status == "running" and accepted < OBJECTS, "the worker was killed after the import, not during it"

    node.worker(name="second")  # the lease (3 s here) expires, the second worker takes the job again and resumes it
    until(lambda: _job_ended(node), 300, "the resumed import to end", node)
    status, _, attempts = _job(node, job)
    assert status == "done" and attempts == 2
    assert not path.exists(), "the upload is removed when the job ends, also after a crash and a resume"
    _stored_once(node, ids)
    assert node.sql(f"SELECT status FROM django_tasks_database_dbtaskresult WHERE {IMPORTS}") == [("SUCCESSFUL",)]
    assert node.sql(f"SELECT * FROM jobs_lease WHERE task_id IN (SELECT id FROM django_tasks_database_dbtaskresult "
                    f"WHERE {IMPORTS})") == []


def test_sigterm_stops_a_busy_worker_within_5_seconds_and_its_import_is_resumed(node: QueueNode) -> None:
    path, ids = _upload(node)
    job = _enqueue_import(node, path)
    busy = node.worker(name="busy")
    until(lambda: _job(node, job)[1] > 0, 180, "the import's first stored batch", node)
    started = time.monotonic()
    busy.send_signal(signal.SIGTERM)
    busy.wait(15)
    stopped_in = time.monotonic() - started
    assert stopped_in < 5.0, f"stopped in {stopped_in:.1f} s\n{node.log()}"
    status, accepted, _ = _job(node, job)
    assert status == "queued" and accepted < OBJECTS, "the job was given back (queued again), mid-import"
    assert node.sql(f"SELECT status FROM django_tasks_database_dbtaskresult WHERE {IMPORTS}") == [("READY",)]
    assert node.sql(f"SELECT * FROM jobs_lease WHERE task_id IN (SELECT id FROM django_tasks_database_dbtaskresult "
                    f"WHERE {IMPORTS})") == []  # released at once: no lease to wait for
    assert path.exists()  # kept for the resume

    node.worker(name="next")
    until(lambda: _job_ended(node), 300, "the resumed import to end", node)
    assert _job(node, job)[0] == "done"
    assert not path.exists()
    _stored_once(node, ids)


def test_two_workers_run_200_jobs_each_exactly_once(node: QueueNode, tmp_path: Path) -> None:
    runs = tmp_path / "runs.txt"
    node.django(f"from tests.jobs.tasks import record\nfor n in range(200): record.enqueue(n, {str(runs)!r}, 0.01)")
    node.worker("--no-periodic", name="a")
    node.worker("--no-periodic", name="b")
    until(lambda: node.one("SELECT COUNT(*) FROM django_tasks_database_dbtaskresult WHERE status = 'SUCCESSFUL'")
          == 200, 180, "200 jobs done", node, step=0.2)
    lines = [line.split() for line in runs.read_text().splitlines()]
    assert sorted(int(n) for n, _pid in lines) == list(range(200)), "every job ran exactly once"
    assert len({pid for _n, pid in lines}) == 2, "both workers took jobs"


def test_periodic_signing_with_two_workers_signs_each_row_once(node: QueueNode) -> None:
    rows = 6000
    node.django(SETUP_USER + f"""
from kizuna.directory.models import User
from kizuna.labels import Label
from kizuna.threats.services import do_import_objects
T0 = "2026-02-01T00:00:00.000Z"
objects = [{{"type": "indicator", "spec_version": "2.1", "id": f"indicator--00000000-0000-4000-8000-{{n:012d}}",
            "created": T0, "modified": T0, "name": f"Bad {{n}}",
            "pattern": f"[ipv4-addr:value = '10.9.{{n // 256}}.{{n % 256}}']",
            "pattern_type": "stix", "valid_from": T0}} for n in range({rows})]
summary = do_import_objects(User.objects.get(username="hanako"), objects, Label.from_api({LABEL!r}))
assert summary.accepted == {rows}, summary
""")
    pending = "SELECT COUNT(*) FROM threats_stixobject WHERE signature IS NULL"
    assert node.one(pending) >= rows
    node.worker(name="a")
    node.worker(name="b")  # both enqueue the periodic signing pass every 0.2 s; it takes longer than that
    until(lambda: node.one(pending) == 0, 180, "every row signed", node, step=0.2)
    until(lambda: not node.one("SELECT COUNT(*) FROM django_tasks_database_dbtaskresult WHERE task_path LIKE "
                               "'%federation.tasks.sign' AND status IN ('READY', 'RUNNING')"), 60, "the last pass", node)
    time.sleep(1.5)  # passes go on every 0.2 s: they find nothing left to sign
    done = node.sql("SELECT return_value, worker_ids FROM django_tasks_database_dbtaskresult WHERE task_path LIKE "
                    "'%federation.tasks.sign' AND status = 'SUCCESSFUL'")
    signed = [v if isinstance(v, int) else json.loads(v) for v, _ in done]
    assert sum(signed) == node.one("SELECT COUNT(*) FROM threats_stixobject"), f"rows signed more than once: {signed}"
    assert len(done) >= 2 and signed[0] == rows, signed  # several passes ran, one at a time; the first signed all
