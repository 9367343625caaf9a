"""/metrics: the Prometheus text format, served to the node itself or with the metrics token only; requests counted
by route name (never the path), import queue depth and age, objects imported, sync lag per peer."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from kizuna.federation import keys, peers
from kizuna.federation.models import SyncCursor
from kizuna.ops import metrics
from kizuna.threats.models import ImportJob, ImportStatus

pytestmark = pytest.mark.django_db

OUTSIDE = "192.0.2.44"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    return samples(text)[(name, tuple(sorted(labels.items())))]


def test_metrics_answer_the_node_itself_in_the_text_format(client: Client) -> None:
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "# TYPE kizuna_http_requests_total counter" in text
    assert "# TYPE kizuna_http_request_duration_seconds histogram" in text
    assert "kizuna_import_jobs" in text


@pytest.mark.parametrize("remote", [OUTSIDE, "10.0.0.8", "2001:db8::1"])
def test_anonymous_scrapes_from_elsewhere_are_refused(client: Client, remote: str) -> None:
    response = client.get("/metrics", REMOTE_ADDR=remote)
    assert response.status_code == 403
    assert b"kizuna_" not in response.content


def test_a_forwarded_for_header_does_not_make_a_client_local(client: Client, settings: Any) -> None:
    settings.KIZUNA_BEHIND_PROXY = True
    # The proxy on the loopback address appended the real client's address last.
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=f"127.0.0.1, {OUTSIDE}")
    assert response.status_code == 403


@pytest.mark.parametrize("header", ["HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP"])
def test_a_proxy_the_node_was_not_told_of_does_not_make_its_clients_local(client: Client, settings: Any,
                                                                         header: str) -> None:
    settings.KIZUNA_BEHIND_PROXY = False
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", **{header: OUTSIDE}).status_code == 403


def test_behind_the_proxy_a_scrape_on_the_loopback_address_is_still_local(client: Client, settings: Any) -> None:
    settings.KIZUNA_BEHIND_PROXY = True
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="::1").status_code == 200


def test_the_metrics_token_opens_metrics_from_elsewhere(client: Client, settings: Any) -> None:
    settings.KIZUNA_METRICS_TOKEN = "s3cret-scrape-token"
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE).status_code == 403
    response = client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")
    assert response.status_code == 200
    assert b"kizuna_http_requests_total" in response.content


def test_no_token_setting_means_no_token_opens_it(client: Client, settings: Any) -> None:
    settings.KIZUNA_METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_requests_are_counted_by_route_name_never_by_path(signed_in: Client) -> None:
    before = metrics.REQUESTS.labels("GET", "reports:detail", "404")._value.get()
    signed_in.get("/reports/12345/")
    signed_in.get("/reports/67890/")
    text = signed_in.get("/metrics").content.decode()

    assert value(text, "kizuna_http_requests_total", method="GET", route="reports:detail", status="404") == before + 2
    # In the labels, not the whole text: a sample's value (a float timestamp) may hold the same digits by chance.
    label_values = {v for (_name, labels) in samples(text) for (_key, v) in labels}
    assert not any("12345" in v or "67890" in v for v in label_values)
    assert value(text, "kizuna_http_request_duration_seconds_count", method="GET", route="reports:detail") >= 2


def test_a_name_several_api_operations_share_is_told_apart_by_its_route_pattern(client: Client) -> None:
    client.get("/api/v1/reports/98765")  # no token: refused, but counted under the operation, not the id
    text = client.get("/metrics").content.decode()
    routes = {dict(labels).get("route") for (name, labels) in samples(text) if name == "kizuna_http_requests_total"}
    assert "api:read api/v1/reports/<id>" in routes
    assert not any("98765" in v for (_name, labels) in samples(text) for (_key, v) in labels)


def test_labels_stay_bounded_whatever_the_request(client: Client) -> None:
    client.generic("BREW", "/no/such/page/with-a-title-like-Секрет")
    client.get("/reports/42/edit/")  # anonymous: redirected to sign in before any view runs
    text = client.get("/metrics").content.decode()
    routes = {dict(labels).get("route") for (name, labels) in samples(text) if name == "kizuna_http_requests_total"}
    methods = {dict(labels).get("method") for (name, labels) in samples(text) if name == "kizuna_http_requests_total"}
    assert "<unmatched>" in routes and "reports:edit" in routes
    assert "BREW" not in methods and "other" in methods
    assert not any("no/such" in route or "Секрет" in route or "42" in route for route in routes if route)
    assert "Секрет" not in text


def test_the_import_queue_depth_age_and_objects_imported(client: Client, jpn_user: Any) -> None:
    old = ImportJob.objects.create(user=jpn_user, source="a.json", status=ImportStatus.QUEUED, default_label_key="k")
    ImportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    ImportJob.objects.create(user=jpn_user, source="b.json", status=ImportStatus.QUEUED, default_label_key="k")
    ImportJob.objects.create(user=jpn_user, source="c.json", status=ImportStatus.RUNNING, default_label_key="k",
                             accepted=5)
    ImportJob.objects.create(user=jpn_user, source="d.json", status=ImportStatus.DONE, default_label_key="k",
                             accepted=100, unchanged=7, rejected=3)

    text = client.get("/metrics").content.decode()

    assert value(text, "kizuna_import_jobs", status="queued") == 2
    assert value(text, "kizuna_import_jobs", status="running") == 1
    assert 590 < value(text, "kizuna_import_job_oldest_age_seconds", status="queued") < 700
    assert value(text, "kizuna_import_objects_total", outcome="accepted") == 105
    assert value(text, "kizuna_import_objects_total", outcome="rejected") == 3
    assert "a.json" not in text  # job sources are user input: never a label


def _peer(name: str, *, taxii_url: str = "http://127.0.0.1:9/root/") -> Any:
    raw = keys.public_raw(Ed25519PrivateKey.generate())
    return peers.add_peer(name, f"identity--{uuid.uuid4()}", nations=["JPN"], public_keys=[base64.b64encode(raw).decode()],
                          taxii_url=taxii_url, credential="kz_x" if taxii_url else "", actor="test")


def test_sync_lag_per_enabled_peer(client: Client, make_user: Any) -> None:
    make_user("hanako")
    fresh, stale, never = _peer("jpn-node"), _peer("kor-node"), _peer("aus-node")
    _peer("keys-only", taxii_url="")  # never pulled: no lag to speak of
    off = _peer("off-node")
    off.enabled = False
    off.save()
    now = timezone.now()
    SyncCursor.objects.create(peer=fresh, collection="c1", last_success=now - timedelta(seconds=30), received=12)
    SyncCursor.objects.create(peer=stale, collection="c1", last_success=now - timedelta(hours=2))
    never.created_at = now - timedelta(hours=5)
    never.save()

    text = client.get("/metrics").content.decode()

    assert 29 < value(text, "kizuna_sync_lag_seconds", peer="jpn-node") < 90
    assert 7190 < value(text, "kizuna_sync_lag_seconds", peer="kor-node") < 7300
    assert value(text, "kizuna_sync_lag_seconds", peer="aus-node") > 5 * 3600 - 10
    assert value(text, "kizuna_sync_objects_total", peer="jpn-node", outcome="received") == 12
    lagging = {dict(labels)["peer"] for (name, labels) in samples(text) if name == "kizuna_sync_lag_seconds"}
    assert lagging == {"jpn-node", "kor-node", "aus-node"}


def test_metrics_still_answer_when_the_database_does_not(client: Client) -> None:
    from unittest import mock

    from django.db.utils import OperationalError

    with mock.patch.object(ImportJob.objects, "filter", side_effect=OperationalError("down")):
        response = client.get("/metrics")
    assert response.status_code == 200
    text = response.content.decode()
    assert value(text, "kizuna_database_up") == 0
    assert "kizuna_http_requests_total" in text and "kizuna_import_jobs" not in text
    assert value(client.get("/metrics").content.decode(), "kizuna_database_up") == 1


def test_probes_and_metrics_are_not_redirected_to_https(client: Client, settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/metrics").status_code == 200
    assert client.get("/login/").status_code == 301


def test_the_job_queue_depth_and_oldest_ready_age_by_queue_and_state(client: Client, tmp_path: Any) -> None:
    from django_tasks_db.models import DBTaskResult

    from kizuna.jobs import queue
    from tests.jobs.tasks import record

    first = queue.enqueue(record.using(queue_name="imports"), 1, str(tmp_path / "runs.txt"))
    DBTaskResult.objects.filter(pk=first).update(enqueued_at=timezone.now() - timedelta(minutes=10))
    queue.enqueue(record.using(queue_name="imports"), 2, str(tmp_path / "runs.txt"))
    queue.enqueue(record.using(queue_name="imports", run_after=timezone.now() + timedelta(hours=1)), 3, "x")
    running = queue.claim("worker-a", queues=["imports"])  # the oldest is claimed first: the ready one left is new
    assert running is not None and str(running.pk) == first

    text = client.get("/metrics").content.decode()

    assert value(text, "kizuna_jobs", queue="imports", state="ready") == 1
    assert value(text, "kizuna_jobs", queue="imports", state="scheduled") == 1
    assert value(text, "kizuna_jobs", queue="imports", state="running") == 1
    assert value(text, "kizuna_jobs", queue="federation", state="ready") == 0  # every queue, zero when empty
    assert value(text, "kizuna_job_oldest_age_seconds", queue="imports", state="ready") < 60
    assert value(text, "kizuna_job_oldest_age_seconds", queue="imports", state="running") < 60  # since it started

    DBTaskResult.objects.filter(status="RUNNING").update(status="READY")  # ten minutes in the queue, ready again
    text = client.get("/metrics").content.decode()
    assert 590 < value(text, "kizuna_job_oldest_age_seconds", queue="imports", state="ready") < 700


def test_audit_entries_waiting_to_be_sealed_and_the_oldest_ones_age(client: Client) -> None:
    from kizuna.core import audit
    from kizuna.core.models import AuditEntry

    audit.seal()
    assert value(client.get("/metrics").content.decode(), "kizuna_audit_unsealed_entries") == 0
    entry = audit.record("hanako", "read", "report", [1])
    AuditEntry.objects.filter(pk=entry.pk).update(at=timezone.now() - timedelta(minutes=10))
    text = client.get("/metrics").content.decode()  # the scrape itself is not audited
    assert value(text, "kizuna_audit_unsealed_entries") == 1
    assert 590 < value(text, "kizuna_audit_unsealed_age_seconds") < 700
    audit.seal()
    text = client.get("/metrics").content.decode()
    assert (value(text, "kizuna_audit_unsealed_entries"), value(text, "kizuna_audit_unsealed_age_seconds")) == (0, 0)
