"""Fixtures for the REST API tests: a client that speaks as one user's token, and checks every response it receives
against the published OpenAPI document, so that no test can pass on a response the document does not describe."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kizuna.directory.services import create_token
from kizuna.reports.models import Report
from kizuna.reports.services import ReportInput, do_create_report
from tests.api.openapi_check import response_problems
from tests.conftest import make_label

_document: dict[str, Any] = {}


def openapi_document() -> dict[str, Any]:
    if not _document:
        response = Client().get("/api/v1/openapi.json")
        assert response.status_code == 200
        _document.update(response.json())
    return _document


class Api:
    """HTTP calls to /api/v1/ as the holder of ``secret`` (or anonymously). ``check=False`` skips the OpenAPI check
    for the few answers the document cannot describe (unknown paths, wrong methods, internal errors)."""

    def __init__(self, client: Client, secret: str | None, user: Any = None) -> None:
        self.client = client
        self.secret = secret
        self.user = user

    def headers(self) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.secret}"} if self.secret else {}

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: str | bytes | None = None,
        content_type: str = "application/json",
        check: bool = True,
        **extra: Any,
    ) -> Any:
        url = path if path.startswith("/") else f"/api/v1/{path}"
        if raw is not None:
            data: Any = raw
        elif body is not None:
            data = json.dumps(body)
        else:
            data = ""
        response = self.client.generic(method, url, data, content_type=content_type, **self.headers(), **extra)
        if check:
            self.assert_documented(method, url, response)
        return response

    def assert_documented(self, method: str, url: str, response: Any) -> None:
        body = b"".join(response.streaming_content) if response.streaming else response.content
        problems = response_problems(
            openapi_document(), method, url, response.status_code, response.get("Content-Type", ""), body
        )
        assert not problems, f"{method} {url} -> {response.status_code} does not match the OpenAPI document: {problems}"
        if response.streaming:
            response.streaming_content = iter([body])
        if "application/json" in response.get("Content-Type", "") and response.status_code >= 400:
            assert set(response.json()) <= {"message", "field"} and response.json()["message"]

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.call("DELETE", path, **kw)

    def upload(self, path: str, filename: str, content: bytes) -> Any:
        from django.core.files.uploadedfile import SimpleUploadedFile

        url = f"/api/v1/{path}"
        response = self.client.post(url, {"file": SimpleUploadedFile(filename, content)}, **self.headers())
        self.assert_documented("POST", url, response)
        return response


@pytest.fixture
def api_for(db: Any) -> Callable[[Any], Api]:
    """``api_for(user)``: a client acting with a fresh token of that user."""

    def _make(user: Any) -> Api:
        _, secret = create_token(user)
        return Api(Client(), secret, user)

    return _make


@pytest.fixture
def anonymous(db: Any) -> Api:
    return Api(Client(), None)


@pytest.fixture
def report_of(db: Any) -> Callable[..., Report]:
    """``report_of(user, title=..., **label_kwargs)``: a report written through the service, as the UI would."""

    def _make(user: Any, title: str = "Port visit", **label_kwargs: Any) -> Report:
        label_kwargs.setdefault("releasable_to", ["NATO", "IP4"])
        return do_create_report(user, ReportInput(title=title, label=make_label(**label_kwargs)))

    return _make


def label_api(**kwargs: Any) -> dict[str, Any]:
    """A label in API form, built like tests.conftest.make_label."""
    return make_label(**kwargs).as_api()
