"""Reports travel over federation as ``kizuna-report`` objects: every write stores the report's STIX form as a new
version under its label (withdrawal as a revoked version), TAXII serves it only to those the label allows, and a
report object received through a real sync (from a medallion TAXII server, signed by a remote node) becomes a local,
read-only Report with the label it carried — once, however often it is read again — and is withdrawn when its
originator withdraws it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from kizuna.core.access import label_of
from kizuna.core.errors import ServiceError
from kizuna.core.models import Version
from kizuna.directory.services import create_token
from kizuna.federation import services as node_services
from kizuna.federation import signing, sync
from kizuna.federation.models import Peer
from kizuna.federation.taxii.collections import collections
from kizuna.reports.models import Report, ReportStatus
from kizuna.reports.services import (
    ReportInput,
    do_create_report,
    do_publish_all,
    do_update_report,
    do_withdraw_report,
    may_edit,
)
from kizuna.reports.stix import (
    REPORT_EXTENSION_ID,
    REPORT_TYPE,
    report_extension_definition,
    stix_id_of,
)
from kizuna.threats.markings import label_marking, label_marking_id
from kizuna.threats.models import StixObject
from kizuna.threats.validate import timestamp_key, validate_object
from tests.conftest import make_label
from tests.federation.test_sync_medallion import RemoteNode, medallion, post, remote  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

TAXII = "application/taxii+json;version=2.1"
EVERYTHING = collections()[0].id
REPORTS = "6b697a75-6e61-4000-8000-000000000006"
SHARED = make_label(releasable_to=["NATO", "IP4"])
JPN_ONLY = make_label(releasable_to=["JPN"])


@pytest.fixture(autouse=True)
def _own_data_dir(settings: Any, tmp_path: Path) -> Path:
    """Node keys are made on first use: each test keeps its own."""
    settings.DATA_DIR = tmp_path
    return tmp_path


def _create(user: Any, label: Any = SHARED, **extra: Any) -> Report:
    return do_create_report(user, ReportInput(title="Port visit", label=label, body="# Findings\n\nCalm seas.",
                                              focus_areas=["maritime", "cyber"], **extra))


def _versions(report: Report) -> list[StixObject]:
    return list(StixObject.objects.filter(stix_id=stix_id_of(report)).order_by("pk"))


def _current(report: Report) -> tuple[StixObject, dict[str, Any]]:
    row = StixObject.objects.get(stix_id=stix_id_of(report), is_current=True)
    return row, json.loads(row.data)


def _taxii(path: str, user: Any, **params: Any) -> Any:
    return Client().get(path, params, HTTP_ACCEPT=TAXII, HTTP_AUTHORIZATION=f"Bearer {create_token(user)[1]}")


# ---- out ------------------------------------------------------------------------------------------------------------


def test_creating_a_report_stores_its_stix_form_under_the_same_label(jpn_user: Any) -> None:
    report = _create(jpn_user)

    [row] = _versions(report)
    obj = json.loads(row.data)
    assert row.is_current and row.type == REPORT_TYPE and not row.revoked
    assert row.label_id == report.label_id and row.originator_id == report.originator_id
    assert obj["id"] == f"kizuna-report--{report.uuid}"
    assert (obj["name"], obj["body"], obj["kind"], obj["status"]) == (
        "Port visit", "# Findings\n\nCalm seas.", "report", "published")
    assert obj["focus_areas"] == ["cyber", "maritime"] and obj["body_format"] == "markdown"
    assert obj["extensions"] == {REPORT_EXTENSION_ID: {"extension_type": "new-sdo"}}
    assert validate_object(obj) is None
    # The OASIS validator accepts it too: a new SDO declared by an extension-definition, no x- prefix needed.
    from stix2validator import ValidationOptions, validate_instance

    result = validate_instance(obj, ValidationOptions(version="2.1"))
    assert result.is_valid, [str(e) for e in result.errors]
    assert validate_instance(report_extension_definition(), ValidationOptions(version="2.1")).is_valid


def test_editing_and_relabelling_make_new_versions(jpn_user: Any) -> None:
    report = _create(jpn_user)
    report = do_update_report(jpn_user, report, body="Rough seas.")
    report = do_update_report(jpn_user, report, label=JPN_ONLY)

    versions = _versions(report)
    assert len(versions) == 3 and [v.is_current for v in versions] == [False, False, True]
    keys = [timestamp_key(v.modified) for v in versions]
    assert keys == sorted(keys) and len(set(keys)) == 3  # each version strictly later, even within a millisecond
    row, obj = _current(report)
    assert obj["body"] == "Rough seas." and obj["report_version"] == 3
    assert row.label_id == report.label_id and label_of(row.label) == JPN_ONLY
    assert label_of(versions[0].label) == SHARED  # older versions keep the label they had


def test_withdrawing_makes_a_revoked_version(jpn_user: Any) -> None:
    report = _create(jpn_user)
    do_withdraw_report(jpn_user, report, reason="superseded by the May assessment")

    row, obj = _current(report)
    assert row.revoked and obj["revoked"] is True
    assert obj["status"] == "withdrawn" and obj["withdrawal_reason"] == "superseded by the May assessment"
    assert len(_versions(report)) == 2


def test_a_refused_stix_form_rolls_the_report_write_back(jpn_user: Any) -> None:
    """The STIX form is written in the report's transaction: if the store refuses it, the report is not changed."""
    report = _create(jpn_user)
    # Another organisation owning the STIX id (as if a peer had issued it): the store's originator rule refuses.
    StixObject.objects.filter(stix_id=stix_id_of(report)).update(originator_id=_other_org())
    with pytest.raises(ServiceError, match="could not be stored for sharing"):
        do_update_report(jpn_user, report, body="changed")
    report.refresh_from_db()
    assert report.body == "# Findings\n\nCalm seas." and report.version == 1


def _other_org() -> int:
    from kizuna.directory.models import Organisation

    return Organisation.objects.exclude(code="JPN-MOD").values_list("pk", flat=True).first()  # type: ignore[return-value]


def test_taxii_serves_a_report_only_to_readers_of_its_label(jpn_user: Any, kor_user: Any) -> None:
    report = _create(jpn_user, label=JPN_ONLY)
    stix_id = stix_id_of(report)

    body = _taxii(f"/taxii2/kizuna/collections/{REPORTS}/objects/", jpn_user).json()
    [served] = [o for o in body["objects"] if o["id"] == stix_id]
    assert label_marking_id(JPN_ONLY) in served["object_marking_refs"]
    assert signing.verify_object(served, node_services.public_keys()).ok
    assert _taxii(f"/taxii2/kizuna/collections/{REPORTS}/objects/{stix_id}/", jpn_user).status_code == 200

    for collection in (REPORTS, EVERYTHING):
        listing = _taxii(f"/taxii2/kizuna/collections/{collection}/objects/", kor_user).json()
        assert stix_id not in {o["id"] for o in listing.get("objects", [])}
        assert _taxii(f"/taxii2/kizuna/collections/{collection}/objects/{stix_id}/", kor_user).status_code == 404
        versions = _taxii(f"/taxii2/kizuna/collections/{collection}/objects/{stix_id}/versions/", kor_user)
        assert versions.status_code == 404
    # The extension-definition that declares the type resolves by id for anyone.
    definition = _taxii(f"/taxii2/kizuna/collections/{EVERYTHING}/objects/{REPORT_EXTENSION_ID}/", kor_user)
    assert definition.json()["objects"] == [report_extension_definition()]


def test_publish_all_backfills_reports_without_a_stix_form_once(jpn_user: Any) -> None:
    first, second = _create(jpn_user), _create(jpn_user)
    StixObject.objects.filter(stix_id__in=[stix_id_of(first), stix_id_of(second)]).delete()

    call_command("report", "publish-stix")

    assert len(_versions(first)) == 1 and len(_versions(second)) == 1
    assert do_publish_all() == (0, [])


# ---- in -------------------------------------------------------------------------------------------------------------


def remote_report(label: Any, *, stix_id: str | None = None, modified: str = "2026-03-01T00:00:00.000Z",
                  withdrawn: bool = False) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": REPORT_TYPE, "spec_version": "2.1", "id": stix_id or f"{REPORT_TYPE}--{uuid.uuid4()}",
        "created": "2026-03-01T00:00:00.000Z", "modified": modified, "name": "Typhoon season lessons",
        "summary": "What worked", "body": "Shared *early*.", "body_format": "markdown", "kind": "best_practice",
        "focus_areas": ["hadr", "unknown-area"], "status": "withdrawn" if withdrawn else "published",
        "report_version": 2 if withdrawn else 1, "object_marking_refs": [label_marking_id(label)],
        "extensions": {REPORT_EXTENSION_ID: {"extension_type": "new-sdo"}},
    }
    if withdrawn:
        obj.update(revoked=True, withdrawal_reason="overtaken by events")
    return obj


def test_a_received_report_becomes_a_local_read_only_report_once_and_its_withdrawal_propagates(
        medallion: str, remote: tuple[RemoteNode, Peer], make_user: Any) -> None:  # noqa: F811 - fixtures
    node, peer = remote
    first = node.sign(remote_report(SHARED))
    post(medallion, [label_marking(SHARED), first])

    [result] = sync.sync_peer(peer)

    assert result.ok, result.error
    report = Report.objects.get(stix_id=first["id"])
    assert label_of(report.label) == SHARED
    assert report.label_id == StixObject.objects.get(stix_id=first["id"]).label_id
    assert report.originator_id == peer.organisation_id and report.author_id == peer.account_id
    assert (report.title, report.kind, report.focus_areas, report.status) == (
        "Typhoon season lessons", "best_practice", ["hadr"], ReportStatus.ACTIVE)
    assert report.created_at.isoformat().startswith("2026-03-01T00:00:00")
    history = Version.objects.filter(content_type="reports.report", object_id=report.pk).count()

    # A second sync (the page read again from the start) changes nothing.
    [again] = sync.sync_peer(peer)
    sync.SyncCursor.objects.filter(peer=peer).update(added_after=None, next_token="")
    [from_start] = sync.sync_peer(peer)
    assert again.ok and from_start.ok and again.received == 0 and from_start.received == 0
    assert Report.objects.filter(stix_id=first["id"]).count() == 1
    report.refresh_from_db()
    assert report.version == 1
    assert Version.objects.filter(content_type="reports.report", object_id=report.pk).count() == history

    # Read-only here: a coordinator of the peer's nation may not change it either.
    coordinator = make_user("kenji", "JPN", "JPN-MOD", role="coordinator")
    assert not may_edit(coordinator, report)
    with pytest.raises(ServiceError, match="received from another node"):
        do_update_report(coordinator, report, title="edited here")
    with pytest.raises(ServiceError, match="received from another node"):
        do_withdraw_report(coordinator, report)

    # The originator withdraws it: the revoked version marks the local copy withdrawn.
    withdrawn = node.sign(remote_report(SHARED, stix_id=first["id"], modified="2026-03-02T00:00:00.000Z",
                                        withdrawn=True))
    post(medallion, [withdrawn])
    [third] = sync.sync_peer(peer)
    assert third.ok and third.received == 1
    report.refresh_from_db()
    assert report.status == ReportStatus.WITHDRAWN and report.withdrawal_reason == "overtaken by events"
    assert report.version == 2 and Report.objects.filter(stix_id=first["id"]).count() == 1


def test_a_received_report_is_hidden_from_users_who_may_not_see_its_label(
        medallion: str, remote: tuple[RemoteNode, Peer], make_user: Any) -> None:  # noqa: F811 - fixtures
    node, peer = remote
    obj = node.sign(remote_report(JPN_ONLY))
    post(medallion, [label_marking(JPN_ONLY), obj])
    [result] = sync.sync_peer(peer)
    assert result.ok, result.error
    report = Report.objects.get(stix_id=obj["id"])
    jpn, kor = make_user("sakura", "JPN", "JPN-MOD"), make_user("minjun", "KOR", "KOR-MND")

    def api(user: Any, path: str) -> Any:
        return Client().get(path, HTTP_AUTHORIZATION=f"Bearer {create_token(user)[1]}")

    assert api(jpn, f"/api/v1/reports/{report.pk}").status_code == 200
    assert report.pk in {r["id"] for r in api(jpn, "/api/v1/reports?status=all").json()["items"]}
    assert api(kor, f"/api/v1/reports/{report.pk}").status_code == 404
    assert report.pk not in {r["id"] for r in api(kor, "/api/v1/reports?status=all").json()["items"]}
    web = Client()
    web.force_login(kor)
    assert web.get(f"/reports/{report.pk}/").status_code == 404
    assert "Typhoon season lessons" not in web.get("/reports/?status=all").content.decode()
