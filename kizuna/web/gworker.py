"""The gunicorn worker ``kizuna serve`` runs: gunicorn's threaded worker (``gthread``) with every blocking read and
write on a client connection bounded by ``KIZUNA_CLIENT_TIMEOUT`` seconds (default 30).

gunicorn's gthread worker gives a connection that sends nothing back to its poller after a few seconds, but one that
sends part of a request and then waits is read with no timeout at all: it holds its thread for as long as the client
likes (issue 12). gunicorn has no setting for it, and switches its client sockets to blocking mode (no timeout)
itself, in several places. So the client socket is given a class whose blocking mode carries a timeout: a client
that pauses longer than that between two reads (or cannot take one write within it) is cut, its thread freed.
Behind nginx (deploy/nginx/kizuna.conf) the node only ever talks to nginx on loopback and this never fires; it bounds
a node reached directly.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

DEFAULT_CLIENT_TIMEOUT = 30.0


def client_timeout() -> float:
    """Seconds a blocking read or write on a client connection may wait (``KIZUNA_CLIENT_TIMEOUT``, default 30, the
    same as nginx's client_body_timeout and send_timeout in the shipped configuration)."""
    value = float(os.environ.get("KIZUNA_CLIENT_TIMEOUT", DEFAULT_CLIENT_TIMEOUT))
    return value if value > 0 else DEFAULT_CLIENT_TIMEOUT


class _BoundedSocket(socket.socket):
    """A client socket whose "blocking" mode waits at most ``timeout`` (Python's timeout mode: recv and send raise
    TimeoutError, an OSError gunicorn answers by closing the connection). Non-blocking mode, which gunicorn's poller
    uses, is unchanged. No fields of its own, so an accepted socket can take this class in place."""

    __slots__ = ()
    timeout_seconds = DEFAULT_CLIENT_TIMEOUT

    def setblocking(self, flag: bool) -> None:
        if flag:
            self.settimeout(self.timeout_seconds)
        else:
            super().setblocking(False)


class _SlowClientLine(logging.Filter):
    """gunicorn logs a client cut by the timeout as a socket error with a traceback; one warning line says it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], TimeoutError):
            record.msg, record.args, record.exc_info, record.exc_text = (
                "slow client cut: nothing received or sent for %s s", (_BoundedSocket.timeout_seconds,), None, None)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class BoundedThreadWorker(ThreadWorker):  # type: ignore[misc]  # gunicorn ships no type hints
    """gthread, with each client socket bounded before a thread first uses it."""

    def init_process(self) -> None:
        _BoundedSocket.timeout_seconds = client_timeout()
        logging.getLogger("gunicorn.error").addFilter(_SlowClientLine())
        super().init_process()

    def handle(self, conn: Any) -> Any:
        sock = conn.sock
        if type(sock) is socket.socket:  # plain TCP; a TLS socket (gunicorn's own TLS, unused by Kizuna) is left as is
            sock.__class__ = _BoundedSocket
            if sock.gettimeout() is None:
                sock.settimeout(_BoundedSocket.timeout_seconds)
        return super().handle(conn)
