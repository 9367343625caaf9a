"""The STIX resources of the REST API: import (at once when small, as a job when large), jobs visible to their owner
only, export streamed and filtered by label, objects listed/read/versioned with 404 for anything not visible, every
answer documented in the OpenAPI document, reads audited."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from stix2validator import ValidationOptions, validate_string

from kizuna.core.models import AuditEntry, label_id_for
from kizuna.threats import services
from kizuna.threats.markings import label_marking, label_marking_id
from kizuna.threats.models import ImportJob, StixObject
from tests.api.conftest import Api
from tests.conftest import make_label
from tests.threats.test_queries_fixtures import T0, put, relate, sight

IP4 = make_label(releasable_to=["NATO", "IP4"])
JPN_ONLY = make_label(releasable_to=["JPN"])

pytestmark = pytest.mark.django_db


def indicator(value: str = "198.51.100.7", **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}", "created": T0, "modified": T0,
        "name": f"Bad address {value}", "pattern": f"[ipv4-addr:value = '{value}']", "pattern_type": "stix",
        "valid_from": T0, **extra,
    }


def bundle(*objects: dict[str, Any]) -> dict[str, Any]:
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(objects)}


def post_bundle(client: Api, body: Any, label: Any = IP4, **kw: Any) -> Any:
    query = "" if label is None else "?label=" + json.dumps(label.as_api())
    raw = body if isinstance(body, str) else json.dumps(body)
    return client.post(f"stix/bundles{query}", raw=raw, **kw)


def test_small_bundle_is_imported_at_once_and_the_summary_returned(jpn_user: Any, api_for: Any) -> None:
    good, bad = indicator(), indicator(pattern="[ipv4-addr:value = ")
    response = post_bundle(api_for(jpn_user), bundle(good, bad))
    assert response.status_code == 200, response.content
    summary = response.json()
    assert (summary["accepted"], summary["rejected"]) == (1, 1)
    assert summary["accepted_ids"] == [good["id"]]
    assert summary["errors"][0]["index"] == 1 and summary["errors"][0]["id"] == bad["id"]
    assert StixObject.objects.filter(stix_id=good["id"], is_current=True).exists()


def test_the_same_bundle_twice_changes_nothing(jpn_user: Any, api_for: Any) -> None:
    client, body = api_for(jpn_user), bundle(indicator())
    post_bundle(client, body)
    again = post_bundle(client, body).json()
    assert (again["accepted"], again["unchanged"]) == (0, 1)


def test_default_label_may_come_in_a_header(jpn_user: Any, api_for: Any) -> None:
    response = post_bundle(api_for(jpn_user), bundle(indicator()), label=None,
                           HTTP_X_KIZUNA_DEFAULT_LABEL=json.dumps(JPN_ONLY.as_api()))
    assert response.status_code == 200
    assert StixObject.objects.get().label_id == label_id_for(JPN_ONLY)


@pytest.mark.parametrize("query, field", [("", "label"), ("?label=nope", "label"),
                                          ('?label={"policy":"NATO"}', "label")])
def test_missing_or_bad_default_label_is_400(jpn_user: Any, api_for: Any, query: str, field: str) -> None:
    response = api_for(jpn_user).post(f"stix/bundles{query}", raw=json.dumps(bundle(indicator())))
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert not StixObject.objects.exists()


def test_default_label_the_importer_could_not_see_is_refused(kor_user: Any, api_for: Any) -> None:
    response = post_bundle(api_for(kor_user), bundle(indicator()), label=JPN_ONLY)
    assert response.status_code == 400
    assert not StixObject.objects.exists()


def test_broken_json_is_a_readable_400(jpn_user: Any, api_for: Any) -> None:
    response = post_bundle(api_for(jpn_user), '{"type": "bundle", "objects": [')
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert response.json()["message"]
    else:
        assert response.json()["stream_error"]


@pytest.mark.django_db(transaction=True)
def test_large_bundle_runs_as_a_job_the_owner_can_poll_and_others_cannot(
    jpn_user: Any, kor_user: Any, api_for: Any, monkeypatch: Any, settings: Any, tmp_path: Any
) -> None:
    from kizuna.threats import api as stix_api

    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(stix_api, "SYNC_LIMIT", 100)
    monkeypatch.setattr(stix_api, "_READ", 64)
    owner = api_for(jpn_user)
    response = post_bundle(owner, bundle(*(indicator(f"198.51.100.{i}") for i in range(5))))
    assert response.status_code == 202, response.content
    url = response.json()["url"]
    assert response["Location"] == url
    job_id = response.json()["job"]
    services.join_import_job(job_id, timeout=30)
    stix_api_threads_done(job_id)
    polled = owner.get(url)
    assert polled.status_code == 200
    assert polled.json()["status"] == "done" and polled.json()["accepted"] == 5
    other = api_for(kor_user).get(url)
    missing = owner.get(f"stix/imports/{job_id + 1000}")
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()
    assert not list((tmp_path / "imports").glob("*.json"))  # the spooled upload is removed


def stix_api_threads_done(job_id: int) -> None:
    import threading

    for thread in threading.enumerate():
        if thread.name == f"kizuna-import-{job_id}-cleanup":
            thread.join(10)
    assert ImportJob.objects.get(pk=job_id).finished_at is not None


def test_export_streams_a_valid_bundle_of_only_what_the_caller_may_see(
    jpn_user: Any, kor_user: Any, api_for: Any
) -> None:
    shared, japanese = put("malware", IP4), put("malware", JPN_ONLY)
    rel = relate(japanese, shared, IP4)
    for user, expected, absent in ((jpn_user, {shared, japanese, rel}, set()),
                                   (kor_user, {shared}, {japanese, rel})):
        response = api_for(user).get("stix/bundles")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/stix+json;version=2.1"
        text = b"".join(response.streaming_content).decode()
        assert validate_string(text, ValidationOptions(version="2.1")).is_valid
        got = {o["id"] for o in json.loads(text)["objects"]}
        assert {o.stix_id for o in expected} <= got
        assert not {o.stix_id for o in absent} & got
        assert (label_marking_id(JPN_ONLY) in got) == (user is jpn_user)


def test_export_filters_by_type_and_id(jpn_user: Any, api_for: Any) -> None:
    m1, m2, i = put("malware", IP4), put("malware", IP4), put("indicator", IP4)
    client = api_for(jpn_user)

    def ids(query: str) -> set[str]:
        text = b"".join(client.get(f"stix/bundles{query}").streaming_content)
        return {o["id"] for o in json.loads(text)["objects"]} & {m1.stix_id, m2.stix_id, i.stix_id}

    assert ids("?type=malware") == {m1.stix_id, m2.stix_id}
    assert ids(f"?id={m1.stix_id},{i.stix_id}") == {m1.stix_id, i.stix_id}
    assert ids(f"?id={m1.stix_id}&id={m2.stix_id}&type=malware") == {m1.stix_id, m2.stix_id}
    assert ids("?added_after=2999-01-01T00:00:00Z") == set()


def test_export_with_a_bad_timestamp_is_400(jpn_user: Any, api_for: Any) -> None:
    response = api_for(jpn_user).get("stix/bundles?added_after=soon")
    assert response.status_code == 400 and response.json()["field"] == "added_after"


def test_list_shows_only_visible_objects_and_pages(jpn_user: Any, kor_user: Any, api_for: Any) -> None:
    made = [put("malware", IP4) for _ in range(3)]
    put("malware", JPN_ONLY)
    client = api_for(kor_user)
    first = client.get("stix/objects?limit=2").json()
    second = client.get(f"stix/objects?limit=2&cursor={first['next_cursor']}").json()
    assert second["next_cursor"] is None
    assert {o["id"] for o in first["items"] + second["items"]} == {m.stix_id for m in made}
    assert first["items"][0]["label"] == IP4.as_api()


def test_list_by_type_value_and_name(jpn_user: Any, kor_user: Any, api_for: Any) -> None:
    hit = put("indicator", IP4, values=[("ipv4-addr", "203.0.113.5")])
    put("indicator", JPN_ONLY, values=[("ipv4-addr", "203.0.113.5")])
    put("malware", IP4)
    client = api_for(kor_user)
    assert [o["id"] for o in client.get("stix/objects?value=203.0.113.5").json()["items"]] == [hit.stix_id]
    assert [o["id"] for o in client.get("stix/objects?type=indicator").json()["items"]] == [hit.stix_id]
    assert [o["id"] for o in client.get("stix/objects?q=bad+addr").json()["items"]] == [hit.stix_id]


def test_detail_has_the_stored_object_label_originator_and_also_reported_by(
    jpn_user: Any, kor_user: Any, api_for: Any
) -> None:
    mine = put("indicator", IP4, "KOR-MND", values=[("ipv4-addr", "192.0.2.1")])
    theirs = put("indicator", IP4, "JPN-MOD", values=[("ipv4-addr", "192.0.2.1")])
    put("indicator", JPN_ONLY, "JPN-MOD", values=[("ipv4-addr", "192.0.2.1")])
    body = api_for(kor_user).get(f"stix/objects/{mine.stix_id}").json()
    assert body["object"] == json.loads(mine.data)
    assert body["label"] == IP4.as_api() and body["originator"]["code"] == "KOR-MND"
    assert [(a["id"], a["originator"]["code"]) for a in body["also_reported_by"]] == [(theirs.stix_id, "JPN-MOD")]


def test_versions_each_under_its_own_label(jpn_user: Any, kor_user: Any, api_for: Any) -> None:
    first = put("malware", JPN_ONLY, modified="2026-02-01T00:00:00.000Z", is_current=False)
    put("malware", IP4, stix_id=first.stix_id, modified="2026-02-02T00:00:00.000Z")
    assert [v["modified"] for v in api_for(kor_user).get(f"stix/objects/{first.stix_id}/versions").json()] == [
        "2026-02-02T00:00:00.000Z"]
    assert len(api_for(jpn_user).get(f"stix/objects/{first.stix_id}/versions").json()) == 2


def _hidden_cases() -> dict[str, Any]:
    """Objects a Korean reader may not see, each built by a function of no arguments."""
    return {
        "released to Japan only": lambda: put("malware", JPN_ONLY),
        "relationship to an object released to Japan only": lambda: relate(put("malware", IP4),
                                                                           put("malware", JPN_ONLY), IP4),
        "relationship to a missing object": lambda: relate(put("malware", IP4),
                                                           "malware--12345678-1234-4234-8234-123456789012", IP4),
        "sighting of an object released to Japan only": lambda: sight(put("indicator", JPN_ONLY), IP4),
    }


@pytest.mark.parametrize("case", list(_hidden_cases()))
def test_every_endpoint_answers_the_same_404_for_hidden_and_missing(
    case: str, kor_user: Any, api_for: Any
) -> None:
    hidden = _hidden_cases()[case]()
    client = api_for(kor_user)
    missing_id = f"{hidden.type}--00000000-0000-4000-8000-000000000000"
    for suffix in ("", "/versions"):
        shown = client.get(f"stix/objects/{hidden.stix_id}{suffix}")
        missing = client.get(f"stix/objects/{missing_id}{suffix}")
        assert shown.status_code == missing.status_code == 404
        assert shown.json() == missing.json() == {"message": "not found"}
    listed = {o["id"] for o in client.get("stix/objects?limit=200").json()["items"]}
    assert hidden.stix_id not in listed
    exported = b"".join(client.get("stix/bundles").streaming_content).decode()
    assert hidden.stix_id not in exported


def test_reads_are_audited_with_the_object_ids(jpn_user: Any, api_for: Any) -> None:
    obj = put("malware", IP4)
    client = api_for(jpn_user)
    client.get(f"stix/objects/{obj.stix_id}")
    client.get("stix/objects")
    b"".join(client.get("stix/bundles?type=malware").streaming_content)
    entries = list(AuditEntry.objects.filter(target_type="stix").values_list("action", "target_ids", "actor"))
    assert ("read", obj.stix_id, "hanako") in entries
    assert ("list", obj.stix_id, "hanako") in entries
    assert any(action == "export" for action, _, _ in entries)


def test_every_endpoint_needs_a_token(anonymous: Any) -> None:
    for path in ("stix/objects", "stix/bundles", "stix/objects/malware--x", "stix/imports/1"):
        assert anonymous.get(path).status_code == 401
    assert anonymous.post("stix/bundles", raw="{}").status_code == 401


def test_an_export_carries_the_label_a_receiver_can_import_back(jpn_user: Any, api_for: Any) -> None:
    """Round trip: the label marking the export adds is the one the importer reads, so a federated copy keeps it."""
    put("malware", JPN_ONLY)
    text = b"".join(api_for(jpn_user).get("stix/bundles").streaming_content).decode()
    exported = json.loads(text)
    assert label_marking(JPN_ONLY) in exported["objects"]


@pytest.mark.django_db(transaction=True)
def test_a_body_larger_than_the_nodes_form_limit_is_streamed_not_refused(
    jpn_user: Any, api_for: Any, settings: Any, tmp_path: Any
) -> None:
    """3 MiB, over DATA_UPLOAD_MAX_MEMORY_SIZE (2 MiB): the upload is read as a stream, never as request.body."""
    settings.DATA_DIR = tmp_path
    body = bundle(*(indicator(f"198.51.100.{i}", description="x" * 60_000) for i in range(52)))
    raw = json.dumps(body)
    assert len(raw) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = post_bundle(api_for(jpn_user), raw)
    assert response.status_code == 202, response.content
    services.join_import_job(response.json()["job"], timeout=60)
    stix_api_threads_done(response.json()["job"])
    assert ImportJob.objects.get(pk=response.json()["job"]).accepted == 52
