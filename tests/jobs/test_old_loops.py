"""The loops of before the queue keep their service units working: ``kizuna sync --loop`` and ``kizuna consultations
remind --loop`` say on stderr that they run ``kizuna worker``, run it (periodic jobs included), and stop on SIGTERM
within 5 s like it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.jobs.nodes import QueueNode, database_name, until


@pytest.fixture
def node(tmp_path: Path) -> Iterator[QueueNode]:
    n = QueueNode(tmp_path / "node", database_name("loops"))
    try:
        yield n
    finally:
        n.stop_all()


@pytest.mark.parametrize("command", [("sync", "--loop"), ("consultations", "remind", "--loop", "--every", "60")],
                         ids=["sync", "remind"])
def test_an_old_loop_runs_the_worker_and_says_so(node: QueueNode, command: tuple[str, ...]) -> None:
    log = node.data_dir / "loop.log"
    with log.open("w") as out:
        loop = subprocess.Popen([sys.executable, "-m", "kizuna", *command], env=node.env, cwd=node.data_dir,
                                stdout=out, stderr=subprocess.STDOUT)
    node.workers.append(loop)  # type: ignore[arg-type]
    until(lambda: "running; periodic jobs" in log.read_text(), 60, "the worker to start", node)
    text = log.read_text()
    said = "kizuna sync --loop" if command[0] == "sync" else "kizuna consultations remind --loop"
    assert f"{said}: runs `kizuna worker`" in text
    assert "federation.sign" in text and "consultations.remind every" in text
    if command[0] == "consultations":
        assert "consultations.remind every 60 s" in text  # --every is this worker's period
    until(lambda: node.one("SELECT COUNT(*) FROM django_tasks_database_dbtaskresult WHERE status = 'SUCCESSFUL' "
                           "AND task_path LIKE '%federation.tasks.sign'"), 30, "a periodic signing pass", node)
    started = time.monotonic()
    loop.send_signal(signal.SIGTERM)
    assert loop.wait(10) == 0
    assert time.monotonic() - started < 5
