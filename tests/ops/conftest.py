"""Fixtures of the operations tests: a signed-in browser client."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client


@pytest.fixture
def signed_in(client: Client, jpn_user: Any) -> Client:
    client.force_login(jpn_user)
    return client
