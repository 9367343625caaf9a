"""Consultation notifications obey the label rules: a notice is recorded only for whom may see its record, hidden and
not emailed once they may no longer see it, made once per key; email follows each person's mode (immediate, daily
digest, off); due and overdue actions are noticed once per due date; the inbox and settings pages and the CLI."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from kizuna.consultations import notify
from kizuna.consultations.models import (
    ActionItem,
    ActionStatus,
    Meeting,
    NotificationKind,
)
from kizuna.consultations.services import (
    MeetingInput,
    do_create_action,
    do_create_meeting,
    do_set_action_status,
    do_update_meeting,
)
from kizuna.core.access import intern_label, label_display, label_of
from kizuna.directory.models import Organisation
from kizuna.notifications import services as notification_services
from kizuna.notifications.models import EmailMode, Notification, Preference
from tests.conftest import make_label

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


def _meeting(author: Any, releasable: list[str], title: str = "NATO–Japan–Korea Cyber Consultations",
             days: int = 7) -> Meeting:
    start = timezone.now().replace(microsecond=0) + timedelta(days=days)
    return do_create_meeting(author, MeetingInput(
        title=title, label=make_label(releasable_to=releasable), start=start, end=start + timedelta(hours=1),
        time_zone="Asia/Tokyo", link="https://meet.example.org/cyber"))


def _action(author: Any, meeting: Meeting, due: date | None, releasable: list[str], title: str = "Share the exercise "
            "lessons", **owner: Any) -> ActionItem:
    return do_create_action(author, title, make_label(releasable_to=releasable), meeting=meeting, due=due, **owner)


def _with_email(user: Any, address: str) -> Any:
    user.email = address
    user.save(update_fields=["email"])
    return user


@pytest.fixture
def korean(kor_user: Any) -> Any:
    return _with_email(kor_user, "minjun@example.org")


@pytest.fixture
def japanese(jpn_user: Any) -> Any:
    return _with_email(jpn_user, "hanako@example.org")


# --- recording ------------------------------------------------------------------------------------------------------

def test_notice_is_recorded_only_for_users_who_may_see_the_meeting(japanese: Any, korean: Any) -> None:
    shared = _meeting(japanese, ["JPN", "KOR"])
    japan_only = _meeting(japanese, ["JPN"], title="Japan only")
    assert notify.notify(NotificationKind.INVITATION, [japanese, korean], meeting=shared) == 2
    assert notify.notify(NotificationKind.INVITATION, [japanese, korean], meeting=japan_only) == 1
    assert not Notification.objects.filter(user=korean, ref=notify.ref_of(japan_only)).exists()
    assert [e.notification.ref for e in notify.inbox(korean)] == [notify.ref_of(shared)]


def test_inactive_user_gets_no_notice(japanese: Any, korean: Any) -> None:
    meeting = _meeting(japanese, ["JPN", "KOR"])
    korean.is_active = False
    korean.save(update_fields=["is_active"])
    assert notify.notify(NotificationKind.INVITATION, [korean], meeting=meeting) == 0
    assert not Notification.objects.exists()


def test_same_notice_is_recorded_once_per_key(japanese: Any, korean: Any) -> None:
    meeting = _meeting(japanese, ["JPN", "KOR"])
    assert notify.notify(NotificationKind.AGENDA_PUBLISHED, [korean, korean], meeting=meeting) == 1
    assert notify.notify(NotificationKind.AGENDA_PUBLISHED, [korean], meeting=meeting) == 0
    assert notify.notify(NotificationKind.AGENDA_PUBLISHED, [korean], meeting=meeting, key="agenda:again") == 1
    assert Notification.objects.filter(user=korean).count() == 2


def test_meeting_change_is_noticed_again_at_each_sequence(japanese: Any, korean: Any) -> None:
    meeting = _meeting(japanese, ["JPN", "KOR"])
    assert notify.notify(NotificationKind.MEETING_CHANGED, [korean], meeting=meeting) == 1
    moved = do_update_meeting(japanese, meeting, title="Cyber consultations (moved)")
    assert notify.notify(NotificationKind.MEETING_CHANGED, [korean], meeting=moved) == 1
    assert notify.notify(NotificationKind.MEETING_CHANGED, [korean], meeting=moved) == 0


def test_notify_refuses_a_notice_about_nothing(korean: Any) -> None:
    with pytest.raises(ValueError):
        notify.notify(NotificationKind.INVITATION, [korean])
    with pytest.raises(ValueError):
        notify.notify("gossip", [korean], meeting=None)


# --- the inbox ------------------------------------------------------------------------------------------------------

def test_relabelled_meeting_hides_its_notice_and_is_not_emailed(japanese: Any, korean: Any,
                                                                 django_capture_on_commit_callbacks: Capture) -> None:
    meeting = _meeting(japanese, ["JPN", "KOR"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify.notify(NotificationKind.INVITATION, [korean], meeting=meeting)
    assert notify.unread_count(korean) == 1
    do_update_meeting(japanese, meeting, label=make_label(releasable_to=["JPN"]))
    # The email is made when it is sent: by then Korea may no longer see the meeting.
    for callback in callbacks:
        callback()
    assert mail.outbox == []
    assert notify.inbox(korean) == []
    assert notify.unread_count(korean) == 0
    assert Notification.objects.get(user=korean).emailed_at is None
    notification_services.send_digests(timezone.now() + timedelta(days=2))
    assert mail.outbox == []


def test_inbox_lists_unread_first_and_mark_read(japanese: Any, korean: Any) -> None:
    first = _meeting(japanese, ["JPN", "KOR"], title="First")
    second = _meeting(japanese, ["JPN", "KOR"], title="Second")
    notify.notify(NotificationKind.INVITATION, [korean], meeting=first)
    notify.notify(NotificationKind.INVITATION, [korean], meeting=second)
    older = Notification.objects.get(user=korean, ref=notify.ref_of(first))
    assert notify.mark_read(korean, [Notification.objects.get(user=korean, ref=notify.ref_of(second)).pk]) == 1
    entries = notify.inbox(korean)
    assert [e.notification.ref for e in entries] == [notify.ref_of(first), notify.ref_of(second)]  # unread first
    assert [e.unread for e in entries] == [True, False]
    assert entries[0].title == "Invitation: First"
    assert entries[0].url == f"/consultations/meetings/{first.pk}/"
    assert notify.unread_count(korean) == 1
    assert [e.notification.pk for e in notify.inbox(korean, unread_only=True)] == [older.pk]
    assert notify.mark_read(korean) == 1
    assert notify.unread_count(korean) == 0


def test_inbox_does_not_mark_other_users_notices(japanese: Any, korean: Any) -> None:
    meeting = _meeting(japanese, ["JPN", "KOR"])
    notify.notify(NotificationKind.INVITATION, [japanese, korean], meeting=meeting)
    theirs = Notification.objects.get(user=japanese)
    assert notify.mark_read(korean, [theirs.pk]) == 0
    assert Notification.objects.get(pk=theirs.pk).read_at is None


# --- email ----------------------------------------------------------------------------------------------------------

def test_immediate_email_carries_the_marking_and_the_link(japanese: Any, korean: Any,
                                                          django_capture_on_commit_callbacks: Capture) -> None:
    meeting = _meeting(japanese, ["JPN", "KOR"])
    with django_capture_on_commit_callbacks(execute=True):
        notify.notify(NotificationKind.AGENDA_PUBLISHED, [korean], meeting=meeting)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    marking = label_display(label_of(meeting.label))
    assert message.to == ["minjun@example.org"]
    assert message.subject == f"{marking} [Kizuna] Agenda published: {meeting.title}"
    assert message.body.startswith(marking) and message.body.rstrip().endswith(marking)
    assert f"/consultations/meetings/{meeting.pk}/" in message.body
    assert message.extra_headers["X-Kizuna-Label"] == marking
    assert Notification.objects.get(user=korean).emailed_at is not None


def test_immediate_email_uses_the_base_url_when_set(japanese: Any, korean: Any, settings: Any,
                                                   django_capture_on_commit_callbacks: Capture) -> None:
    settings.KIZUNA_BASE_URL = "https://kizuna.example.org/"
    meeting = _meeting(japanese, ["JPN", "KOR"])
    with django_capture_on_commit_callbacks(execute=True):
        notify.notify(NotificationKind.INVITATION, [korean], meeting=meeting)
    assert f"https://kizuna.example.org/consultations/meetings/{meeting.pk}/" in mail.outbox[0].body


def test_nothing_is_emailed_when_the_write_rolls_back(japanese: Any, korean: Any,
                                                      django_capture_on_commit_callbacks: Capture) -> None:
    from django.db import transaction

    meeting = _meeting(japanese, ["JPN", "KOR"])
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            notify.notify(NotificationKind.INVITATION, [korean], meeting=meeting)
            raise RuntimeError("the service failed")
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_email_off_sends_nothing_ever(japanese: Any, korean: Any,
                                      django_capture_on_commit_callbacks: Capture) -> None:
    notification_services.set_email_mode(korean, EmailMode.OFF)
    meeting = _meeting(japanese, ["JPN", "KOR"])
    with django_capture_on_commit_callbacks(execute=True):
        assert notify.notify(NotificationKind.INVITATION, [korean], meeting=meeting) == 1
    assert notification_services.send_digests(timezone.now() + timedelta(days=2)) == 0
    assert mail.outbox == []
    assert notify.unread_count(korean) == 1  # the inbox still has it
    # Choosing the digest later does not send what arrived while email was off.
    notification_services.set_email_mode(korean, EmailMode.DAILY)
    assert notification_services.send_digests(timezone.now() + timedelta(days=2)) == 0
    assert mail.outbox == []


def test_daily_digest_is_one_email_at_most_once_a_day(japanese: Any, korean: Any,
                                                      django_capture_on_commit_callbacks: Capture) -> None:
    notification_services.set_email_mode(korean, EmailMode.DAILY)
    first = _meeting(japanese, ["JPN", "KOR"], title="First")
    second = _meeting(japanese, ["IP4"], title="Second")
    with django_capture_on_commit_callbacks(execute=True):
        notify.notify(NotificationKind.INVITATION, [korean], meeting=first)
        notify.notify(NotificationKind.MINUTES_PUBLISHED, [korean], meeting=second)
    assert mail.outbox == []  # not immediately
    now = timezone.now()
    assert notification_services.send_digests(now) == 0  # the day that began when daily was chosen is not over
    assert notification_services.send_digests(now + timedelta(hours=24, minutes=5)) == 0
    assert notification_services.send_digests(now + timedelta(hours=25)) == 1
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "Invitation: First" in body and "Minutes published: Second" in body
    assert label_display(label_of(first.label)) in body and label_display(label_of(second.label)) in body
    assert "Daily digest: 2 notifications" in mail.outbox[0].subject
    assert not Notification.objects.filter(user=korean, emailed_at__isnull=True).exists()
    assert notification_services.send_digests(now + timedelta(hours=26)) == 0
    third = _meeting(japanese, ["IP4"], title="Third")
    notify.notify(NotificationKind.INVITATION, [korean], meeting=third)
    # As if it were made the day after the first digest.
    Notification.objects.filter(ref=notify.ref_of(third)).update(created_at=now + timedelta(hours=27))
    assert notification_services.send_digests(now + timedelta(hours=30)) == 0  # less than 24 h since the last digest
    assert notification_services.send_digests(now + timedelta(hours=50)) == 1
    assert "Invitation: Third" in mail.outbox[1].body and "First" not in mail.outbox[1].body
    assert Preference.objects.get(user=korean).last_digest_at == now + timedelta(hours=50)


def test_email_mode_refuses_unknown_value(korean: Any) -> None:
    from kizuna.core.errors import ServiceError

    with pytest.raises(ServiceError) as err:
        notification_services.set_email_mode(korean, "hourly")
    assert err.value.field == "email_mode"
    assert not Preference.objects.exists()


# --- reminders ------------------------------------------------------------------------------------------------------

def test_due_soon_and_overdue_are_noticed_once_per_due_date(japanese: Any, korean: Any) -> None:
    today = date(2026, 12, 1)
    meeting = _meeting(japanese, ["JPN", "KOR"])
    action = _action(japanese, meeting, today + timedelta(days=3), ["JPN", "KOR"], owner_user=korean)
    _action(japanese, meeting, today + timedelta(days=4), ["JPN", "KOR"], title="Later", owner_user=korean)
    assert notify.scan_due(today) == 1
    assert notify.scan_due(today) == 0
    soon = Notification.objects.get(user=korean, kind=NotificationKind.ACTION_DUE_SOON)
    assert (soon.kind, soon.ref, soon.key) == (NotificationKind.ACTION_DUE_SOON, f"action:{action.pk}",
                                                      f"action_due_soon:{action.pk}:2026-12-04")
    entry = next(e for e in notify.inbox(korean) if e.notification.pk == soon.pk)
    assert entry.title == "Action due in 3 days: Share the exercise lessons"
    assert entry.url == "/consultations/actions/" and "2026-12-04" in entry.text
    overdue_day = today + timedelta(days=4)
    assert notify.scan_due(overdue_day) == 2  # the first is overdue, "Later" is due today
    assert notify.scan_due(overdue_day) == 0
    assert Notification.objects.filter(kind=NotificationKind.ACTION_OVERDUE, ref=notify.ref_of(action)).count() == 1
    # A new due date is a new reminder.
    ActionItem.objects.filter(pk=action.pk).update(due=overdue_day + timedelta(days=2))
    assert notify.scan_due(overdue_day) == 1
    # Done actions are left alone.
    do_set_action_status(korean, action, ActionStatus.DONE)
    assert notify.scan_due(overdue_day + timedelta(days=10)) == 1  # only "Later", now overdue


def test_organisation_owned_action_reminds_its_active_members_who_may_see_it(japanese: Any, make_user: Any) -> None:
    today = date(2026, 12, 1)
    colleague = make_user("sora", "JPN", "JPN-MOD")
    away = make_user("ren", "JPN", "JPN-MOD")
    away.is_active = False
    away.save(update_fields=["is_active"])
    uncleared = make_user("kaito", "JPN", "JPN-MOD", communities=[])
    meeting = _meeting(japanese, ["JPN"])
    action = do_create_action(japanese, "Draft the cyber annex", make_label(releasable_to=["JPN"], communities=["CYBER"]),
                              meeting=meeting, due=today - timedelta(days=1),
                              owner_organisation=Organisation.objects.get(code="JPN-MOD"))
    assert notify.scan_due(today) == 2
    reminders = Notification.objects.filter(ref=notify.ref_of(action), kind=NotificationKind.ACTION_OVERDUE)
    assert set(reminders.values_list("user__username", flat=True)) == {
        japanese.username, colleague.username}
    assert uncleared.pk not in set(reminders.values_list("user_id", flat=True))


def test_scan_for_one_user_only_notices_their_own(japanese: Any, korean: Any) -> None:
    today = timezone.localdate()
    meeting = _meeting(japanese, ["JPN", "KOR"])
    _action(japanese, meeting, today - timedelta(days=1), ["JPN", "KOR"], owner_user=korean)
    _action(japanese, meeting, today - timedelta(days=1), ["JPN", "KOR"], owner_user=japanese)
    assert notify.scan_due_for(korean, today) == 1
    reminders = Notification.objects.filter(kind=NotificationKind.ACTION_OVERDUE)
    assert list(reminders.values_list("user_id", flat=True)) == [korean.pk]


def test_action_notice_is_hidden_when_the_action_is_relabelled(japanese: Any, korean: Any) -> None:
    today = date(2026, 12, 1)
    meeting = _meeting(japanese, ["JPN", "KOR"])
    action = _action(japanese, meeting, today, ["JPN", "KOR"], owner_user=korean)
    assert notify.scan_due(today) == 1
    # As a relabel by the cycle's action edit would leave it: Korea may no longer see the action.
    ActionItem.objects.filter(pk=action.pk).update(label=intern_label(make_label(releasable_to=["JPN"])))
    assert notify.inbox(korean) == [] and notify.unread_count(korean) == 0


# --- pages ----------------------------------------------------------------------------------------------------------

def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_inbox_page_lists_visible_notices_and_marks_all_read(japanese: Any, korean: Any) -> None:
    shared = _meeting(japanese, ["JPN", "KOR"], title="Shared dialogue")
    notify.notify(NotificationKind.INVITATION, [korean], meeting=shared)
    client = _client(korean)
    page = client.get("/consultations/inbox/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Invitation: Shared dialogue" in text and 'data-unread="1"' in text
    assert f'href="/consultations/meetings/{shared.pk}/"' in text
    assert "REL TO JPN, KOR" in text  # the banner and the chip
    response = client.post("/consultations/inbox/read/")
    assert response.status_code == 302 and response["Location"] == "/consultations/inbox/"
    assert notify.unread_count(korean) == 0
    assert 'data-unread="1"' not in client.get("/consultations/inbox/").content.decode()


def test_inbox_page_shows_own_overdue_actions_without_a_worker(japanese: Any, korean: Any) -> None:
    meeting = _meeting(japanese, ["JPN", "KOR"])
    _action(japanese, meeting, timezone.localdate() - timedelta(days=2), ["JPN", "KOR"], title="Send the report",
            owner_user=korean)
    text = _client(korean).get("/consultations/inbox/").content.decode()
    assert "Action overdue: Send the report" in text


def test_inbox_page_needs_sign_in() -> None:
    response = Client().get("/consultations/inbox/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_account_page_saves_the_email_mode_for_every_module(korean: Any) -> None:
    client = _client(korean)
    assert client.get("/consultations/settings/").status_code == 200  # the feed; it links to the account page
    page = client.get("/account/").content.decode()
    assert 'data-testid="email-settings"' in page and 'value="weekly"' in page
    response = client.post("/inbox/email/", {"email_mode": "daily"})
    assert response.status_code == 302 and response["Location"] == "/account/#email"
    assert Preference.objects.get(user=korean).email_mode == EmailMode.DAILY
    bad = client.post("/inbox/email/", {"email_mode": "hourly"})
    assert bad.status_code == 302
    assert Preference.objects.get(user=korean).email_mode == EmailMode.DAILY


def test_settings_page_shows_the_feed_url_once_and_revokes_it(korean: Any) -> None:
    client = _client(korean)
    page = client.post("/consultations/settings/", {"do": "feed"})
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-testid="new-feed-url"' in text
    token = text.split("/consultations/feed/", 1)[1].split(".ics", 1)[0]
    assert notify.user_for_feed(token) == korean
    again = client.get("/consultations/settings/").content.decode()
    assert token not in again and 'data-testid="feed-revoke"' in again
    assert client.post("/consultations/settings/", {"do": "revoke"}).status_code == 302
    assert notify.user_for_feed(token) is None


# --- the command line -------------------------------------------------------------------------------------------------

def test_remind_command_prints_counts(japanese: Any, korean: Any) -> None:
    import io

    meeting = _meeting(japanese, ["JPN", "KOR"])
    _action(japanese, meeting, date(2026, 12, 4), ["JPN", "KOR"], owner_user=korean)
    out = io.StringIO()
    call_command("consultations", "remind", "--today", "2026-12-01", stdout=out)
    assert out.getvalue().strip() == "1 reminder(s) noticed, 0 digest(s) sent"


def test_remind_command_refuses_a_bad_date() -> None:
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("consultations", "remind", "--today", "2026-02-30")
    with pytest.raises(CommandError, match="--every"):
        call_command("consultations", "remind", "--loop", "--every", "1")


def test_remind_command_exits_non_zero_with_one_line(tmp_path: Any) -> None:
    result = subprocess.run([sys.executable, "-m", "kizuna", "consultations", "remind", "--today", "tomorrow"],
                            capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "KIZUNA_DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "kizuna consultations: error: --today must be a date as YYYY-MM-DD, not 'tomorrow'"]


def test_feed_url_command_prints_a_working_path_once(korean: Any) -> None:
    import io

    out = io.StringIO()
    call_command("consultations", "feed-url", korean.username, stdout=out)
    path = out.getvalue().strip().splitlines()[-1]
    assert path.startswith("/consultations/feed/") and path.endswith(".ics")
    assert notify.user_for_feed(path.removeprefix("/consultations/feed/").removesuffix(".ics")) == korean
    with pytest.raises(CommandError, match="unknown user"):
        call_command("consultations", "feed-url", "nobody")
