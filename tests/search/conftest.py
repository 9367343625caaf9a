"""Fixtures of the search tests: the API client of the API tests (every answer checked against the OpenAPI document)
and a small mixed-language corpus."""

from __future__ import annotations

from typing import Any

import pytest

from kizuna.glossary.services import TermInput, do_create_term
from kizuna.reports.services import ReportInput, do_create_report
from tests.api.conftest import api_for  # noqa: F401 - re-exported fixture
from tests.conftest import make_label

SHARED = make_label(releasable_to=["NATO", "IP4"])
JPN_ONLY = make_label(releasable_to=["JPN"])
KOR_ONLY = make_label(releasable_to=["KOR"])


@pytest.fixture
def coordinator(make_user: Any) -> Any:
    return make_user("hanako", "JPN", "JPN-MOD", role="coordinator")


@pytest.fixture
def korean(make_user: Any) -> Any:
    return make_user("minjun", "KOR", "KOR-MND")


def report(user: Any, title: str, body: str = "", label: Any = SHARED, **extra: Any) -> Any:
    return do_create_report(user, ReportInput(title=title, label=label, body=body, **extra))


@pytest.fixture
def glossary(coordinator: Any) -> None:
    def term(en: str, fr: str, ja: str, ko: str, area: str = "general") -> None:
        do_create_term(coordinator, TermInput(en=en, fr=fr, ja=ja, ko=ko, variants={}, area=area, label=SHARED))

    term("cyber defence", "cyberdéfense", "サイバー防衛", "사이버 방어", "cyber")
    term("ship-to-ship transfer", "transbordement de navire à navire", "瀬取り", "선박 간 환적", "maritime")


@pytest.fixture
def corpus(coordinator: Any, glossary: None) -> dict[str, Any]:
    return {
        "en": report(coordinator, "Cyber defence exercise in Tokyo", "Partners rehearsed incident response.",
                     focus_areas=["cyber"]),
        "fr": report(coordinator, "Rapport sur la cyberdéfense", "Les partenaires ont échangé leurs pratiques."),
        "ja": report(coordinator, "東シナ海における瀬取りの監視", "海上自衛隊による監視活動の報告。"),
        "ko": report(coordinator, "사이버 방어 협력 회의", "한국과 나토의 사이버 방어 협력에 관한 보고서입니다."),
        "sts": report(coordinator, "Ship-to-ship transfer off the coast", "Two tankers observed at night."),
        "secret": report(coordinator, "Japanese-only cyber defence assessment", "Not for other partners.",
                         label=JPN_ONLY),
    }
