"""Structured logs: with KIZUNA_LOG_FORMAT=json each line is one JSON object carrying the request id, which the
request id middleware takes from X-Request-ID (when sane) or makes, and echoes on the response."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from kizuna.ops.logs import JsonFormatter, RequestIdFilter, logging_config
from kizuna.ops.middleware import RequestIdMiddleware


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("kizuna.test.ops")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def _view_that_logs(request: HttpRequest) -> HttpResponse:
    log = logging.getLogger("kizuna.test.ops")
    log.info("serving %s", "a report")
    try:
        raise ValueError("broken\nover two lines")
    except ValueError:
        log.exception("it failed")
    return HttpResponse("ok")


def test_json_lines_carry_time_level_logger_message_request_id_and_exception(json_log: io.StringIO) -> None:
    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="req-abc.123")
    response = RequestIdMiddleware(_view_that_logs)(request)

    assert response["X-Request-ID"] == "req-abc.123"
    info, error = lines(json_log)  # two records, two lines: the traceback's newlines stay inside the JSON
    assert set(info) == {"time", "level", "logger", "message", "request_id"}
    assert info["level"] == "INFO" and info["logger"] == "kizuna.test.ops"
    assert info["message"] == "serving a report" and info["request_id"] == "req-abc.123"
    assert info["time"].endswith("+00:00")
    assert error["level"] == "ERROR" and error["request_id"] == "req-abc.123"
    assert "ValueError: broken\nover two lines" in error["exception"]


def test_a_missing_or_insane_request_id_is_replaced_by_a_new_one(json_log: io.StringIO) -> None:
    made = RequestIdMiddleware(_view_that_logs)(RequestFactory().get("/"))["X-Request-ID"]
    forged = RequestIdMiddleware(_view_that_logs)(
        RequestFactory().get("/", HTTP_X_REQUEST_ID='x" injected\n{"level": "INFO"}'))["X-Request-ID"]
    assert len(made) == 32 and len(forged) == 32 and made != forged
    ids = {line["request_id"] for line in lines(json_log)}
    assert ids == {made, forged}


def test_outside_a_request_there_is_no_request_id(json_log: io.StringIO) -> None:
    logging.getLogger("kizuna.test.ops").warning("from the worker", extra={"job": 7})
    [line] = lines(json_log)
    assert "request_id" not in line and line["job"] == 7


@pytest.mark.django_db
def test_django_s_own_line_of_a_404_carries_the_request_id(client: Client, json_log: io.StringIO) -> None:
    # django.request logs "Not Found" after the middleware chain has returned, with the request in ``extra``.
    logger = logging.getLogger("django.request")
    handler = logging.getLogger("kizuna.test.ops").handlers[-1]
    logger.addHandler(handler)
    try:
        client.get("/static/no-such-file.css", HTTP_X_REQUEST_ID="nf-404")
    finally:
        logger.removeHandler(handler)
    [line] = [line for line in lines(json_log) if line["logger"] == "django.request"]
    assert line["request_id"] == "nf-404" and line["status_code"] == 404 and "request" not in line


@pytest.mark.django_db
def test_every_response_of_the_node_has_a_request_id(client: Client) -> None:
    assert len(client.get("/healthz")["X-Request-ID"]) == 32
    assert client.get("/login/", HTTP_X_REQUEST_ID="lb-42")["X-Request-ID"] == "lb-42"


def test_the_json_setting_selects_the_json_formatter() -> None:
    assert logging_config("json", "INFO")["formatters"]["kizuna"] == {"()": "kizuna.ops.logs.JsonFormatter"}
    assert "format" in logging_config("text", "INFO")["formatters"]["kizuna"]


def test_a_node_started_with_kizuna_log_format_json_writes_json_lines(tmp_path: Path) -> None:
    script = "import django, logging; django.setup(); logging.getLogger('kizuna.x').warning('hello %s', 'node')"
    env = {**os.environ, "KIZUNA_LOG_FORMAT": "json", "KIZUNA_DATA_DIR": str(tmp_path),
           "DJANGO_SETTINGS_MODULE": "kizuna.settings"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    [line] = [json.loads(text) for text in done.stderr.splitlines() if text.strip()]
    assert line["message"] == "hello node" and line["level"] == "WARNING" and line["logger"] == "kizuna.x"
