"""Issue 14: e-mails are written in the recipient's language (User.language) and time zone, whatever language the
request that caused them was in; the minutes' PDF and print page are in the reader's language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import translation

from kizuna.consultations import notify
from kizuna.consultations.models import NotificationKind
from kizuna.consultations.services import MeetingInput, do_create_meeting
from tests.conftest import make_label

pytestmark = pytest.mark.django_db

START = datetime(2026, 12, 10, 7, 0, tzinfo=UTC)  # Thursday 16:00 in Tokyo and Seoul


def _meeting(author: Any) -> Any:
    return do_create_meeting(author, MeetingInput(
        title="Cyber talks", label=make_label(releasable_to=["JPN", "KOR"]), start=START,
        end=START.replace(hour=8), time_zone="Asia/Tokyo", link="https://meet.example.org/cyber"))


def _recipient(user: Any, language: str, zone: str) -> Any:
    user.email, user.language, user.timezone = f"{user.username}@example.org", language, zone
    user.save()
    return user


def test_an_invitation_email_is_in_the_recipients_language_and_zone(
        jpn_user: Any, kor_user: Any, django_capture_on_commit_callbacks: Callable[..., Any]) -> None:
    meeting = _meeting(jpn_user)
    _recipient(kor_user, "ja", "Asia/Seoul")
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        notify.notify(NotificationKind.INVITATION, [kor_user], meeting=meeting)
    body = mail.outbox[0].body
    assert "2026年12月10日(木) 16:00 (Asia/Seoul)" in body
    assert "Cyber talks" in body and "You are invited" not in body
    assert translation.get_language() == "en"


def test_an_english_recipient_keeps_the_iso_like_date(
        jpn_user: Any, kor_user: Any, django_capture_on_commit_callbacks: Callable[..., Any]) -> None:
    meeting = _meeting(jpn_user)
    _recipient(kor_user, "en", "Asia/Seoul")
    with translation.override("ja"), django_capture_on_commit_callbacks(execute=True):
        notify.notify(NotificationKind.INVITATION, [kor_user], meeting=meeting)
    assert "You are invited to “Cyber talks”, 2026-12-10 16:00 (Asia/Seoul)." in mail.outbox[0].body


def test_a_recipient_language_the_node_does_not_offer_falls_back_to_english(
        jpn_user: Any, kor_user: Any, django_capture_on_commit_callbacks: Callable[..., Any]) -> None:
    meeting = _meeting(jpn_user)
    _recipient(kor_user, "de", "UTC")
    with django_capture_on_commit_callbacks(execute=True):
        notify.notify(NotificationKind.INVITATION, [kor_user], meeting=meeting)
    assert "You are invited" in mail.outbox[0].body


def test_the_minutes_print_page_follows_the_readers_language(jpn_user: Any) -> None:
    meeting = _meeting(jpn_user)
    jpn_user.language = "ja"
    jpn_user.save()
    client = Client()
    client.force_login(jpn_user)
    body = client.get(f"/consultations/meetings/{meeting.pk}/minutes/print/").content.decode()
    assert '<html lang="ja"' in body and "2026年12月10日(木)" in body
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    body = client.get(f"/consultations/meetings/{meeting.pk}/minutes/print/").content.decode()
    assert "jeudi 10 décembre 2026" in body


def test_the_minutes_pdf_is_in_the_readers_saved_language(jpn_user: Any) -> None:
    import io

    from pypdf import PdfReader

    from kizuna.consultations.printing.pdf import missing_font_packages

    if missing_font_packages():
        pytest.skip("the CJK fonts of the PDF are not installed")
    meeting = _meeting(jpn_user)
    jpn_user.language = "ja"
    jpn_user.save()
    client = Client()
    client.force_login(jpn_user)
    response = client.get(f"/consultations/meetings/{meeting.pk}/minutes.pdf")
    assert response.status_code == 200
    text = "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "印刷者：hanako" in text and "出席者" in text and "日時（UTC）" in text and "2026年12月10日(木)" in text
    assert "Printed by" not in text
    # The page's own words were escaped, not set in the CJK font: reportlab drew each as a black square.
    assert "■" not in text
