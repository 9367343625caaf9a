"""Fixtures for the web tests: a browser-like client and a signed-in user."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client


@pytest.fixture
def signed_in(client: Client, jpn_user: Any) -> Client:
    client.force_login(jpn_user)
    return client


@pytest.fixture
def login(client: Client) -> Callable[..., Any]:
    from tests.conftest import PASSWORD

    def _login(username: str, password: str = PASSWORD, **extra: Any) -> Any:
        return client.post("/login/", {"username": username, "password": password}, **extra)

    return _login
