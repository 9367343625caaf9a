"""The admission gate of ``kizuna serve`` on SQLite (kizuna/web/admission.py): at most N requests of a worker in the
application at once, small bodies read before a request waits for its turn, and the limit's defaults."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from kizuna.web import admission


class SlowBody(io.RawIOBase):
    """A request body that arrives slowly, as from a client on a poor link."""

    def __init__(self, data: bytes, delay: float) -> None:
        self.data, self.delay = data, delay

    def read(self, size: int = -1) -> bytes:
        time.sleep(self.delay)
        chunk, self.data = self.data, b""
        return chunk


def _app(inside: list[int], peak: list[int], lock: threading.Lock, hold: float) -> admission.WSGIApp:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with lock:
            inside[0] += 1
            peak[0] = max(peak[0], inside[0])
        time.sleep(hold)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        with lock:
            inside[0] -= 1
        start_response("200 OK", [])
        return [body]

    return app


def test_no_more_than_the_limit_run_the_application_at_once() -> None:
    inside, peak, lock = [0], [0], threading.Lock()
    gate = admission.Admission(_app(inside, peak, lock, hold=0.05), 3)
    answers: list[bytes] = []

    def request(n: int) -> None:
        body = f"request {n}".encode()
        environ = {"CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}
        answers.append(b"".join(gate(environ, lambda *a: None)))

    threads = [threading.Thread(target=request, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 3
    assert sorted(answers) == sorted(f"request {n}".encode() for n in range(12))


def test_a_slowly_sent_body_is_read_before_its_request_takes_a_turn() -> None:
    """One turn only: a request whose client sends its body in 0.5 s does not keep a quick one out meanwhile."""
    inside, peak, lock = [0], [0], threading.Lock()
    gate = admission.Admission(_app(inside, peak, lock, hold=0.0), 1)
    slow_started = threading.Event()
    quick_took: list[float] = []

    def slow() -> None:
        slow_started.set()
        environ = {"CONTENT_LENGTH": "4", "wsgi.input": SlowBody(b"slow", 0.5)}
        assert b"".join(gate(environ, lambda *a: None)) == b"slow"

    thread = threading.Thread(target=slow)
    thread.start()
    slow_started.wait()
    time.sleep(0.05)
    started = time.monotonic()
    gate({"wsgi.input": io.BytesIO(b"")}, lambda *a: None)
    quick_took.append(time.monotonic() - started)
    thread.join()
    assert quick_took[0] < 0.2, quick_took


@pytest.mark.parametrize(("engine", "name", "env", "expected"), [
    ("kizuna.core.sqlite", "/srv/kizuna/kizuna.sqlite3", "", admission.SQLITE_DEFAULT),
    ("kizuna.core.sqlite", ":memory:", "", 0),
    ("django.db.backends.postgresql", "kizuna", "", 0),
    ("django.db.backends.postgresql", "kizuna", "8", 8),
    ("kizuna.core.sqlite", "/srv/kizuna/kizuna.sqlite3", "0", 0),
])
def test_the_limit_by_database_and_setting(monkeypatch: pytest.MonkeyPatch, engine: str, name: str, env: str,
                                           expected: int) -> None:
    database = {"ENGINE": engine, "NAME": name}
    monkeypatch.setenv("KIZUNA_ACTIVE_REQUESTS", env)
    assert admission.limit(database) == expected
    app = _app([0], [0], threading.Lock(), 0.0)
    assert (admission.admitted(app, database) is app) == (expected == 0)


def test_a_limit_that_is_not_a_number_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIZUNA_ACTIVE_REQUESTS", "four")
    with pytest.raises(ImproperlyConfigured, match="KIZUNA_ACTIVE_REQUESTS must be a whole number, not 'four'"):
        admission.limit({"ENGINE": "kizuna.core.sqlite", "NAME": "/srv/kizuna.sqlite3"})
