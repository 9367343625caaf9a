"""Issue 14, "no English left in the Japanese UI": the label engine's messages, version summaries, capital names and
the nation groups of the label picker follow the reader's language; English stays as it was."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from kizuna.consultations.timezones import CAPITALS, city_name
from kizuna.core.versions import summary_text
from kizuna.labels import Label, LabelError
from kizuna.labels.policy import PolicyRegistry
from kizuna.reports.services import ReportInput, do_create_report, do_update_report
from tests.conftest import make_label


def test_a_label_engine_message_is_english_in_its_args_and_translated_when_shown() -> None:
    with pytest.raises(LabelError) as caught:
        PolicyRegistry([]).require("XYZ")
    error = caught.value
    assert error.args[0] == "unknown policy 'XYZ'"
    assert str(error) == "unknown policy 'XYZ'"
    with translation.override("ja"):
        assert str(error) == "ポリシー 'XYZ' は定義されていません"


def test_a_label_engine_message_with_values_keeps_them_in_japanese() -> None:
    with pytest.raises(LabelError) as caught:
        Label.build("NATO", "UNCLASSIFIED", {}, "PURPLE")
    with translation.override("ja"):
        assert str(caught.value) == "TLP 'PURPLE' は不明です。CLEAR, GREEN, AMBER, AMBER+STRICT, RED のいずれかを使用してください"


@pytest.mark.parametrize(("stored", "japanese"), [
    ("created", "作成"),
    ("changed title, label", "変更：件名、ラベル"),
    ("withdrawn: superseded", "取り下げ：superseded"),
    ("received from jpn-node: changed body", "jpn-node から受信：変更：本文"),
    ("status open → done", "status open → done"),  # not a form it knows: shown as stored
])
def test_version_summaries_are_shown_in_the_readers_language(stored: str, japanese: str) -> None:
    assert summary_text(stored) == stored
    with translation.override("ja"):
        assert summary_text(stored) == japanese


def test_capital_names_are_translated_and_english_is_kept() -> None:
    assert city_name(CAPITALS["AUS"].city) == "Canberra"
    with translation.override("ja"):
        assert [city_name(CAPITALS[c].city) for c in ("AUS", "JPN", "NZL", "KOR", "NATO")] == [
            "キャンベラ", "東京", "ウェリントン", "ソウル", "ブリュッセル（NATO 本部）"]
        assert city_name("Atlantis") == "Atlantis"


@pytest.fixture
def ja_client(jpn_user: Any) -> Client:
    client = Client()
    client.force_login(jpn_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    return client


@pytest.mark.django_db
def test_the_label_pickers_groups_are_named_in_japanese(ja_client: Client) -> None:
    body = ja_client.get("/reports/new/").content.decode()
    assert "NATO 加盟国" in body and "インド太平洋パートナー（オーストラリア、日本、ニュージーランド、大韓民国）" in body
    assert "NATO member nations" not in body and "Indo-Pacific partners" not in body


@pytest.mark.django_db
def test_a_reports_version_history_is_in_japanese(ja_client: Client, jpn_user: Any) -> None:
    report = do_create_report(jpn_user, ReportInput(
        title="Port visit", summary="Yokosuka", body="Notes", kind="report", focus_areas=["maritime"],
        label=make_label(releasable_to=["JPN"]),
    ))
    do_update_report(jpn_user, report, title="Port visit, Yokosuka")
    body = ja_client.get(f"/reports/{report.pk}/").content.decode()
    assert "<td>作成</td>" in body and "<td>変更：件名</td>" in body
    assert "<td>created</td>" not in body
