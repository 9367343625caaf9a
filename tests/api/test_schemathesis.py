"""The published OpenAPI document exercised by schemathesis (issue 10): every operation is called with generated
parameters and bodies through the node's own WSGI application, as a contributor's API token, and every answer must be
no server error (never a 500) and conform to the document (status code declared, content type, body schema).

Bounded for the suite: the examples phase and a few random cases per operation, no coverage phase (about 20-30 s
of CPU in all on the test machine)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.openapi import from_wsgi
from schemathesis.pytest import from_fixture

from kizuna.directory.services import create_token

EXAMPLES = 8


@pytest.fixture(scope="module")
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


@pytest.fixture(scope="module")
def api_schema(keep_connection: None) -> Any:
    from kizuna.wsgi import application

    loaded = from_wsgi("/api/v1/openapi.json", application)
    # The examples of the document and random generation only: the coverage phase (every boundary of every field)
    # takes minutes for this document, too long for the suite.
    loaded.config.phases.update(phases=["examples", "fuzzing"])
    return loaded


schema = from_fixture("api_schema")


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
