"""Structured logs: with ``KIZUNA_LOG_FORMAT=json`` every log line is one JSON object (time, level, logger, message,
the request id when the line was written while serving a request, and the exception text), so a log shipper can
join the lines of one request. Standard library only; this module must not import Django models, since the settings'
LOGGING names it before the apps are ready."""

from __future__ import annotations

import contextvars
import json
import logging
from datetime import UTC, datetime
from typing import Any

# The id of the request being served in this thread or task ("" outside a request). Set by RequestIdMiddleware.
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("kizuna_request_id", default="")

# LogRecord attributes of the standard library; anything else on a record came from ``extra=`` and is kept, but for
# Django's ``request`` object (its id is taken; its path is in the message already).
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "request_id", "request",
}


def _request_id_of(record: logging.LogRecord) -> str:
    """The id of the request being served, or of the request the record names: Django logs a 4xx/5xx response
    (``django.request``, with ``extra={"request": ...}``) after the whole middleware chain has returned."""
    return (getattr(record, "request_id", "") or request_id_var.get()
            or str(getattr(getattr(record, "request", None), "request_id", "") or ""))


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (``%(request_id)s`` in a text format, ``request_id`` in JSON)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id_of(record)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line. Values that are not JSON are written as their ``str``; newlines in the message or
    the traceback stay inside the JSON string, so a line is always one record."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = _request_id_of(record)
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_") and key not in entry:
                entry[key] = value
        return json.dumps(entry, default=str, ensure_ascii=False)


def logging_config(fmt: str, level: str) -> dict[str, Any]:
    """The LOGGING dictionary of the settings: text for a terminal (the default), or ``json``."""
    formatter: dict[str, Any] = (
        {"()": "kizuna.ops.logs.JsonFormatter"} if fmt == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "kizuna.ops.logs.RequestIdFilter"}},
        "formatters": {"kizuna": formatter},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "kizuna", "filters": ["request_id"]}},
        "root": {"handlers": ["console"], "level": level},
    }
