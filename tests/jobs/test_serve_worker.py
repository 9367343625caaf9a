"""``kizuna serve --worker`` (what ``make run`` runs): the web server and a ``kizuna worker`` from one command; Ctrl-C
(SIGINT to the terminal's process group) stops both, and the worker stops by itself when the server is gone."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.jobs.nodes import QueueNode, database_name, until


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) has stopped too.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ", 1)[1][:1] != "Z"


@pytest.fixture
def node(tmp_path: Path) -> Iterator[QueueNode]:
    n = QueueNode(tmp_path / "node", database_name("serve"))
    try:
        yield n
    finally:
        n.stop_all()


def _serve(node: QueueNode) -> tuple[subprocess.Popen[str], int]:
    out = (node.data_dir / "serve.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "kizuna", "serve", "--worker", "--workers", "1",
                               "--bind", f"127.0.0.1:{_free_port()}"], env=node.env, cwd=node.data_dir,
                              stdout=out, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    def started() -> re.Match[str] | None:
        text = (node.data_dir / "serve.log").read_text()
        assert server.poll() is None, f"kizuna serve --worker exited {server.returncode}:\n{text[-2000:]}"
        return re.search(r"kizuna worker \(pid (\d+)\)", text)

    found = until(started, 60, "the worker's pid")
    worker = int(found.group(1))
    until(lambda: "running; periodic jobs" in (node.data_dir / "serve.log").read_text(), 60, "the worker to start")
    return server, worker


def test_ctrl_c_stops_the_server_and_its_worker(node: QueueNode) -> None:
    server, worker = _serve(node)
    assert _alive(worker)
    os.killpg(server.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
    server.wait(30)
    until(lambda: not _alive(worker), 10, "the worker to stop")


def test_the_worker_stops_when_the_server_is_gone(node: QueueNode) -> None:
    server, worker = _serve(node)
    started = time.monotonic()
    server.send_signal(signal.SIGKILL)  # the server alone, killed: no signal reaches the worker
    server.wait(10)
    until(lambda: not _alive(worker), 10, "the worker to notice its server is gone")
    assert time.monotonic() - started < 10
