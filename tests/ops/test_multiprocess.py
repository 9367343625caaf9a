"""Metrics under gunicorn's several workers: ``kizuna serve`` points PROMETHEUS_MULTIPROC_DIR at a folder of the data
directory, emptied at start, and a scrape adds up the counts every process wrote there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kizuna.web.management.commands import serve
from tests.cli.helpers import kizuna


def _python(code: str, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", "import django; django.setup()\n" + code], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_scrape_adds_up_the_requests_of_every_worker(tmp_path: Path) -> None:
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(shared), "KIZUNA_DATA_DIR": str(tmp_path),
           "DJANGO_SETTINGS_MODULE": "kizuna.settings"}
    worker = "from kizuna.ops import metrics\nfor _ in range({n}): metrics.observe_request('GET', 'ops:healthz', 200, 0.01)"
    _python(worker.format(n=2), env)
    _python(worker.format(n=3), env)
    scrape = ("from prometheus_client import generate_latest\nfrom kizuna.ops import metrics\n"
              "[registry] = metrics._request_collectors()\nprint(generate_latest(registry).decode())")
    text = _python(scrape, env)
    assert 'kizuna_http_requests_total{method="GET",route="ops:healthz",status="200"} 5.0' in text


def test_serve_sets_an_emptied_metrics_folder_under_the_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[dict[str, str]] = []
    monkeypatch.setattr(serve, "_exec", lambda argv, env: calls.append(env))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    (tmp_path / "counter_1234.db").write_bytes(b"stale")
    kizuna("serve", "--bind", "8125")
    [env] = calls
    assert env["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path)
    assert not list(tmp_path.glob("*.db"))


def test_the_default_metrics_folder_is_in_the_data_dir(monkeypatch: pytest.MonkeyPatch, settings: object,
                                                       tmp_path: Path) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    assert serve.metrics_dir({}) == tmp_path / "prometheus"
    assert (tmp_path / "prometheus").is_dir()
