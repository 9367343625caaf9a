"""``kizuna serve``: gunicorn in production, the development server with DEBUG under --dev."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from kizuna.web.management.commands import serve

from .helpers import kizuna, kizuna_refused


@pytest.fixture
def execs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], dict[str, str]]]:
    calls: list[tuple[list[str], dict[str, str]]] = []
    monkeypatch.setattr(serve, "_exec", lambda argv, env: calls.append((argv, env)))
    return calls


@pytest.mark.parametrize(
    ("given", "address", "url"),
    [
        ("127.0.0.1:8000", "127.0.0.1:8000", "http://127.0.0.1:8000/"),
        ("8080", "127.0.0.1:8080", "http://127.0.0.1:8080/"),
        ("0.0.0.0:80", "0.0.0.0:80", "http://127.0.0.1:80/"),
        ("[::1]:8000", "[::1]:8000", "http://[::1]:8000/"),
        ("localhost:9000", "localhost:9000", "http://localhost:9000/"),
    ],
)
def test_bind_addresses_are_parsed(given: str, address: str, url: str) -> None:
    bind = serve.parse_bind(given)
    assert (bind.address, bind.url) == (address, url)


@pytest.mark.parametrize("given", ["", "host", "host:", "1.2.3.4:0", "1.2.3.4:99999", "::1:80", "[::1]"])
def test_bad_bind_addresses_are_refused(given: str) -> None:
    message, _ = kizuna_refused("serve", "--bind", given)
    assert "--bind" in message


def test_serve_runs_gunicorn_on_the_address_without_debug(
    execs: list[tuple[list[str], dict[str, str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIZUNA_DEV", "1")
    run = kizuna("serve", "--bind", "127.0.0.1:8123", "--workers", "3")
    argv, env = execs[0]
    assert argv[:4] == [sys.executable, "-m", "gunicorn", "kizuna.wsgi:application"]
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:8123"
    assert argv[argv.index("--workers") + 1] == "3"
    assert "KIZUNA_DEV" not in env
    assert "http://127.0.0.1:8123/" in run.out


def test_serve_runs_threaded_workers_that_slow_clients_cannot_hold(
    execs: list[tuple[list[str], dict[str, str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """gthread, not sync (issue 12): the numbers are documented in serve.py and docs/operations.md."""
    kizuna("serve", "--bind", "8125")
    argv, _ = execs[0]
    assert argv[argv.index("--worker-class") + 1] == "kizuna.web.gworker.BoundedThreadWorker"  # gthread, bounded
    assert argv[argv.index("--threads") + 1] == str(serve.THREADS) == "16"
    assert argv[argv.index("--keep-alive") + 1] == "5"
    monkeypatch.setenv("KIZUNA_THREADS", "4")
    kizuna("serve", "--bind", "8125", "--workers", "1")
    assert execs[1][0][execs[1][0].index("--threads") + 1] == "4"
    kizuna("serve", "--bind", "8125", "--threads", "8")
    assert execs[2][0][execs[2][0].index("--threads") + 1] == "8"


def test_serve_refuses_zero_threads(execs: list[Any]) -> None:
    message, _ = kizuna_refused("serve", "--threads", "0")
    assert "at least 1" in message
    assert execs == []


def test_serve_dev_runs_the_development_server_with_kizuna_dev_set(execs: list[tuple[list[str], Any]]) -> None:
    run = kizuna("serve", "--dev", "--bind", "8124")
    argv, env = execs[0]
    assert argv == [sys.executable, "-m", "kizuna", "runserver", "127.0.0.1:8124"]
    assert env["KIZUNA_DEV"] == "1"
    assert "http://127.0.0.1:8124/" in run.out


def test_serve_refuses_zero_workers(execs: list[Any]) -> None:
    message, _ = kizuna_refused("serve", "--workers", "0")
    assert "at least 1" in message
    assert execs == []
