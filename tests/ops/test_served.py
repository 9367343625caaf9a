"""The conventions on a real ``kizuna serve`` (gunicorn, two workers, a migrated node of its own): probes answer,
/metrics adds up the requests every worker served, and with KIZUNA_LOG_FORMAT=json the node's log lines are JSON
carrying the request id the response echoed."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.federation.nodes import Node


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    node = Node("ops", "Ops test node", "JPN", tmp_path)
    node.env["KIZUNA_LOG_FORMAT"] = "json"
    node.cli("migrate", "--noinput", timeout=300)
    log = (node.data_dir / "server.log").open("wb")
    node.server = subprocess.Popen(
        [sys.executable, "-m", "kizuna", "serve", "--bind", f"127.0.0.1:{node.port}", "--workers", "2"],
        env=node.env, stdout=log, stderr=subprocess.STDOUT, cwd=node.data_dir,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{node.url}/healthz", timeout=2) as response:
                    assert response.status == 200
                    break
            except (OSError, urllib.error.URLError):
                if node.server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(node.server_log()[-2000:]) from None
                time.sleep(0.2)
        yield node
    finally:
        node.stop()
        log.close()


def _get(url: str, **headers: str) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def test_probes_metrics_and_json_logs_on_a_running_node(node: Node) -> None:
    assert _get(f"{node.url}/readyz")[0] == 200
    for _ in range(20):
        assert _get(f"{node.url}/healthz")[0] == 200
    status, headers, _ = _get(f"{node.url}/static/no-such-file.css", **{"X-Request-ID": "probe-404-def"})
    assert status == 404 and headers["X-Request-ID"] == "probe-404-def"

    status, headers, text = _get(f"{node.url}/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    # 21 probes before this scrape (the start-up wait's included), served by whichever worker took each.
    line = next(line for line in text.splitlines()
                if line.startswith('kizuna_http_requests_total{method="GET",route="ops:healthz",status="200"}'))
    assert float(line.split()[-1]) >= 21
    assert (node.data_dir / "prometheus").is_dir()

    records = []
    for raw in node.server_log().splitlines():
        try:
            records.append(json.loads(raw))
        except ValueError:
            continue  # gunicorn's own lines and the access log keep their formats
    assert any(record.get("request_id") == "probe-404-def" and record["level"] == "WARNING"
               for record in records), node.server_log()[-3000:]
    # gunicorn's access line of the same request joins it by the id.
    [access] = [record for record in records
                if record["logger"] == "gunicorn.access" and record.get("request_id") == "probe-404-def"]
    assert access["status"] == 404 and access["message"].startswith("GET /static/no-such-file.css")
    # Every line the server wrote is JSON but the one kizuna serve prints before it becomes gunicorn.
    plain = [raw for raw in node.server_log().splitlines() if raw.strip() and not raw.startswith("{")]
    assert all(raw.startswith("Kizuna at ") for raw in plain), plain
