"""The account page: who the user is, preferences, API tokens (shown once, listed by prefix, revocable)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from kizuna.directory.models import ApiToken
from kizuna.directory.services import user_for_token

pytestmark = pytest.mark.django_db


def test_account_page_shows_the_users_directory_entry(signed_in: Client) -> None:
    body = signed_in.get("/account/").content.decode()
    assert "hanako" in body
    assert "NATO RESTRICTED" in body
    assert "JPN-MOD" in body


def test_creating_a_token_shows_the_secret_once(signed_in: Client, jpn_user: Any) -> None:
    response = signed_in.post("/account/tokens/", {"name": "MISP sync"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=jpn_user)
    body = response.content.decode()
    secret = body.split('id="new-token-secret">', 1)[1].split("<", 1)[0]
    assert secret.startswith(token.prefix)
    assert user_for_token(secret) == jpn_user
    assert response["Cache-Control"].startswith("max-age=0")
    # Later views list the token by its prefix and name only.
    later = signed_in.get("/account/").content.decode()
    assert token.prefix in later and "MISP sync" in later
    assert secret not in later


def test_revoking_a_token_stops_it_working(signed_in: Client, jpn_user: Any) -> None:
    signed_in.post("/account/tokens/", {"name": "script"})
    token = ApiToken.objects.get(user=jpn_user)
    response = signed_in.post(f"/account/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    page = signed_in.get("/account/").content.decode()
    assert f'id="token-{token.pk}"' not in page
    assert "is revoked" in page


def test_revoking_with_htmx_returns_the_replaced_row(signed_in: Client, jpn_user: Any) -> None:
    signed_in.post("/account/tokens/", {"name": "script"})
    token = ApiToken.objects.get(user=jpn_user)
    response = signed_in.post(f"/account/tokens/{token.pk}/revoke/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="token-{token.pk}"' in body and "Revoked" in body
    assert "<html" not in body


def test_a_user_cannot_revoke_another_users_token(client: Client, jpn_user: Any, kor_user: Any) -> None:
    from kizuna.directory.services import create_token

    token, _secret = create_token(kor_user)
    client.force_login(jpn_user)
    assert client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_profile_saves_language_and_time_zone(signed_in: Client, jpn_user: Any) -> None:
    response = signed_in.post("/account/profile/", {"language": "ja", "timezone": "Asia/Tokyo"})
    assert response.status_code == 302
    jpn_user.refresh_from_db()
    assert (jpn_user.language, jpn_user.timezone) == ("ja", "Asia/Tokyo")
    assert '<html lang="ja">' in signed_in.get("/account/").content.decode()


def test_profile_refuses_an_unknown_time_zone(signed_in: Client, jpn_user: Any) -> None:
    response = signed_in.post("/account/profile/", {"language": "en", "timezone": "Mars/Olympus"})
    assert response.status_code == 400
    assert 'class="errorlist"' in response.content.decode()
    jpn_user.refresh_from_db()
    assert jpn_user.timezone == "UTC"


def test_get_on_an_account_action_goes_back_to_the_account_page(signed_in: Client) -> None:
    response = signed_in.get("/account/tokens/")
    assert response.status_code == 302
    assert response["Location"] == "/account/"
