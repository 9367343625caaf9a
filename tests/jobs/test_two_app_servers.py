"""Beyond one machine, as far as one machine goes (issue 12): two app servers (``kizuna serve``, stateless) and two
workers (``kizuna worker``) on one PostgreSQL database, as docs/operations.md describes the topology. Clients write
reports through both servers at once and post large bundles (imported in the background) to each; every import job
runs exactly once, every write is stored once, and the audit chain is continuous and verifies.

PostgreSQL only: SQLite is one file on one machine, so several app servers on one SQLite database are not a topology
Kizuna offers."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.federation.nodes import on_postgres
from tests.jobs.nodes import LABEL, SETUP_USER, QueueNode, database_name, until, write_bundle

pytestmark = pytest.mark.skipif(not on_postgres(), reason="several app servers share a PostgreSQL database only")

WRITERS = 6
REPORTS_EACH = 8
BUNDLE_OBJECTS = 6000  # over the 1 MiB the API imports at once: answered 202 and left to the workers
IMPORTS = "task_path = 'kizuna.threats.services.import_file'"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def node(tmp_path: Path) -> Iterator[QueueNode]:
    n = QueueNode(tmp_path / "node", database_name("twoapps"))
    servers: list[subprocess.Popen[bytes]] = []
    n.servers = servers  # type: ignore[attr-defined]
    try:
        yield n
    finally:
        for server in servers:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
        n.stop_all()


def _serve(node: QueueNode, port: int) -> str:
    log = (node.data_dir / f"serve-{port}.log").open("ab")
    env = dict(node.env, KIZUNA_COOKIE_SECURE="0", KIZUNA_ALLOWED_HOSTS="127.0.0.1")
    process = subprocess.Popen([sys.executable, "-m", "kizuna", "serve", "--bind", f"127.0.0.1:{port}",
                                "--workers", "1", "--threads", "8"], env=env, stdout=log, stderr=subprocess.STDOUT,
                               cwd=node.data_dir)
    node.servers.append(process)  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"kizuna serve exited {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    until(ready, 60, f"the server on {port}")
    return url


def _request(url: str, secret: str, body: bytes, content_type: str) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Authorization": f"Bearer {secret}", "Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()[:300]


def test_two_app_servers_and_two_workers_on_one_database(node: QueueNode, tmp_path: Path) -> None:
    secret = node.django(SETUP_USER + """
from kizuna.directory.models import User
from kizuna.directory.services import create_token
print(create_token(User.objects.get(username="hanako"))[1])
""").strip().splitlines()[-1]
    servers = [_serve(node, _free_port()), _serve(node, _free_port())]
    node.worker(name="a")
    node.worker(name="b")

    bundles = []
    for n in range(2):
        path = tmp_path / f"bundle-{n}.json"
        write_bundle(path, BUNDLE_OBJECTS, prefix=f"198.{51 + n}")
        bundles.append(path.read_bytes())
        assert len(bundles[-1]) > 1024 * 1024
    label = urllib.parse.quote(json.dumps(LABEL))
    answers: list[tuple[str, int, Any]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(WRITERS + 2)

    def write_reports(writer: int) -> None:
        barrier.wait()
        for i in range(REPORTS_EACH):
            base = servers[(writer + i) % 2]
            body = json.dumps({"title": f"Report {writer}-{i}", "label": LABEL}).encode()
            status, answer = _request(f"{base}/api/v1/reports", secret, body, "application/json")
            with lock:
                answers.append(("report", status, answer))

    def post_bundle(n: int) -> None:
        barrier.wait()
        status, answer = _request(f"{servers[n]}/api/v1/stix/bundles?label={label}", secret, bundles[n],
                                  "application/stix+json")
        with lock:
            answers.append(("bundle", status, answer))

    threads = [threading.Thread(target=write_reports, args=(w,)) for w in range(WRITERS)]
    threads += [threading.Thread(target=post_bundle, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    bad = [(kind, status, answer) for kind, status, answer in answers
           if (kind, status) not in (("report", 201), ("bundle", 202))]
    assert not bad, bad[:3]
    assert len(answers) == WRITERS * REPORTS_EACH + 2

    until(lambda: node.one(f"SELECT COUNT(*) FROM django_tasks_database_dbtaskresult WHERE {IMPORTS} "
                           "AND status = 'SUCCESSFUL'") == 2, 240, "both imports done", node, step=0.2)
    assert node.one(f"SELECT COUNT(*) FROM django_tasks_database_dbtaskresult WHERE {IMPORTS}") == 2
    assert node.sql("SELECT status, accepted FROM threats_importjob ORDER BY id") == [("done", BUNDLE_OBJECTS)] * 2
    twice = node.sql("SELECT stix_id, COUNT(*) FROM threats_stixobject GROUP BY stix_id HAVING COUNT(*) > 1")
    assert twice == []
    assert node.one("SELECT COUNT(*) FROM reports_report") == WRITERS * REPORTS_EACH

    # The workers seal the entries both servers wrote (a periodic job every few seconds, one sealer at a time).
    until(lambda: node.one("SELECT COUNT(*) FROM core_auditentry WHERE seq IS NULL") == 0, 60,
          "every audit entry sealed by a worker", node, step=0.2)
    count, first, last = node.sql("SELECT COUNT(*), MIN(seq), MAX(seq) FROM core_auditentry")[0]
    assert (first, last) == (1, count), "the audit chain has no gap"
    verified = node.cli("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
