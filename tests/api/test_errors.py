"""Every failure answers JSON ``{"message": ...}`` (with ``"field"`` when known) and the right status: 400 for bad
input, labels and refused writes; 404 for unknown paths; 405 for wrong methods; 500 without internals. A refused
write leaves nothing behind."""

from __future__ import annotations

from typing import Any

import pytest

from kizuna.core.models import AuditEntry
from kizuna.reports.models import Report
from tests.api.conftest import label_api


@pytest.fixture
def api(jpn_user: Any, api_for: Any) -> Any:
    return api_for(jpn_user)


def _nothing_created() -> None:
    assert not Report.objects.exists()
    assert not AuditEntry.objects.filter(action="create").exists()


def test_malformed_json_body_is_a_400(api: Any) -> None:
    response = api.post("reports", raw='{"title": "x", "label": ')
    assert response.status_code == 400
    assert response.json() == {"message": "the request body is not valid JSON"}
    _nothing_created()


@pytest.mark.parametrize(
    ("body", "message", "field"),
    [
        ({}, "title is required; label is required", "title"),
        ([1, 2], None, None),
        ({"title": "x", "label": label_api(releasable_to=["JPN"]), "colour": "red"}, "unknown field colour", "colour"),
        ({"title": 5, "label": label_api(releasable_to=["JPN"])}, None, "title"),
        ({"title": "x", "label": "NATO UNCLASSIFIED"}, None, "label"),
        ({"title": "x", "label": {"policy": "NATO", "classification": "UNCLASSIFIED", "categories": {"releasable_to": "JPN"}}},
         "label.categories.releasable_to: input should be a valid list", "label.categories.releasable_to"),
    ],
)
def test_ill_formed_input_is_a_readable_400(api: Any, body: Any, message: str | None, field: str | None) -> None:
    response = api.post("reports", body)
    assert response.status_code == 400
    data = response.json()
    if message is not None:
        assert data["message"] == message
    assert data.get("field") == field
    assert "Traceback" not in data["message"] and "pydantic" not in data["message"]
    _nothing_created()


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ({"policy": "NATO", "classification": "TOP SECRET"}, "TOP SECRET"),
        ({"policy": "NOPE", "classification": "UNCLASSIFIED"}, "NOPE"),
        ({"policy": "NATO", "classification": "UNCLASSIFIED", "tlp": "PURPLE"}, "PURPLE"),
        ({"policy": "NATO", "classification": "UNCLASSIFIED", "categories": {"releasable_to": ["ATLANTIS"]}}, "ATLANTIS"),
    ],
)
def test_bad_label_is_a_400_naming_the_problem(api: Any, label: dict[str, Any], expected: str) -> None:
    response = api.post("reports", {"title": "x", "label": label})
    assert response.status_code == 400
    assert response.json()["field"] == "label"
    assert expected in response.json()["message"]
    _nothing_created()


@pytest.mark.parametrize(
    "label",
    [
        label_api(releasable_to=["KOR"]),
        label_api(releasable_to=["JPN"], communities=["DISINFO"]),
        label_api(releasable_to=["JPN"], tlp="RED", recipients=["user:somebody"]) | {"categories": {"releasable_to": ["KOR"]}},
    ],
    ids=["other nation", "community the author lacks", "red for another nation"],
)
def test_label_the_caller_could_not_see_is_a_400_and_nothing_is_stored(api: Any, label: dict[str, Any]) -> None:
    response = api.post("reports", {"title": "x", "label": label})
    assert response.status_code == 400
    assert response.json() == {
        "message": "you could not see an item with this label yourself; choose a label that includes you",
        "field": "label",
    }
    _nothing_created()


def test_relabel_into_a_label_the_caller_could_not_see_is_refused(api: Any, jpn_user: Any, report_of: Any) -> None:
    report = report_of(jpn_user, releasable_to=["JPN"])
    response = api.patch(f"reports/{report.pk}", {"label": label_api(releasable_to=["KOR"])})
    assert response.status_code == 400
    assert response.json()["field"] == "label"
    stored = Report.objects.get(pk=report.pk)
    assert (stored.label_id, stored.version) == (report.label_id, 1)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("cursor=not-a-cursor", "cursor"),
        ("limit=0", "limit"),
        ("limit=100000", "limit"),
        ("limit=ten", "limit"),
        ("status=deleted", "status"),
        ("kind=poem", "kind"),
        ("focus_area=underwater-basket-weaving", "focus_area"),
    ],
)
def test_bad_list_parameters_are_a_400_naming_the_parameter(api: Any, query: str, field: str) -> None:
    response = api.get(f"reports?{query}")
    assert response.status_code == 400
    assert response.json()["field"] == field


def test_unknown_service_input_is_a_400(api: Any) -> None:
    response = api.post("reports", {"title": "x", "kind": "poem", "label": label_api(releasable_to=["JPN"])})
    assert response.status_code == 400
    assert response.json()["field"] == "kind"
    _nothing_created()


def test_id_far_beyond_any_row_is_404(api: Any) -> None:
    assert api.get(f"reports/{2**63 + 5}").status_code == 404
    assert api.get(f"reports/{2**62}").status_code == 404


def test_unknown_path_is_a_json_404(api: Any) -> None:
    for path in ("/api/v1/", "/api/v1/nothing/here", "/api/v1/reports/1/nothing"):
        response = api.get(path, check=False)
        assert response.status_code == 404
        assert response.json() == {"message": "not found"}


def test_wrong_method_is_a_json_405_with_allow(api: Any) -> None:
    response = api.call("PUT", "reports", {"title": "x"}, check=False)
    assert response.status_code == 405
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    assert "PUT" in response.json()["message"]


@pytest.mark.parametrize("debug", [False, True])
def test_internal_error_is_a_json_500_without_internals(api: Any, monkeypatch: Any, settings: Any, debug: bool) -> None:
    settings.DEBUG = debug

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret detail of /srv/kizuna internals")

    monkeypatch.setattr("kizuna.reports.api.list_reports", explode)
    response = api.get("reports", check=False)
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert "secret" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert set(response.json()) == {"message"}


def test_openapi_document_is_served_and_declares_bearer_auth(anonymous: Any) -> None:
    response = anonymous.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["components"]["securitySchemes"]["BearerToken"] == {"type": "http", "scheme": "bearer"}
    for path in ("/api/v1/reports", "/api/v1/reports/{id}", "/api/v1/me"):
        assert path in doc["paths"]
    assert set(doc["paths"]["/api/v1/reports/{id}"]) == {"get", "patch", "delete"}


def test_oversized_body_is_a_400_not_a_crash(api: Any, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post("reports", {"title": "x", "body": "a" * 5000, "label": label_api(releasable_to=["JPN"])})
    assert response.status_code == 400
    assert "larger than this node accepts" in response.json()["message"]
    _nothing_created()
