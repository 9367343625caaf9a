"""Sign-in, sign-out, throttling after repeated failures, and the login requirement on every page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kizuna.core.models import AuditEntry
from kizuna.directory.models import LoginFailure

pytestmark = pytest.mark.django_db


def test_login_with_right_password_signs_in_and_goes_to_next(client: Client, jpn_user: Any, login: Callable[..., Any]) -> None:
    response = client.post("/login/", {"username": "hanako", "password": "correct horse battery staple", "next": "/account/"})
    assert response.status_code == 302
    assert response["Location"] == "/account/"
    assert client.get("/account/").status_code == 200
    assert AuditEntry.objects.filter(action="login.success", actor="hanako").exists()


def test_login_with_wrong_password_shows_error_and_is_audited(client: Client, jpn_user: Any, login: Callable[..., Any]) -> None:
    response = login("hanako", "wrong password")
    assert response.status_code == 400
    assert "not correct" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action="login.failure", actor="hanako").count() == 1
    assert LoginFailure.objects.filter(username="hanako").count() == 1


def test_login_ignores_next_pointing_to_another_site(client: Client, jpn_user: Any) -> None:
    response = client.post(
        "/login/", {"username": "hanako", "password": "correct horse battery staple", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_login_is_refused_after_max_failures_for_a_username(
    client: Client, jpn_user: Any, login: Callable[..., Any], settings: Any
) -> None:
    settings.KIZUNA_LOGIN_MAX_FAILURES = 3
    for _attempt in range(3):
        assert login("hanako", "wrong password").status_code == 400
    # Even the right password is refused now, with a message that says why.
    response = login("hanako")
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action="login.throttled").exists()


def test_login_is_refused_after_max_failures_from_one_address(
    client: Client, make_user: Callable[..., Any], login: Callable[..., Any], settings: Any
) -> None:
    settings.KIZUNA_LOGIN_MAX_FAILURES = 3
    make_user("kenji", "JPN")
    for name in ("alice", "bob", "carol"):
        login(name, "guess", REMOTE_ADDR="192.0.2.7")
    assert login("kenji", REMOTE_ADDR="192.0.2.7").status_code == 429
    assert login("kenji", REMOTE_ADDR="192.0.2.8").status_code == 302


def test_throttle_counts_usernames_case_insensitively(
    client: Client, jpn_user: Any, login: Callable[..., Any], settings: Any
) -> None:
    settings.KIZUNA_LOGIN_MAX_FAILURES = 2
    login("Hanako", "x", REMOTE_ADDR="192.0.2.1")
    login("HANAKO", "x", REMOTE_ADDR="192.0.2.2")
    assert login("hanako", REMOTE_ADDR="192.0.2.3").status_code == 429


def test_successful_login_clears_failures_of_the_username(
    client: Client, jpn_user: Any, login: Callable[..., Any], settings: Any
) -> None:
    settings.KIZUNA_LOGIN_MAX_FAILURES = 3
    login("hanako", "wrong")
    login("hanako", "wrong")
    assert login("hanako").status_code == 302
    assert not LoginFailure.objects.filter(username="hanako").exists()


def test_failures_older_than_the_window_do_not_count(
    client: Client, jpn_user: Any, login: Callable[..., Any], settings: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    settings.KIZUNA_LOGIN_MAX_FAILURES = 2
    login("hanako", "wrong")
    login("hanako", "wrong")
    LoginFailure.objects.update(at=timezone.now() - timedelta(seconds=settings.KIZUNA_LOGIN_WINDOW_SECONDS + 5))
    assert login("hanako").status_code == 302


def test_anonymous_request_to_reports_redirects_to_login(client: Client, directory: None) -> None:
    response = client.get("/reports/?q=cyber")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/reports/%3Fq%3Dcyber"


def test_anonymous_htmx_request_gets_hx_redirect(client: Client, directory: None) -> None:
    response = client.get("/reports/", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/login/")


def test_anonymous_request_to_an_unknown_page_redirects_to_login(client: Client, directory: None) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("path", ["/login/", "/banners.css", "/static/kizuna/kizuna.css"])
def test_public_paths_need_no_login(client: Client, directory: None, path: str) -> None:
    assert client.get(path).status_code == 200


def test_api_is_not_redirected_to_the_login_page(client: Client, directory: None) -> None:
    response = client.get("/api/v1/reports")
    assert response.status_code != 302


def test_logout_needs_post_and_ends_the_session(signed_in: Client) -> None:
    assert signed_in.get("/logout/").status_code == 405
    response = signed_in.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert signed_in.get("/account/").status_code == 302
    assert AuditEntry.objects.filter(action="logout", actor="hanako").exists()


def test_forms_without_csrf_token_are_refused_with_the_styled_page(jpn_user: Any) -> None:
    browser = Client(enforce_csrf_checks=True)
    response = browser.post("/login/", {"username": "hanako", "password": "correct horse battery staple"})
    assert response.status_code == 403
    body = response.content.decode()
    assert "The form could not be accepted" in body
    assert 'data-testid="banner-top"' in body


def test_login_page_form_carries_csrf_token_and_login_works_with_it(jpn_user: Any) -> None:
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/login/")
    token = page.cookies["csrftoken"].value
    response = browser.post(
        "/login/", {"username": "hanako", "password": "correct horse battery staple", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
