"""``kizuna search reindex`` (idempotent, per type) and ``kizuna search find QUERY --user NAME``."""

from __future__ import annotations

from typing import Any

import pytest

from kizuna.search.models import SearchEntry
from tests.cli.helpers import kizuna

pytestmark = pytest.mark.django_db


def test_reindex_rebuilds_every_type_and_is_idempotent(corpus: Any) -> None:
    SearchEntry.objects.filter(kind="report").delete()  # as after records written without signals
    first = kizuna("search", "reindex").out
    assert "6 report" in first and "2 term" in first
    assert kizuna("search", "reindex").out == first
    assert kizuna("search", "reindex", "--type", "term").out.strip() == "search: 2 term indexed"


def test_find_shows_what_a_user_finds(corpus: Any, korean: Any) -> None:
    out = kizuna("search", "find", "사이버 방어", "--user", "minjun").out
    assert "Cyber defence exercise in Tokyo" in out and "Japanese-only" not in out
    assert f"/reports/{corpus['en'].pk}/" in out
