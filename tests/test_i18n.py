"""The translation catalogs are complete and compiled, and the spine's pages render in Japanese.

Catalog checks read every ``kizuna/**/locale/**/django.po``: no entry untranslated or fuzzy, placeholders kept, and the
committed ``.mo`` holds exactly what the ``.po`` compiles to (a forgotten ``compilemessages`` fails here, not in
front of a Japanese reader). The page checks sign in with ``force_login`` and the language cookie set to ``ja``; a
refused write shows the service's message in Japanese there, while the API answers in English unless the client sends
``Accept-Language``.
"""

from __future__ import annotations

import gettext
import io
import re
from pathlib import Path
from typing import Any

import polib
import pytest
from django.conf import settings
from django.test import Client

from kizuna.directory.services import create_token
from kizuna.reports.models import Report
from kizuna.reports.services import ReportInput, do_add_comment, do_create_report
from tests.conftest import make_label

KIZUNA = Path(__file__).resolve().parent.parent / "kizuna"
PO_FILES = sorted(KIZUNA.glob("**/locale/*/LC_MESSAGES/*.po"))
# %(name)s / %(count)d, %s, and str.format's {} or {name}: each must survive translation unchanged.
_PLACEHOLDER = re.compile(r"%\([A-Za-z_]\w*\)[sdif]|%[sdif]|\{[A-Za-z_]?\w*\}")


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(KIZUNA)) for p in paths]


def _catalog_key(entry: polib.POEntry) -> str:
    # GNUTranslations stores a message with a context as "context\x04msgid".
    return f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid


def _expected_messages(po: polib.POFile) -> dict[Any, str]:
    """What GNUTranslations reads from a .mo compiled from ``po`` (the header aside)."""
    messages: dict[Any, str] = {}
    for entry in po.translated_entries():
        if entry.msgid_plural:
            for index, text in entry.msgstr_plural.items():
                messages[(_catalog_key(entry), int(index))] = text
        else:
            messages[_catalog_key(entry)] = entry.msgstr
    return messages


def _read_mo(data: bytes) -> dict[Any, str]:
    catalog = dict(gettext.GNUTranslations(io.BytesIO(data))._catalog)  # type: ignore[attr-defined]
    catalog.pop("", None)
    return catalog


def test_catalogs_exist_for_every_app_with_marked_strings() -> None:
    apps = {p.relative_to(KIZUNA).parts[0] for p in PO_FILES if "/ja/" in str(p)}
    assert {"core", "web", "reports", "directory"} <= apps
    # Issue 14: four languages; the fr and ko catalogs come from the translators (copied from ja, then translated).
    assert {code for code, _name in settings.LANGUAGES} == {"en", "fr", "ja", "ko"}


@pytest.mark.parametrize("path", PO_FILES, ids=_ids(PO_FILES))
def test_catalog_has_no_untranslated_or_fuzzy_entry(path: Path) -> None:
    po = polib.pofile(str(path))
    assert not po.metadata_is_fuzzy, "the header is still marked fuzzy"
    assert po.metadata.get("Content-Type") == "text/plain; charset=UTF-8"
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []
    assert len(po.translated_entries()) > 0


@pytest.mark.parametrize("path", PO_FILES, ids=_ids(PO_FILES))
def test_translations_keep_their_placeholders(path: Path) -> None:
    broken = []
    for entry in polib.pofile(str(path)).translated_entries():
        wanted = sorted(_PLACEHOLDER.findall(entry.msgid))
        for text in entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]:
            if sorted(_PLACEHOLDER.findall(text)) != wanted:
                broken.append(entry.msgid)
    assert broken == []


@pytest.mark.parametrize("path", PO_FILES, ids=_ids(PO_FILES))
def test_compiled_catalog_matches_its_po(path: Path) -> None:
    mo_path = path.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path.name} is missing: run django-admin compilemessages"
    po = polib.pofile(str(path))
    expected = _expected_messages(po)
    # polib's own compilation reads back identically: the comparison below is about content, not the compiler.
    assert _read_mo(po.to_binary()) == expected
    assert _read_mo(mo_path.read_bytes()) == expected, f"{mo_path.name} is stale: run django-admin compilemessages"


# --- pages in Japanese ----------------------------------------------------------------------------------------------


@pytest.fixture
def ja_client(jpn_user: Any) -> Client:
    client = Client()
    client.force_login(jpn_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    return client


@pytest.fixture
def report(jpn_user: Any) -> Report:
    created = do_create_report(jpn_user, ReportInput(
        title="Port visit", summary="Yokosuka", body="Notes", kind="best_practice", focus_areas=["maritime"],
        label=make_label(releasable_to=["JPN"], communities=["MARITIME"]),
    ))
    do_add_comment(jpn_user, created, "Seen.")
    return created


def _page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="ja">' in body
    return body


@pytest.mark.django_db
def test_report_list_renders_in_japanese(ja_client: Client, report: Report) -> None:
    body = _page(ja_client, "/reports/")
    for text in ("報告書・優良事例", "報告書の新規作成", "重点分野", "絞り込み", "海洋安全保障", "優良事例", "作成元"):
        assert text in body, text
    assert "Reports and best practice" not in body


@pytest.mark.django_db
def test_report_detail_renders_in_japanese(ja_client: Client, report: Report) -> None:
    body = _page(ja_client, f"/reports/{report.pk}/")
    for text in ("版の履歴", "添付ファイル", "コメントを追加", "取り下げ", "編集", "作成元組織", "有効"):
        assert text in body, text
    # The audience sentence comes from the label picker's Python strings and the localised nation name.
    assert "日本の国籍を有する者が閲覧できます" in body
    assert "MARITIME に所属する者に限ります" in body
    # One sentence per form, Japanese punctuation: no English ", " or "." left between the parts.
    assert "日本の国籍を有する者が閲覧できます。ただし、" in body
    assert "閲覧できます," not in body and "限ります." not in body
    assert "Version history" not in body


@pytest.mark.django_db
def test_new_report_form_and_label_picker_render_in_japanese(ja_client: Client) -> None:
    body = _page(ja_client, "/reports/new/")
    for text in ("報告書の新規作成", "件名", "本文（Markdown）", "ラベル：この報告書の公開範囲", "機密区分", "共有先",
                 "自国のみ（JPN）", "NATO 加盟国（個別指定）", "受領者（TLP:RED の場合のみ）", "あなた自身も閲覧できます。",
                 "使用できるファイル形式："):
        assert text in body, text
    assert "Who should see it?" not in body


@pytest.mark.django_db
def test_label_preview_error_is_in_japanese(ja_client: Client) -> None:
    response = ja_client.get("/reports/label-preview/", {"label_classification": "UNCLASSIFIED", "label_tlp": "RED"})
    body = response.content.decode()
    assert "このラベルは使用できません：TLP:RED では受領者を1名以上指定する必要があります" in body


@pytest.mark.django_db
def test_account_page_renders_in_japanese(ja_client: Client) -> None:
    body = _page(ja_client, "/account/")
    for text in ("アカウント", "国籍", "クリアランス", "投稿者", "2段階認証", "機密区分"):
        assert text in body, text


@pytest.mark.django_db
def test_english_stays_the_default(jpn_user: Any, report: Report) -> None:
    client = Client()
    client.force_login(jpn_user)
    body = client.get(f"/reports/{report.pk}/").content.decode()
    assert '<html lang="en">' in body
    assert "Version history" in body and "版の履歴" not in body


# --- refused writes ---------------------------------------------------------------------------------------------------

_REFUSED_JA = "このラベルを付けると、あなた自身も閲覧できなくなります"
_REFUSED_EN = "you could not see an item with this label yourself; choose a label that includes you"


@pytest.mark.django_db
def test_refused_report_shows_the_service_error_in_japanese(ja_client: Client) -> None:
    # A Japanese author labelling a report for Korea only: the service refuses, the form shows why, in Japanese.
    response = ja_client.post("/reports/new/", {
        "title": "Port visit", "kind": "report", "label_policy": "NATO", "label_preset": "custom",
        "label_classification": "UNCLASSIFIED", "label_releasable_to": ["KOR"], "label_tlp": "AMBER",
        "label_recipients": "",
    })
    assert response.status_code == 400
    body = response.content.decode()
    assert _REFUSED_JA in body
    assert _REFUSED_EN not in body
    assert not Report.objects.exists()


@pytest.mark.django_db
def test_same_refusal_through_the_api_stays_in_english(jpn_user: Any) -> None:
    _token, secret = create_token(jpn_user)
    label = make_label(releasable_to=["KOR"]).as_api()
    response = Client().post("/api/v1/reports", {"title": "Port visit", "label": label},
                             content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 400
    assert response.json() == {"message": _REFUSED_EN, "field": "label"}
    assert not Report.objects.exists()


@pytest.mark.django_db
def test_api_client_asking_for_japanese_gets_japanese_messages(jpn_user: Any) -> None:
    _token, secret = create_token(jpn_user)
    response = Client().get("/api/v1/reports", {"limit": 0}, HTTP_AUTHORIZATION=f"Bearer {secret}",
                            HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 400
    assert response.json()["message"] == "表示件数は 1〜200 の範囲で指定してください"
