"""Bounded input (issue 10, item 7): a bundle nested too deep, holding too many objects or too many bytes is refused
whole with a clear message and nothing stored; a string or an object over its limit rejects that object only, the
rest imports; every refusal costs well under a second of CPU (time.process_time). Through the REST API, the
importer's service (web upload and CLI jobs, both the in-process and the child-process parser) and every JSON body.

On the old code a 50,000-deep bundle took 17-20 s and was refused as broken JSON; a 20 MB string took about 2 s to
parse (growing with its square) and was stored."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import pytest

from kizuna.core.models import AuditEntry
from kizuna.threats import importer as importer_module
from kizuna.threats import services
from kizuna.threats.models import ImportJob, ImportStatus, StixObject
from tests.conftest import make_label
from tests.threats.test_api import bundle, indicator, post_bundle
from tests.threats.test_import_fixtures import malware

pytestmark = pytest.mark.django_db

IP4 = make_label(releasable_to=["NATO", "IP4"])
CPU_LIMIT = 1.0


def nothing_stored() -> None:
    assert StixObject.objects.count() == 0
    assert not AuditEntry.objects.filter(action="import").exists()


def deep_bundle(levels: int, before: int = 3) -> bytes:
    """Valid objects first (they must not be stored), then one object holding ``levels`` nested arrays."""
    head = json.dumps(bundle(*[indicator(f"198.51.100.{i}") for i in range(before)]))[:-2].encode()
    deep = b'{"type": "x-deep", "x": ' + b"[" * levels + b"]" * levels + b"}"
    return head + b", " + deep + b"]}"


def timed(call: Any) -> tuple[Any, float]:
    start = time.process_time()
    result = call()
    return result, time.process_time() - start


def test_api_refuses_a_bundle_nested_50000_deep_at_once_with_nothing_stored(jpn_user: Any, api_for: Any) -> None:
    body = deep_bundle(50_000)
    assert len(body) > 100_000
    client = api_for(jpn_user)
    post_bundle(client, "{}")  # the first request builds the OpenAPI document the test client checks answers against
    response, cpu = timed(lambda: post_bundle(client, body.decode()))
    assert response.status_code == 400, response.content
    assert "nested more than 100 levels deep" in response.json()["message"]
    assert cpu < CPU_LIMIT
    nothing_stored()


def test_api_refuses_too_many_objects_413(jpn_user: Any, api_for: Any, settings: Any) -> None:
    settings.KIZUNA_STIX_MAX_BUNDLE_OBJECTS = 5
    response = post_bundle(api_for(jpn_user), bundle(*[indicator(f"198.51.100.{i}") for i in range(6)]))
    assert response.status_code == 413, response.content
    assert "more than 5 objects" in response.json()["message"]
    nothing_stored()


def test_api_refuses_a_body_over_the_bundle_size_413(jpn_user: Any, api_for: Any, settings: Any) -> None:
    settings.KIZUNA_STIX_MAX_BUNDLE_BYTES = 500
    response = post_bundle(api_for(jpn_user), bundle(*[indicator(f"198.51.100.{i}") for i in range(6)]))
    assert response.status_code == 413, response.content
    assert "larger than" in response.json()["message"]
    nothing_stored()


def test_a_too_long_string_rejects_its_object_and_the_rest_imports(jpn_user: Any) -> None:
    good, other = indicator(), malware()
    data = json.dumps(bundle(good, indicator("198.51.100.9", description="?"), other)).encode()
    data = data.replace(b'"description": "?"', b'"description": "' + b"a" * 20_000_000 + b'"')
    summary, cpu = timed(lambda: services.do_import_bundle(jpn_user, io.BytesIO(data), "t", IP4))
    assert cpu < CPU_LIMIT
    assert (summary.accepted, summary.rejected) == (2, 1)
    assert summary.errors[0].index == 1
    assert summary.errors[0].reason.startswith("string too long: description holds a string longer than")
    assert summary.rejected_by_reason == {"string too long": 1}
    assert set(StixObject.objects.values_list("stix_id", flat=True)) == {good["id"], other["id"]}


def test_a_too_long_escaped_string_and_key_are_rejected(jpn_user: Any, settings: Any) -> None:
    settings.KIZUNA_JSON_MAX_STRING_BYTES = 1000
    data = json.dumps(bundle(indicator(description="\"" * 2000), indicator(**{"x_" + "k" * 2000: 1}),
                             indicator())).encode()
    summary = services.do_import_bundle(jpn_user, io.BytesIO(data), "t", IP4)
    assert (summary.accepted, summary.rejected) == (1, 2)
    assert all(e.reason.startswith("string too long") for e in summary.errors)


def test_an_object_over_the_object_size_is_rejected_alone(jpn_user: Any, settings: Any) -> None:
    settings.KIZUNA_STIX_MAX_OBJECT_BYTES = 5000
    data = json.dumps(bundle(indicator(labels=["x" * 900] * 10), indicator())).encode()
    summary = services.do_import_bundle(jpn_user, io.BytesIO(data), "t", IP4)
    assert (summary.accepted, summary.rejected) == (1, 1)
    assert summary.errors[0].reason.startswith("object too large")


def test_the_child_process_parser_applies_the_same_limits(jpn_user: Any, settings: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer_module, "PARALLEL_MIN_BYTES", 0)
    settings.KIZUNA_JSON_MAX_STRING_BYTES = 1000
    data = json.dumps(bundle(indicator(description="a" * 5000), indicator())).encode()
    summary = services.do_import_bundle(jpn_user, io.BytesIO(data), "t", IP4)
    assert (summary.accepted, summary.rejected) == (1, 1)
    assert summary.errors[0].reason.startswith("string too long")
    summary, cpu = timed(lambda: services.do_import_bundle(jpn_user, io.BytesIO(deep_bundle(50_000)), "t", IP4))
    assert summary.refused_status == 400 and "nested more than" in summary.stream_error
    assert cpu < CPU_LIMIT
    assert StixObject.objects.count() == 1


class OneWay(io.RawIOBase):
    """A stream that cannot be rewound (the in-stream check, not the scan before the import)."""

    def __init__(self, data: bytes) -> None:
        self.inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self.inner.read(size)


def test_a_stream_that_cannot_be_rewound_stops_at_the_deep_part(jpn_user: Any) -> None:
    summary, cpu = timed(lambda: services.do_import_bundle(jpn_user, OneWay(deep_bundle(100_000)), "t", IP4))
    assert cpu < CPU_LIMIT
    assert summary.refused_status == 400 and "nested more than 100 levels deep" in summary.stream_error


@pytest.mark.django_db(transaction=True)
def test_import_job_of_a_deep_file_fails_with_a_readable_reason(jpn_user: Any, tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_bytes(deep_bundle(50_000))
    start = time.process_time()
    job = services.start_import_job(jpn_user, path, "deep.json", IP4)
    services.join_import_job(job.pk, timeout=60)
    job.refresh_from_db()
    assert time.process_time() - start < CPU_LIMIT  # the job runs in a thread of this process
    assert job.status == ImportStatus.FAILED
    assert "nested more than 100 levels deep" in job.message and "nothing was imported" in job.message
    assert ImportJob.objects.count() == 1
    nothing_stored()


@pytest.mark.parametrize("body, expected", [
    (b'{"title": "x", "body": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested more than"),
    (b'{"title": "x", "body": "' + b"a" * 1_500_000 + b'"}', "string is longer than"),
    (b"[" * 900_000, "nested more than"),
])
def test_every_json_body_is_bounded_400(jpn_user: Any, api_for: Any, body: bytes, expected: str) -> None:
    client = api_for(jpn_user)
    client.post("reports", raw=b"{}")  # the first request builds the OpenAPI document the test client checks with
    response, cpu = timed(lambda: client.post("reports", raw=body))
    assert response.status_code == 400, response.content
    assert expected in response.json()["message"]
    assert cpu < CPU_LIMIT


def test_cli_import_of_a_deep_file_is_refused_with_the_reason(jpn_user: Any, tmp_path: Path) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    path = tmp_path / "deep.json"
    path.write_bytes(deep_bundle(50_000))
    start = time.process_time()
    with pytest.raises(CommandError, match=r"nested more than 100 levels deep.*nothing was imported"):
        call_command("stix", "import", str(path), "--user", "hanako", "--releasable-to", "NATO,IP4",
                     "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())
    assert time.process_time() - start < CPU_LIMIT
    nothing_stored()


def test_a_default_label_nested_deep_is_a_400_not_a_500(jpn_user: Any, api_for: Any) -> None:
    response = api_for(jpn_user).post("stix/bundles", raw=json.dumps(bundle(indicator())),
                                      HTTP_X_KIZUNA_DEFAULT_LABEL="[" * 5000)
    assert response.status_code == 400 and response.json()["field"] == "label"
    nothing_stored()


@pytest.mark.django_db(transaction=True)
def test_a_deep_misp_file_fails_its_job_with_the_reason(jpn_user: Any, tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    path.write_bytes(b'{"Event": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    job = services.start_import_job(jpn_user, path, "event.json", IP4, fmt="misp")
    services.join_import_job(job.pk, timeout=60)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and "nested too deep" in job.message
    nothing_stored()


def test_an_upload_over_the_bundle_size_is_refused_at_once(jpn_user: Any, tmp_path: Path, settings: Any) -> None:
    from kizuna.core.errors import ServiceError

    settings.KIZUNA_STIX_MAX_BUNDLE_BYTES = 100
    path = tmp_path / "big.json"
    path.write_bytes(json.dumps(bundle(indicator())).encode())
    with pytest.raises(ServiceError, match="larger than this node accepts"):
        services.start_import_job(jpn_user, path, "big.json", IP4)
    assert ImportJob.objects.count() == 0
