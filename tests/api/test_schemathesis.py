"""The published OpenAPI document exercised by schemathesis (issue 10): every operation is called with generated
parameters and bodies through the node's own WSGI application, as a contributor's API token, and every answer must be
no server error (never a 500) and conform to the document (status code declared, content type, body schema).

Bounded for the suite: the examples phase and a few random cases per operation, no coverage phase (about 20-30 s
of CPU in all on the test machine)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import signals
from django.db import close_old_connections
from django.urls import reverse
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.openapi import from_dict

from kizuna.directory.services import create_token

EXAMPLES = 8


@pytest.fixture(scope="module", autouse=True)
def keep_connection() -> Iterator[None]:
    """Requests made straight to the WSGI application do not close the database connection at their start and end
    (as Django's test client arranges): that would touch the database outside a test, and on PostgreSQL close the
    test's transaction under it."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _load() -> Any:
    """The document as the node serves it, loaded at collection (schemathesis' fixture-based loading relies on a
    pytest internal that pytest 9 removed); calls go to the node's WSGI application."""
    from kizuna.api import api
    from kizuna.wsgi import application

    document = json.loads(json.dumps(api.get_openapi_schema(path_prefix=reverse("api:api-root"))))
    loaded = from_dict(document)
    loaded.app = application
    # The examples of the document and random generation only: the coverage phase (every boundary of every field)
    # takes minutes for this document, too long for the suite.
    loaded.config.phases.update(phases=["examples", "fuzzing"])
    return loaded


schema = _load()


@pytest.fixture
def token(jpn_user: Any) -> str:
    _, secret = create_token(jpn_user)
    return str(secret)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_every_operation_answers_within_its_document(case: Any, token: str) -> None:
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    case.validate_response(response, checks=(not_a_server_error, status_code_conformance, content_type_conformance,
                                             response_schema_conformance))
