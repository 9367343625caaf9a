"""Bearer tokens: required on every operation, act with their user's rights and never more, and every way of not
having a valid token gets the same 401 — nothing tells an unknown token from a revoked one."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from kizuna.directory.models import ApiToken
from kizuna.directory.services import create_token, revoke_token
from kizuna.reports.models import Report
from tests.api.conftest import Api, label_api

PROTECTED = [
    ("GET", "reports"),
    ("POST", "reports"),
    ("GET", "reports/1"),
    ("PATCH", "reports/1"),
    ("DELETE", "reports/1"),
    ("GET", "reports/1/versions"),
    ("GET", "reports/1/comments"),
    ("POST", "reports/1/comments"),
    ("GET", "reports/1/attachments/1"),
    ("GET", "me"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_every_operation_without_a_token_is_401(method: str, path: str, anonymous: Api) -> None:
    response = anonymous.call(method, path, {"title": "x"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "token" in response.json()["message"]


def _status_and_body(secret: str | None, header: str | None = None) -> tuple[int, bytes]:
    headers = {"HTTP_AUTHORIZATION": header} if header else {}
    if secret:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    response = Client().get("/api/v1/me", **headers)
    return response.status_code, response.content


def test_revoked_unknown_and_malformed_tokens_get_the_same_401(jpn_user: Any) -> None:
    token, secret = create_token(jpn_user)
    assert _status_and_body(secret)[0] == 200
    revoke_token(token, actor="admin")
    revoked = _status_and_body(secret)
    assert revoked[0] == 401
    assert revoked == _status_and_body("kz_" + "A" * 43)  # well-formed but unknown
    assert revoked == _status_and_body(None, "Bearer")
    assert revoked == _status_and_body(None, "Token " + secret)
    assert revoked == _status_and_body(None, "Basic aGFuYWtvOnB3")
    assert revoked == _status_and_body(None)


def test_token_of_a_deactivated_user_is_401(jpn_user: Any) -> None:
    _, secret = create_token(jpn_user)
    jpn_user.is_active = False
    jpn_user.save()
    assert _status_and_body(secret)[0] == 401


def test_session_login_does_not_authenticate_the_api(jpn_user: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(jpn_user)
    assert client.get("/api/v1/me").status_code == 401
    response = client.post("/api/v1/reports", {"title": "x"}, content_type="application/json")
    assert response.status_code == 401
    assert not Report.objects.exists()


def test_token_acts_with_its_users_rights(jpn_user: Any, kor_user: Any, api_for: Any) -> None:
    japanese, korean = api_for(jpn_user), api_for(kor_user)
    created = japanese.post("reports", {"title": "JPN only", "label": label_api(releasable_to=["JPN"])})
    assert created.status_code == 201
    report_id = created.json()["id"]
    assert japanese.get(f"reports/{report_id}").status_code == 200
    assert korean.get(f"reports/{report_id}").status_code == 404
    assert korean.get("me").json()["username"] == "minjun"
    assert japanese.get("me").json()["username"] == "hanako"


def test_token_never_exceeds_its_users_role(make_user: Any, api_for: Any) -> None:
    viewer = make_user("yui", "JPN", "JPN-MOD", role="viewer")
    response = api_for(viewer).post("reports", {"title": "Not allowed", "label": label_api(releasable_to=["JPN"])})
    assert response.status_code == 400
    assert "role" in response.json()["message"]
    assert not Report.objects.exists()


def test_token_follows_changes_to_its_users_rights(jpn_user: Any, report_of: Any, api_for: Any) -> None:
    report = report_of(jpn_user, releasable_to=["JPN"], classification="RESTRICTED")
    api = api_for(jpn_user)
    assert api.get(f"reports/{report.pk}").status_code == 200
    jpn_user.clearances = {"NATO": "UNCLASSIFIED"}
    jpn_user.save()
    assert api.get(f"reports/{report.pk}").status_code == 404


def test_only_a_digest_of_the_token_is_stored(jpn_user: Any) -> None:
    _, secret = create_token(jpn_user)
    stored = ApiToken.objects.get(user=jpn_user)
    assert secret not in (stored.digest, stored.prefix)
