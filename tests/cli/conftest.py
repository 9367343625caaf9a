"""Fixtures of the command-line tests."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Argon2 costs a few hundred milliseconds per password, and the demo sets eleven; MD5 stands in for tests.
    (KIZUNA_FAST_HASHER in tests/conftest.py is read too late: the settings are imported before it is set.)"""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]
