"""Issue 14: a language switcher on every page, remembered per user; the login page follows the browser."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from kizuna.core.models import AuditEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _lang(body: str) -> str:
    return body.split('<html lang="', 1)[1].split('"', 1)[0]


def test_the_switcher_offers_the_four_languages_each_named_in_itself(client: Client) -> None:
    body = client.get("/login/").content.decode()
    for code, name in (("en", "English"), ("fr", "Français"), ("ja", "日本語"), ("ko", "한국어")):
        assert f'<option value="{code}" lang="{code}"' in body and f">{name}</option>" in body


@pytest.mark.parametrize(("accept", "expected"), [("ja,en;q=0.5", "ja"), ("ko-KR,ko;q=0.9", "ko"),
                                                   ("fr-FR,fr;q=0.9", "fr"), ("de-DE", "en"), ("", "en")])
def test_the_login_page_follows_the_browsers_language(client: Client, accept: str, expected: str) -> None:
    body = client.get("/login/", HTTP_ACCEPT_LANGUAGE=accept).content.decode()
    assert _lang(body) == expected


def test_the_switcher_on_the_login_page_wins_over_the_browser(client: Client) -> None:
    client.post("/i18n/setlang/", {"language": "ko", "next": "/login/"})
    body = client.get("/login/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert _lang(body) == "ko"


def test_choosing_a_language_while_signed_in_saves_it_to_the_user(client: Client, jpn_user: Any) -> None:
    client.force_login(jpn_user)
    response = client.post("/i18n/setlang/", {"language": "ja", "next": "/account/"})
    assert response.status_code == 302 and response["Location"] == "/account/"
    jpn_user.refresh_from_db()
    assert jpn_user.language == "ja"
    assert AuditEntry.objects.filter(action="user.language", actor=jpn_user.username).exists()
    assert _lang(client.get("/account/").content.decode()) == "ja"


def test_an_unknown_language_is_not_saved(client: Client, jpn_user: Any) -> None:
    client.force_login(jpn_user)
    client.post("/i18n/setlang/", {"language": "xx", "next": "/account/"})
    jpn_user.refresh_from_db()
    assert jpn_user.language == "en"


def test_a_later_session_in_another_browser_starts_in_the_saved_language(jpn_user: Any) -> None:
    first = Client()
    first.force_login(jpn_user)
    first.post("/i18n/setlang/", {"language": "fr", "next": "/account/"})
    other = Client()  # another browser: no cookie; its Accept-Language says Japanese
    response = other.post("/login/", {"username": jpn_user.username, "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    assert _lang(other.get("/account/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()) == "fr"


def test_signing_in_replaces_a_stale_cookie_with_the_users_language(jpn_user: Any) -> None:
    jpn_user.language = "ko"
    jpn_user.save()
    browser = Client()
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # left by someone else's session on this browser
    browser.post("/login/", {"username": jpn_user.username, "password": PASSWORD})
    assert _lang(browser.get("/account/").content.decode()) == "ko"


def test_a_language_chosen_on_the_login_page_is_saved_to_whoever_signs_in(jpn_user: Any) -> None:
    browser = Client()
    browser.post("/i18n/setlang/", {"language": "ja", "next": "/login/"})
    browser.post("/login/", {"username": jpn_user.username, "password": PASSWORD})
    jpn_user.refresh_from_db()
    assert jpn_user.language == "ja"
    assert _lang(browser.get("/account/").content.decode()) == "ja"
