"""Shared fixtures: the directory of a small node (nations, groups, organisations, users of several nations) and
helpers to build labels. The database is SQLite or PostgreSQL, chosen by DATABASE_URL (see the Makefile)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

os.environ.setdefault("KIZUNA_COOKIE_SECURE", "0")

from kizuna.labels import Label

NATO_MEMBERS = [
    "ALB", "BEL", "BGR", "CAN", "HRV", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC", "HUN", "ISL", "ITA", "LVA",
    "LTU", "LUX", "MNE", "NLD", "MKD", "NOR", "POL", "PRT", "ROU", "SVK", "SVN", "ESP", "SWE", "TUR", "GBR", "USA",
]
PARTNERS = ["AUS", "JPN", "NZL", "KOR"]

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: Any) -> None:
    """Argon2 on every login would dominate the suite's time; the tests of hashing itself set it back."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_label_cache() -> Iterator[None]:
    from kizuna.core.access import clear_caches

    clear_caches()
    yield
    clear_caches()


@pytest.fixture(autouse=True)
def _english_after_each_test() -> Iterator[None]:
    """A request with the ja cookie leaves Japanese active in the thread; services called directly by the next test
    would then raise Japanese messages. Each request re-activates its own language, so only tests need this."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture
def directory(db: Any) -> None:
    """Nations, NATO and IP4 groups, and one organisation per test nation."""
    from kizuna.directory.services import ensure_reference_data

    ensure_reference_data()


def make_label(
    releasable_to: list[str] | None = None,
    communities: list[str] | None = None,
    classification: str = "UNCLASSIFIED",
    tlp: str = "AMBER",
    recipients: list[str] | None = None,
) -> Label:
    categories: dict[str, list[str]] = {}
    if releasable_to:
        categories["releasable_to"] = releasable_to
    if communities:
        categories["communities"] = communities
    return Label.build("NATO", classification, categories, tlp, recipients or [])


@pytest.fixture
def label() -> Callable[..., Label]:
    return make_label


@pytest.fixture
def make_user(directory: None) -> Callable[..., Any]:
    from kizuna.directory.services import create_user

    def _make(
        username: str,
        nation: str = "JPN",
        org: str | None = None,
        clearance: str = "RESTRICTED",
        communities: list[str] | None = None,
        role: str = "contributor",
    ) -> Any:
        return create_user(
            username=username,
            nation=nation,
            organisation=org or f"{nation}-GOV",
            clearances={"NATO": clearance} if clearance else {},
            communities=communities if communities is not None else ["CYBER", "MARITIME", "HADR", "SPACE"],
            role=role,
            password=PASSWORD,
        )

    return _make


@pytest.fixture
def jpn_user(make_user: Callable[..., Any]) -> Any:
    return make_user("hanako", "JPN", "JPN-MOD")


@pytest.fixture
def kor_user(make_user: Callable[..., Any]) -> Any:
    return make_user("minjun", "KOR", "KOR-MND")
