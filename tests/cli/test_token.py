"""``kizuna token create|list|revoke``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.management.base import CommandError

from kizuna.directory.models import ApiToken
from kizuna.directory.services import user_for_token

from .helpers import kizuna


def test_token_create_prints_a_token_on_its_last_line_that_authenticates(make_user: Callable[..., Any]) -> None:
    user = make_user("hanako", "JPN", "JPN-MOD")
    run = kizuna("token", "create", "hanako", "--name", "MISP sync")
    secret = run.out.rstrip("\n").splitlines()[-1]
    assert secret == secret.strip() and " " not in secret
    assert user_for_token(secret) == user
    assert ApiToken.objects.get(user=user).name == "MISP sync"
    assert secret not in run.out.splitlines()[0]  # shown once, only on the last line


def test_token_list_shows_prefix_but_never_the_secret(make_user: Callable[..., Any]) -> None:
    make_user("hanako", "JPN", "JPN-MOD")
    secret = kizuna("token", "create", "hanako").lines[-1]
    listing = kizuna("token", "list", "hanako").out
    assert secret[:12] in listing
    assert secret not in listing


def test_token_revoke_by_prefix_stops_the_token(make_user: Callable[..., Any]) -> None:
    make_user("hanako", "JPN", "JPN-MOD")
    secret = kizuna("token", "create", "hanako").lines[-1]
    other = kizuna("token", "create", "hanako").lines[-1]
    run = kizuna("token", "revoke", secret[:12])
    assert "revoked token" in run.out
    assert user_for_token(secret) is None
    assert user_for_token(other) is not None
    assert "already revoked" in kizuna("token", "revoke", secret).out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "nobody"], "unknown user 'nobody'"),
        (["list", "nobody"], "unknown user 'nobody'"),
        (["revoke", "kz_"], "at least 6 characters"),
        (["revoke", "kz_doesnotexist"], "no token with prefix"),
    ],
)
def test_token_commands_refuse_bad_input(directory: None, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        kizuna("token", *args)


def test_token_create_refuses_an_inactive_user(make_user: Callable[..., Any]) -> None:
    make_user("hanako", "JPN", "JPN-MOD")
    kizuna("user", "deactivate", "hanako")
    with pytest.raises(CommandError, match="not active"):
        kizuna("token", "create", "hanako")
