"""The spine's pages render in French and in Korean, the two languages added after Japanese (issue 14).

Same shape as the Japanese page checks in ``tests/test_i18n.py``: a signed-in user with the language cookie set sees
the report pages, the label picker's audience sentence, the account page and a refused write in that language, with
``<html lang>`` set and no English UI string left. Without the ``fr`` and ``ko`` catalogs these pages fall back to
English and every check here fails.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polib
import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from kizuna.consultations.models import Series
from kizuna.consultations.recurrence import cadence_words
from kizuna.consultations.views.common import span
from kizuna.directory.models import Nation
from kizuna.reports.models import Report
from kizuna.reports.services import ReportInput, do_add_comment, do_create_report
from tests.conftest import make_label
from tests.consultations.test_cadence_words import ENGLISH as ENGLISH_CADENCES

# English strings of the same pages: none may be left on a French or Korean page.
_ENGLISH = ("Reports and best practice", "Version history", "New report", "Focus areas", "Log out", "Attachments",
            "Who should see it?", "Visible to people of")


def _client(user: Any, language: str) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def _report(author: Any, nation: str) -> Report:
    created = do_create_report(author, ReportInput(
        title="Port visit", summary="Yokosuka", body="Notes", kind="best_practice", focus_areas=["maritime"],
        label=make_label(releasable_to=[nation], communities=["MARITIME"]),
    ))
    do_add_comment(author, created, "Seen.")
    return created


def _page(client: Client, url: str, language: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert f'<html lang="{language}">' in body
    for english in _ENGLISH:
        assert english not in body, english
    return body


def test_french_and_korean_are_offered_each_named_in_itself() -> None:
    assert dict(settings.LANGUAGES) == {"en": "English", "fr": "Français", "ja": "日本語", "ko": "한국어"}


_KIZUNA = Path(__file__).resolve().parent.parent / "kizuna"
_APPS = sorted({str(p.relative_to(_KIZUNA)).split("/locale/")[0] for p in _KIZUNA.glob("**/locale/*/LC_MESSAGES/django.po")})


@pytest.mark.parametrize("app", _APPS)
def test_every_language_of_an_app_has_the_same_messages(app: str) -> None:
    # A message one language lacks shows in English on that language's pages: a new string goes into all at once.
    def messages(language: str) -> set[tuple[str | None, str, str]]:
        path = _KIZUNA / app / "locale" / language / "LC_MESSAGES" / "django.po"
        assert path.exists(), f"{app} has no {language} catalog"
        return {(e.msgctxt, e.msgid, e.msgid_plural) for e in polib.pofile(str(path))}

    translated = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
    first = messages(translated[0])
    for language in translated[1:]:
        assert messages(language) == first, language


# --- French -----------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_report_list_renders_in_french(jpn_user: Any) -> None:
    _report(jpn_user, "JPN")
    body = _page(_client(jpn_user, "fr"), "/reports/", "fr")
    for text in ("Rapports et bonnes pratiques", "Nouveau rapport", "Domaines prioritaires", "Filtrer",
                 "Sécurité maritime", "Bonne pratique", "Émetteur", "Marquage", "Se déconnecter"):
        assert text in body, text


@pytest.mark.django_db
def test_report_detail_renders_in_french(jpn_user: Any) -> None:
    report = _report(jpn_user, "JPN")
    body = _page(_client(jpn_user, "fr"), f"/reports/{report.pk}/", "fr")
    for text in ("Historique des versions", "Pièces jointes", "Ajouter un commentaire", "Retirer", "Modifier",
                 "Organisation émettrice", "Actif"):
        assert text in body, text
    # The audience sentence: the label picker's French messages around pycountry's French nation name.
    assert "Visible par les ressortissants des nations suivantes : Japon, à condition" in body
    assert "d&#x27;appartenir à MARITIME." in body or "d'appartenir à MARITIME." in body


@pytest.mark.django_db
def test_new_report_form_and_account_render_in_french(jpn_user: Any) -> None:
    client = _client(jpn_user, "fr")
    body = _page(client, "/reports/new/", "fr")
    for text in ("Titre", "Corps du texte (Markdown)", "Marquage : qui peut voir ce rapport", "Classification",
                 "Destinataires (TLP:RED uniquement)", "Ma nation uniquement (JPN)", "Types autorisés :"):
        assert text in body, text
    body = _page(client, "/account/", "fr")
    for text in ("Compte", "Nationalité", "Habilitations", "Connexion en deux étapes", "Jetons d'API"):
        assert text in body, text


@pytest.mark.django_db
def test_refused_report_shows_the_service_error_in_french(jpn_user: Any) -> None:
    response = _client(jpn_user, "fr").post("/reports/new/", {
        "title": "Port visit", "kind": "report", "label_policy": "NATO", "label_preset": "custom",
        "label_classification": "UNCLASSIFIED", "label_releasable_to": ["KOR"], "label_tlp": "AMBER",
        "label_recipients": "",
    })
    assert response.status_code == 400
    body = response.content.decode()
    assert "un élément portant ce marquage ; choisissez un marquage qui vous inclut" in body
    assert "you could not see an item with this label yourself" not in body
    assert not Report.objects.exists()


# --- Korean -----------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_report_list_renders_in_korean(kor_user: Any) -> None:
    _report(kor_user, "KOR")
    body = _page(_client(kor_user, "ko"), "/reports/", "ko")
    for text in ("보고서 및 모범 사례", "새 보고서 작성", "중점 분야", "필터", "해양 안보", "모범 사례", "작성 기관", "표지",
                 "로그아웃"):
        assert text in body, text


@pytest.mark.django_db
def test_report_detail_renders_in_korean(kor_user: Any) -> None:
    report = _report(kor_user, "KOR")
    body = _page(_client(kor_user, "ko"), f"/reports/{report.pk}/", "ko")
    for text in ("버전 이력", "첨부 파일", "의견 추가", "철회", "편집", "작성 기관", "유효"):
        assert text in body, text
    # The audience sentence: the label picker's Korean messages around pycountry's Korean nation name.
    assert ("국적자가 열람할 수 있습니다. 단, NATO UNCLASSIFIED 이상의 비밀취급인가를 보유하고 "
            "MARITIME에 소속된 사람에 한합니다.") in body


@pytest.mark.django_db
def test_new_report_form_and_account_render_in_korean(kor_user: Any) -> None:
    client = _client(kor_user, "ko")
    body = _page(client, "/reports/new/", "ko")
    for text in ("제목", "본문(Markdown)", "표지: 이 보고서의 공개 대상", "비밀 등급", "수신자(TLP:RED인 경우만)", "자국만(KOR)",
                 "허용되는 파일 형식:"):
        assert text in body, text
    body = _page(client, "/account/", "ko")
    for text in ("계정", "국적", "비밀취급인가", "2단계 인증", "API 토큰"):
        assert text in body, text


@pytest.mark.django_db
def test_refused_report_shows_the_service_error_in_korean(kor_user: Any) -> None:
    response = _client(kor_user, "ko").post("/reports/new/", {
        "title": "Port visit", "kind": "report", "label_policy": "NATO", "label_preset": "custom",
        "label_classification": "UNCLASSIFIED", "label_releasable_to": ["JPN"], "label_tlp": "AMBER",
        "label_recipients": "",
    })
    assert response.status_code == 400
    body = response.content.decode()
    assert "이 표지를 지정하면 본인도 열람할 수 없게 됩니다. 본인이 포함된 표지를 선택하십시오" in body
    assert "you could not see an item with this label yourself" not in body
    assert not Report.objects.exists()


# --- a series' cadence in words ---------------------------------------------------------------------------------------


def _series(rule: str) -> Series:
    return Series(rrule=rule, time_zone="Asia/Tokyo", start_time=time(16, 0), duration_minutes=120,
                  first_date=date(2026, 1, 8))


@pytest.mark.parametrize("language", ["fr", "ko"])
@pytest.mark.parametrize("rule", [rule for rule, _words in ENGLISH_CADENCES])
def test_no_rule_part_is_left_as_raw_text_or_english(language: str, rule: str) -> None:
    with translation.override(language):
        text = cadence_words(_series(rule))
    assert "=" not in text
    english = ("every", "Every", " of ", " and ", "weekday", "day ", "Day ", "times", "until", "week")
    assert not any(word in text for word in english), text


def test_second_thursday_of_every_third_month_in_french_and_korean() -> None:
    rule = "FREQ=MONTHLY;INTERVAL=3;BYDAY=TH;BYSETPOS=2"
    with translation.override("fr"):
        assert cadence_words(_series(rule)) == "Le deuxième jeudi, tous les trois mois, à 16:00 (Asia/Tokyo), 120 minutes"
    with translation.override("ko"):
        assert cadence_words(_series(rule)) == "3개월마다 둘째 목요일, 16:00(Asia/Tokyo), 120분"


# --- a meeting's time -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "start"), [
    ("en", "Tue 2 Jun 2026, 17:00"),
    ("fr", "mardi 2 juin 2026, 17:00"),
    ("ja", "2026年6月2日(火) 17:00"),
    ("ko", "2026년 6월 2일 (화) 17:00"),
])
def test_a_meeting_time_reads_in_the_order_of_the_language(language: str, start: str) -> None:
    brussels = ZoneInfo("Europe/Brussels")
    with translation.override(language):
        times = span(datetime(2026, 6, 2, 15, tzinfo=UTC), datetime(2026, 6, 3, 1, tzinfo=UTC), brussels)
    assert times["start"] == start
    assert times["end"].endswith("03:00") and times["end"] != "03:00"  # the next day: said with its date


# --- nation names -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "name"), [
    ("en", "Republic of Korea"), ("fr", "République de Corée"), ("ko", "대한민국"),
])
def test_korea_is_named_in_natural_order(directory: None, language: str, name: str) -> None:
    # pycountry's French name keeps ISO's inverted form ("Corée, République de"), which reads as two nations in the
    # label picker's comma-separated list of nations.
    with translation.override(language):
        assert Nation.objects.get(code="KOR").localised_name == name


@pytest.mark.django_db
def test_no_nation_name_reads_inverted_in_french_or_korean(directory: None) -> None:
    for language in ("fr", "ko"):
        with translation.override(language):
            assert [n.code for n in Nation.objects.all() if "," in n.localised_name] == []
