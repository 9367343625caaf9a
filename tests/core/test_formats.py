"""Dates and times by language (issue 14): kizuna/core/formats and kizuna.core.dates.format_local, the {% when %} tag
and the consultation pages' named formats."""

from __future__ import annotations

import importlib
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone, translation

from kizuna.core.dates import format_local
from kizuna.web.templatetags.kizuna_web import when

THURSDAY = datetime(2026, 12, 10, 16, 0)


def _names(module: object) -> set[str]:
    return {name for name in vars(module) if name.isupper()}


def test_every_language_defines_every_kizuna_format() -> None:
    """A name missing from one language would be printed as it is (Django returns an unknown format name unchanged)."""
    english = _names(importlib.import_module("kizuna.core.formats.en.formats"))
    for code, _name in settings.LANGUAGES:
        assert _names(importlib.import_module(f"kizuna.core.formats.{code}.formats")) == english, code


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "Thu 10 Dec 2026 16:00"),
    ("ja", "2026年12月10日(木) 16:00"),
    ("ko", "2026년 12월 10일 (목) 16:00"),
    ("fr", "jeudi 10 décembre 2026 16:00"),
])
def test_a_day_and_time_reads_as_the_language_writes_it(language: str, expected: str) -> None:
    with translation.override(language):
        assert format_local(THURSDAY, "DAY_DATETIME_FORMAT") == expected


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "Thu 10 Dec 2026"), ("ja", "2026年12月10日(木)"), ("ko", "2026년 12월 10일 (목)"),
    ("fr", "jeudi 10 décembre 2026"),
])
def test_a_day_heading_names_the_weekday_in_the_language(language: str, expected: str) -> None:
    with translation.override(language):
        assert format_local(THURSDAY.date(), "DAY_DATE_FORMAT") == expected


def test_a_literal_pattern_and_an_escaped_d_are_left_alone() -> None:
    with translation.override("ko"):
        assert format_local(THURSDAY, "H:i") == "16:00"
        assert format_local(THURSDAY, "\\D D") == "D 목"


@pytest.mark.parametrize(("language", "shown"), [
    ("en", "2026-12-05 07:30 JST"),
    ("ja", "2026年12月5日(土) 07:30 JST"),
    ("ko", "2026년 12월 5일 (토) 07:30 JST"),
    ("fr", "samedi 5 décembre 2026 07:30 JST"),
])
def test_the_when_tag_follows_the_active_language(language: str, shown: str) -> None:
    moment = datetime(2026, 12, 4, 22, 30, tzinfo=UTC)
    with translation.override(language), timezone.override(ZoneInfo("Asia/Tokyo")):
        html = when(moment)
    assert f">{shown}</time>" in html
    assert '<time datetime="2026-12-04T22:30:00Z"' in html


def test_a_calendar_date_in_japanese_has_its_weekday() -> None:
    with translation.override("ja"):
        assert when(date(2026, 12, 10)) == '<time datetime="2026-12-10">2026年12月10日(木)</time>'


def test_the_first_of_the_month_is_an_ordinal_in_french_only() -> None:
    first = datetime(2026, 12, 1, 9, 0)
    with translation.override("fr"):
        assert format_local(first, "DAY_DATETIME_FORMAT") == "mardi 1er décembre 2026 09:00"
        assert format_local(THURSDAY, "DAY_DATETIME_FORMAT") == "jeudi 10 décembre 2026 16:00"
    with translation.override("en"):
        assert format_local(first, "DAY_DATETIME_FORMAT") == "Tue 1 Dec 2026 09:00"
