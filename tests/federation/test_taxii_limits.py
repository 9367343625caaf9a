"""Bounded TAXII input (issue 10, item 7): an envelope POSTed to a collection that is nested too deep (400), holds too
many objects or too many bytes (413) is refused with a TAXII error body (application/taxii+json), costs well under a
second of CPU and stores nothing; a string over the limit rejects only its object (a failure in the status).

On the old code an envelope nested 100,000 deep answered an HTML 500 (RecursionError in json.loads)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from kizuna.threats.models import ImportJob, StixObject
from tests.federation.test_taxii_errors import assert_taxii_error
from tests.federation.test_taxii_post import indicator, post

pytestmark = pytest.mark.django_db


def timed_post(body: Any) -> tuple[Any, float]:
    post("{}")  # untimed: the first request of a process loads the URL configuration and views
    start = time.process_time()
    response = post(body)
    return response, time.process_time() - start


def nothing_stored() -> None:
    assert StixObject.objects.count() == 0
    assert ImportJob.objects.count() == 0


@pytest.mark.parametrize("levels", [1_000, 100_000, 900_000])
def test_a_deep_envelope_is_a_taxii_400(jpn_user: Any, levels: int) -> None:
    body = '{"objects": [' + json.dumps(indicator())[:-1] + ', "x_deep": ' + "[" * levels + "]" * levels + "}]}"
    response, cpu = timed_post(body)
    error = assert_taxii_error(response, 400)
    assert error["title"] == "Too deep" and "nested more than 100 levels deep" in error["description"]
    assert cpu < 1.0
    nothing_stored()


def test_a_deep_envelope_that_never_closes_is_a_taxii_400(jpn_user: Any) -> None:
    response, cpu = timed_post("[" * 1_900_000)
    assert_taxii_error(response, 400)
    assert cpu < 1.0
    nothing_stored()


def test_too_many_objects_is_a_taxii_413(jpn_user: Any, settings: Any) -> None:
    settings.KIZUNA_TAXII_MAX_ENVELOPE_OBJECTS = 3
    response, _ = timed_post({"objects": [indicator() for _ in range(4)]})
    error = assert_taxii_error(response, 413)
    assert "more than 3 objects" in error["description"]
    nothing_stored()


def test_an_envelope_over_max_content_length_is_a_taxii_413(jpn_user: Any) -> None:
    response, cpu = timed_post({"objects": [indicator(description="a" * (3 * 1024 * 1024))]})
    assert_taxii_error(response, 413)
    assert cpu < 1.0
    nothing_stored()


def test_a_too_long_string_fails_its_object_only(jpn_user: Any, settings: Any) -> None:
    settings.KIZUNA_JSON_MAX_STRING_BYTES = 1000
    good, long = indicator(), indicator(description="a" * 5000)
    response, cpu = timed_post({"objects": [good, long]})
    assert response.status_code == 202, response.content
    status = response.json()
    assert (status["success_count"], status["failure_count"]) == (1, 1)
    assert status["failures"][0]["id"] == long["id"]
    assert status["failures"][0]["message"].startswith("string too long: description holds a string longer than")
    assert list(StixObject.objects.values_list("stix_id", flat=True)) == [good["id"]]
    assert cpu < 1.0


def test_nul_and_unicode_are_not_a_500(jpn_user: Any) -> None:
    weird = indicator(description="\x00 \ud800 \U0001f600 é", name="\x00")
    response = post(json.dumps({"objects": [weird, indicator(), {"type": "\x00"}]}))
    assert response.status_code == 202, response.content
    status = response.json()
    assert status["total_count"] == 3 and status["success_count"] + status["failure_count"] == 3
    assert StixObject.objects.count() == status["success_count"]
