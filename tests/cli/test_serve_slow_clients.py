"""Slow and idle clients cannot stall the node (issue 12, item 4): a real ``kizuna serve`` on a free port, alone and
behind Debian's nginx running the configuration the repository ships (deploy/nginx/kizuna.conf).

With gunicorn's sync workers each worker serves one connection at a time, so a connection that sends nothing holds
a whole worker until the arbiter kills it (--timeout): eight idle connections kept two workers from answering
anyone. ``kizuna serve`` now runs threaded workers; in front of it nginx holds slow clients itself and hands the node
only whole requests. A client that sends part of a request and waits is cut by the node itself too, after
KIZUNA_CLIENT_TIMEOUT (2 s here, 30 s by default).
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

NGINX = "/usr/sbin/nginx"
CLIENT_TIMEOUT = 2  # seconds; short so that the test of the cut is fast
SHIPPED = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "kizuna.conf"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"exited {process.returncode}: {log.read_text(errors='replace')[-2000:]}") from None
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {timeout} s: {log.read_text(errors='replace')[-2000:]}")


def _stop(process: subprocess.Popen[bytes], how: signal.Signals = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(how)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _get(url: str, timeout: float) -> tuple[int, float]:
    """Status and seconds of one ordinary GET (a normal client: whole request at once, reads the whole answer)."""
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=timeout) as response:
        response.read()
        return int(response.status), time.monotonic() - started


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("slow-clients-node")


@pytest.fixture(scope="module")
def app_port(data_dir: Path) -> Iterator[int]:
    """``kizuna serve`` (production mode, two workers as by default, KIZUNA_BEHIND_PROXY=1 as behind nginx) on a
    free port, on a fresh migrated SQLite data dir."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KIZUNA_TEST_DB", "KIZUNA_DEV")}
    env.update(KIZUNA_DATA_DIR=str(data_dir), KIZUNA_COOKIE_SECURE="0", KIZUNA_BEHIND_PROXY="1",
               KIZUNA_ALLOWED_HOSTS="127.0.0.1,localhost", KIZUNA_LOG_LEVEL="WARNING",
               KIZUNA_CLIENT_TIMEOUT=str(CLIENT_TIMEOUT))
    subprocess.run([sys.executable, "-m", "kizuna", "migrate", "--noinput"], env=env, cwd=data_dir, check=True,
                   capture_output=True, timeout=120)
    log = data_dir / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "kizuna", "serve", "--bind", f"127.0.0.1:{port}",
                                   "--workers", "2"], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=data_dir)
    try:
        _wait_for_port(port, server, log)
        # Warm both workers (Django loads URLs and templates on the first request), so the timed requests below
        # measure waiting for a free worker, not a cold start.
        for _ in range(3):
            for _ in range(4):
                assert _get(f"http://127.0.0.1:{port}/login/", timeout=30)[0] == 200
        yield port
    finally:
        _stop(server, signal.SIGINT)  # gunicorn's quick shutdown (SIGTERM lingers 2 s over kept-alive connections)


def nginx_config(shipped: str, app_port: int, proxy_port: int, run_dir: Path) -> str:
    """The shipped server blocks, as they are, inside a generated main configuration whose pid, logs and temporary
    files live in ``run_dir``; only the addresses change: the node's port, and plain http on ``proxy_port`` instead
    of the public ports with TLS (the placeholders' certificate does not exist here; TLS is not what is tested)."""
    text, upstreams = re.subn(r"server 127\.0\.0\.1:8000;", f"server 127.0.0.1:{app_port};", shipped)
    text, redirects = re.subn(r"\nserver \{\n    listen 80;.*?\n\}\n", "\n", text, flags=re.DOTALL)
    text, listens = re.subn(r"    listen 443 ssl http2;\n", f"    listen 127.0.0.1:{proxy_port};\n", text)
    text, _ = re.subn(r"    listen \[::\]:443 ssl http2;\n", "", text)
    text, tls = re.subn(r"\n    ssl_[a-z_]+ [^\n]*", "", text)
    # Each edit must have found its line: a change to the shipped file that breaks them fails here, not silently.
    assert (upstreams, redirects, listens) == (1, 1, 1) and tls >= 2, (upstreams, redirects, listens, tls)
    temp = {name: run_dir / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for folder in temp.values():
        folder.mkdir(exist_ok=True)
    # As root nginx would run its workers as nobody, who cannot enter pytest's private temporary directory.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}worker_processes 1;\npid {run_dir}/nginx.pid;\nerror_log {run_dir}/error.log warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        "    include /etc/nginx/mime.types;\n"
        f"    access_log {run_dir}/access.log;\n"
        f"    client_body_temp_path {temp['client_body']};\n    proxy_temp_path {temp['proxy']};\n"
        f"    fastcgi_temp_path {temp['fastcgi']};\n    uwsgi_temp_path {temp['uwsgi']};\n"
        f"    scgi_temp_path {temp['scgi']};\n"
        f"{text}\n"
        "}\n"
    )


@pytest.fixture(scope="module")
def proxy_port(app_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """Debian's nginx with the shipped configuration in front of the node, in the foreground, on another port."""
    if not os.path.exists(NGINX):
        pytest.fail(f"{NGINX} is missing: `make test` installs Debian's nginx (make nginx)")
    run_dir = tmp_path_factory.mktemp("slow-clients-nginx")
    port = _free_port()
    config = run_dir / "nginx.conf"
    config.write_text(nginx_config(SHIPPED.read_text(encoding="utf-8"), app_port, port, run_dir), encoding="utf-8")
    log = run_dir / "nginx.out"
    with log.open("wb") as out:
        proxy = subprocess.Popen([NGINX, "-p", str(run_dir), "-c", str(config), "-e", str(run_dir / "error.log"),
                                  "-g", "daemon off;"], stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, proxy, log)
        assert _get(f"http://127.0.0.1:{port}/login/", timeout=10)[0] == 200
        yield port
    finally:
        _stop(proxy)
        shutil.rmtree(run_dir / "client_body", ignore_errors=True)


def _open(stack: ExitStack, port: int, send: bytes = b"") -> socket.socket:
    sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
    if send:
        sock.sendall(send)
    return sock


def test_idle_connections_do_not_stall_kizuna_serve(app_port: int) -> None:
    """Straight at ``kizuna serve``: eight connections that send nothing (more than the two workers) and a normal
    request still answered within 2 s. Sync workers: no answer until the arbiter kills the blocked workers (30 s)."""
    with ExitStack() as stack:
        for _ in range(8):
            _open(stack, app_port)
        time.sleep(0.5)  # every idle connection accepted by a worker before the normal one arrives
        status, seconds = _get(f"http://127.0.0.1:{app_port}/login/", timeout=2)
    assert status == 200
    assert seconds < 2, seconds


def test_a_half_sent_request_is_cut_after_the_client_timeout(app_port: int) -> None:
    """Straight at ``kizuna serve``: a client that sends half a request line and waits holds one thread, and only
    until KIZUNA_CLIENT_TIMEOUT; meanwhile others are served. (gunicorn alone would wait for it forever.)"""
    with ExitStack() as stack:
        slow = _open(stack, app_port, b"GET /login/ HT")
        started = time.monotonic()
        assert _get(f"http://127.0.0.1:{app_port}/login/", timeout=2)[0] == 200
        slow.settimeout(CLIENT_TIMEOUT + 5)
        assert slow.recv(1024) == b"", "closed without an answer"
        assert CLIENT_TIMEOUT - 0.5 < time.monotonic() - started < CLIENT_TIMEOUT + 3


def test_slow_clients_do_not_stall_the_node_behind_nginx(proxy_port: int) -> None:
    """Through nginx: 50 clients that send half a request line and wait, 4 kept-alive connections left idle after
    a request and 4 that send nothing; a normal client gets /login/ within 1 s."""
    half_line = b"GET /login/ HT"
    whole = b"GET /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n"
    with ExitStack() as stack:
        for _ in range(50):
            _open(stack, proxy_port, half_line)
        for _ in range(4):
            kept = _open(stack, proxy_port, whole)
            assert kept.recv(65536).startswith(b"HTTP/1.1 200"), "the kept-alive connection's request was answered"
        for _ in range(4):
            _open(stack, proxy_port)
        time.sleep(0.5)
        status, seconds = _get(f"http://127.0.0.1:{proxy_port}/login/", timeout=1)
    assert status == 200
    assert seconds < 1, seconds


def test_the_client_cannot_set_the_forwarded_headers_through_nginx(proxy_port: int, data_dir: Path) -> None:
    """The node behind nginx (KIZUNA_BEHIND_PROXY=1) takes the address nginx saw, not one the client wrote in
    X-Forwarded-For, and the scheme of the connection, not a claimed X-Forwarded-Proto: https (which would make
    Django check the plain-http Origin against https and refuse the form before any sign-in is tried)."""
    base = f"http://127.0.0.1:{proxy_port}"
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(f"{base}/login/", timeout=10) as page:
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.read())
    assert token is not None
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1).decode(), "username": "nobody-here",
                                   "password": "not the password"}).encode()
    request = urllib.request.Request(f"{base}/login/", data=form, headers={
        "Origin": base, "Referer": f"{base}/login/", "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Proto": "https"})

    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(request, timeout=10)
    # The form again with its error (a failed sign-in answers 400), not Django's CSRF refusal (403).
    assert refused.value.code == 400
    assert b"The username or password is not correct." in refused.value.read()
    with sqlite3.connect(data_dir / "kizuna.sqlite3") as db:
        rows = db.execute("SELECT address FROM directory_loginfailure WHERE username LIKE '%nobody-here%'").fetchall()
    assert rows == [("127.0.0.1",)]
