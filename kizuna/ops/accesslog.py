"""gunicorn's logger for ``KIZUNA_LOG_FORMAT=json`` (``kizuna serve`` passes it as ``--logger-class``): the access
log and gunicorn's own error log as one JSON object per line, like the node's (kizuna.ops.logs), the access line
carrying the response's ``X-Request-ID`` so it joins the node's lines of the same request. Loaded by the gunicorn
master before Django: imports nothing of Django."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from gunicorn.glogging import Logger

from kizuna.ops.logs import JsonFormatter


class JsonLogger(Logger):  # type: ignore[misc]
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> None:
        if not self.access_log_enabled:
            return
        atoms = self.atoms_wrapper_class(self.atoms(resp, req, environ, request_time))
        status = str(atoms["s"])
        entry: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": "INFO",
            "logger": "gunicorn.access",
            "message": atoms["r"],  # the request line, as gunicorn's default format writes it
            "remote": atoms["h"],
            "status": int(status) if status.isdigit() else status,
            "bytes": atoms["B"] if atoms["B"] != "-" else 0,
            "duration_ms": round(request_time.total_seconds() * 1000, 3),
            "user_agent": atoms["a"],
        }
        request_id = atoms["{x-request-id}o"]
        if request_id and request_id != "-":
            entry["request_id"] = request_id
        try:
            self.access_log.info("%s", json.dumps(entry, default=str, ensure_ascii=False))
        except Exception:  # as gunicorn's own: a log line must never fail the request
            self.exception("access log")
