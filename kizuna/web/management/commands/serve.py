"""``kizuna serve [--dev] [--worker] [--bind HOST:PORT] [--workers N] [--threads N]``: run the node.

``--worker`` also starts ``kizuna worker`` (the background jobs: imports, sync, signing, reminders) as a child
process that stops with the server: Ctrl-C in a terminal stops both, and the worker stops by itself when the server
process is gone. ``make run`` uses it; a production service runs ``kizuna worker`` as its own unit instead
(docs/operations.md, "Background jobs").

Production (the default) replaces this process with gunicorn serving ``kizuna.wsgi`` with threaded workers
(``gthread``, with a client timeout: ``kizuna.web.gworker``), so that a slow or idle client holds one thread for a
bounded time and never a whole worker (the numbers and their reasons are beside ``THREADS`` below and in
docs/operations.md, "Slow clients and the reverse proxy"). ``--dev`` runs Django's
development server with DEBUG on. Settings read ``KIZUNA_DEV`` when they are imported, which has already happened by
the time a command runs, so both modes start a fresh interpreter with the environment they need.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from kizuna.core.management.base import KizunaCommand

DEFAULT_BIND = "127.0.0.1:8000"

# gunicorn's gthread worker with a bound on every blocking read and write of a client (KIZUNA_CLIENT_TIMEOUT, 30 s):
# see kizuna/web/gworker.py.
WORKER_CLASS = "kizuna.web.gworker.BoundedThreadWorker"
# Threads per worker. A sync worker is one connection at a time: four connections that send nothing stalled a node
# of four workers, and the arbiter killed each worker blocked in a read after --timeout (issue 12). A gthread worker
# hands each connection to one of its threads; a connection that has sent nothing gives its thread back after 5 s
# (gunicorn's own wait) and then waits in the worker's poller, without a thread, until KEEPALIVE. 16 is more than
# twice what that leaves busy for a handful of stray connections, and keeps workers x threads database connections
# (each thread keeps its own, CONN_MAX_AGE) well under PostgreSQL's default 100 at 4 workers (64).
THREADS = 16
# Seconds an idle kept-alive connection (or one that has sent nothing, once out of its thread) is kept before it is
# closed. Browsers reconnect cheaply; behind nginx it does not matter (nginx speaks to the node one request per
# connection), so it is short.
KEEPALIVE = 5
# With gthread the worker's main loop, not the request threads, tells the arbiter it is alive: a worker is killed
# only when its loop is stuck, never because a request or a client is slow. Long requests (an import of up to 1 MiB
# while the client waits, a large export) therefore need no longer timeout than the default.
WORKER_TIMEOUT = 30


@dataclass(frozen=True)
class Bind:
    host: str
    port: int

    @property
    def address(self) -> str:
        """host:port as gunicorn and runserver take it (IPv6 in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        # A wildcard address is not something a browser can open; show the loopback form of it.
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)  # noqa: S104
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}/"


def parse_bind(value: str) -> Bind:
    """``127.0.0.1:8000``, ``[::1]:8000``, ``0.0.0.0:80`` or just a port ``8000`` (on 127.0.0.1)."""
    value = value.strip()
    if value.isdigit():
        host, port_text = "127.0.0.1", value
    elif value.startswith("["):
        host, sep, port_text = value[1:].partition("]:")
        if not sep:
            raise CommandError(f"bad --bind {value!r}; write HOST:PORT, e.g. 127.0.0.1:8000 or [::1]:8000")
    else:
        host, sep, port_text = value.rpartition(":")
        if not sep or not host or ":" in host:
            raise CommandError(f"bad --bind {value!r}; write HOST:PORT, e.g. 127.0.0.1:8000")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise CommandError(f"bad port in --bind {value!r}; use 1 to 65535")
    return Bind(host, int(port_text))


def _gunicorn_has_setting(name: str) -> bool:
    from gunicorn.config import KNOWN_SETTINGS

    return any(setting.name == name for setting in KNOWN_SETTINGS)


def gunicorn_argv(bind: Bind, workers: int, threads: int = THREADS) -> list[str]:
    argv = [
        sys.executable, "-m", "gunicorn", "kizuna.wsgi:application",
        "--bind", bind.address,
        "--workers", str(workers),
        "--worker-class", WORKER_CLASS,
        "--threads", str(threads),
        "--keep-alive", str(KEEPALIVE),
        "--timeout", str(WORKER_TIMEOUT),
        "--access-logfile", "-",
        "--forwarded-allow-ips", os.environ.get("KIZUNA_FORWARDED_ALLOW_IPS", "127.0.0.1"),
    ]
    if os.environ.get("KIZUNA_LOG_FORMAT", "").strip().lower() == "json":
        argv += ["--logger-class", "kizuna.ops.accesslog.JsonLogger"]  # gunicorn's lines as JSON too
    if _gunicorn_has_setting("control_socket_disable"):
        # Newer gunicorn opens a control socket in the home directory by default; the node does not use it.
        argv.append("--no-control-socket")
    return argv


def runserver_argv(bind: Bind) -> list[str]:
    return [sys.executable, "-m", "kizuna", "runserver", bind.address]


def metrics_dir(env: dict[str, str]) -> Path:
    """The folder of gunicorn's workers' shared metric files (``PROMETHEUS_MULTIPROC_DIR``, default
    ``$KIZUNA_DATA_DIR/prometheus``), emptied: counts of a previous run's workers must not be added to this one's."""
    from django.conf import settings

    folder = Path(env.get("PROMETHEUS_MULTIPROC_DIR") or Path(settings.DATA_DIR) / "prometheus")
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink(missing_ok=True)
    return folder


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``kizuna worker`` as a child that stops when this process (about to become the server) is gone."""
    argv = [sys.executable, "-m", "kizuna", "worker", "--parent-pid", str(os.getpid())]
    return subprocess.Popen(argv, env=env)


def _exec(argv: list[str], env: dict[str, str]) -> None:
    """Replace this process (signals and the exit status then belong to the server itself)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(argv[0], argv, env)  # noqa: S606 - argv is built here from sys.executable, no shell


class Command(KizunaCommand):
    help = "Serve the node: gunicorn in production, Django's development server with --dev."
    requires_system_checks = []  # the server runs them itself; doing it twice only slows the start

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dev", action="store_true", help="development server with DEBUG on (never in production)")
        parser.add_argument("--worker", action="store_true",
                            help="also run `kizuna worker` (background jobs), stopped with the server")
        parser.add_argument("--bind", default=DEFAULT_BIND, help=f"HOST:PORT to listen on (default {DEFAULT_BIND})")
        parser.add_argument("--workers", type=int, default=int(os.environ.get("KIZUNA_WORKERS", "2")),
                            help="gunicorn worker processes (default 2, or KIZUNA_WORKERS)")
        parser.add_argument("--threads", type=int, default=int(os.environ.get("KIZUNA_THREADS", str(THREADS))),
                            help=f"threads per worker (default {THREADS}, or KIZUNA_THREADS)")

    def handle(self, *args: Any, **options: Any) -> None:
        bind = parse_bind(options["bind"])
        workers = options["workers"]
        threads = options["threads"]
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        if threads < 1:
            raise CommandError("--threads must be at least 1")
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "kizuna.settings")}
        if options["worker"]:
            worker = start_worker({k: v for k, v in env.items() if k != "KIZUNA_DEV"})
            self.stdout.write(f"background jobs: kizuna worker (pid {worker.pid})")
        if options["dev"]:
            env["KIZUNA_DEV"] = "1"
            self.stdout.write(f"Kizuna (development, DEBUG on) at {bind.url}")
            _exec(runserver_argv(bind), env)
        else:
            env.pop("KIZUNA_DEV", None)  # production never inherits DEBUG from a stray variable
            env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir(env))  # /metrics adds up every worker
            self.stdout.write(f"Kizuna at {bind.url} (gunicorn, {workers} worker(s) x {threads} threads); "
                              "stop with Ctrl-C")
            _exec(gunicorn_argv(bind, workers, threads), env)
