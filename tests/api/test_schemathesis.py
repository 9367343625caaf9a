"""The published OpenAPI document exercised by schemathesis against a running node (issue 10): the node serves HTTP on
a port of its own (pytest-django's ``live_server``: the whole Django stack behind a real socket, with its own
database connections), and every operation is called over HTTP with generated parameters and bodies, as a
contributor's API token. Every answer must be no server error (never a 500) and conform to the document (status code
declared, content type, body schema).

Bounded for the suite: the examples phase and a few random cases per operation, no coverage phase (every boundary of
every field takes minutes for this document)."""

from __future__ import annotations

import json
from typing import Any

import pytest
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


def _load() -> Any:
    """The document as the node serves it, loaded at collection (schemathesis' fixture-based loading relies on a
    pytest internal that pytest 9 removed)."""
    from kizuna.api import api

    document = json.loads(json.dumps(api.get_openapi_schema(path_prefix=reverse("api:api-root"))))
    loaded = from_dict(document)
    loaded.config.phases.update(phases=["examples", "fuzzing"])
    return loaded


schema = _load()


@pytest.fixture
def token(jpn_user: Any) -> str:
    _, secret = create_token(jpn_user)
    return str(secret)


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_every_operation_answers_within_its_document(case: Any, token: str, live_server: Any) -> None:
    response = case.call(base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    case.validate_response(response, checks=(not_a_server_error, status_code_conformance, content_type_conformance,
                                             response_schema_conformance))
