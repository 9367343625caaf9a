"""Digests of every module's notifications: daily or weekly as each person chooses (on the account page), by e-mail
and as one inbox entry, in the person's language, holding only what they may still see when it is sent, sent once per
period by the periodic job ``notifications.digests`` whatever the number of workers; and the move of the e-mail
choice out of consultations (the data migration keeps existing choices)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from kizuna.consultations import notify
from kizuna.consultations.models import Meeting, NotificationKind
from kizuna.consultations.services import MeetingInput, do_create_meeting, do_update_meeting
from kizuna.core.access import label_display, label_of
from kizuna.jobs import queue
from kizuna.notifications import queries, services
from kizuna.notifications.models import EmailMode, Notification, Preference
from kizuna.notifications.services import DIGEST_MODULE
from kizuna.threats.watch import services as watch
from tests.conftest import make_label

pytestmark = pytest.mark.django_db


def _meeting(author: Any, releasable: list[str], title: str) -> Meeting:
    start = timezone.now().replace(microsecond=0) + timedelta(days=10)
    return do_create_meeting(author, MeetingInput(
        title=title, label=make_label(releasable_to=releasable), start=start, end=start + timedelta(hours=1),
        time_zone="Asia/Tokyo", link="https://meet.example.org/d"))


def _with_email(user: Any, address: str, language: str = "en") -> Any:
    user.email = address
    user.language = language
    user.save(update_fields=["email", "language"])
    return user


@pytest.fixture
def korean(kor_user: Any) -> Any:
    return _with_email(kor_user, "minjun@example.org")


@pytest.fixture
def japanese(jpn_user: Any) -> Any:
    return _with_email(jpn_user, "hanako@example.org", language="ja")


def _invite(author: Any, user: Any, releasable: list[str], title: str, at: Any = None) -> Meeting:
    meeting = _meeting(author, releasable, title)
    notify.notify(NotificationKind.INVITATION, [user], meeting=meeting)
    if at is not None:
        Notification.objects.filter(user=user, ref=notify.ref_of(meeting)).update(created_at=at)
    return meeting


def _digests_of(user: Any) -> list[Notification]:
    return list(Notification.objects.filter(user=user, module=DIGEST_MODULE).order_by("created_at"))


def test_a_weekly_user_gets_one_digest_a_week_not_a_day(japanese: Any, korean: Any) -> None:
    services.set_email_mode(korean, EmailMode.WEEKLY)
    start = timezone.now()
    _invite(japanese, korean, ["JPN", "KOR"], "Monday meeting", at=start + timedelta(hours=1))
    assert mail.outbox == []  # not immediately
    for day in range(1, 7):  # each day of the first week: nothing yet
        assert services.send_digests(start + timedelta(days=day, minutes=20)) == 0
    assert mail.outbox == []
    assert services.send_digests(start + timedelta(days=7, minutes=20)) == 1
    assert len(mail.outbox) == 1
    assert "Weekly digest: 1 notification" in mail.outbox[0].subject
    assert "Invitation: Monday meeting" in mail.outbox[0].body
    # Something new the next day waits for the next week.
    _invite(japanese, korean, ["JPN", "KOR"], "Tuesday meeting", at=start + timedelta(days=8))
    for day in range(8, 14):
        assert services.send_digests(start + timedelta(days=day, hours=1)) == 0
    assert services.send_digests(start + timedelta(days=14, minutes=30)) == 1
    assert len(mail.outbox) == 2 and "Tuesday meeting" in mail.outbox[1].body
    assert "Monday meeting" not in mail.outbox[1].body


def test_a_daily_user_gets_a_digest_the_next_day(japanese: Any, korean: Any) -> None:
    services.set_email_mode(korean, EmailMode.DAILY)
    start = timezone.now()
    _invite(japanese, korean, ["JPN", "KOR"], "Daily item", at=start + timedelta(hours=1))
    assert services.send_digests(start + timedelta(hours=12)) == 0
    assert services.send_digests(start + timedelta(days=1, minutes=20)) == 1
    assert "Daily digest: 1 notification" in mail.outbox[0].subject


def test_the_digest_is_one_inbox_entry_too(japanese: Any, korean: Any) -> None:
    services.set_email_mode(korean, EmailMode.DAILY)
    start = timezone.now()
    first = _invite(japanese, korean, ["JPN", "KOR"], "First", at=start + timedelta(hours=1))
    _invite(japanese, korean, ["JPN", "KOR"], "Second", at=start + timedelta(hours=2))
    assert services.send_digests(start + timedelta(days=1, minutes=20)) == 1
    [digest] = _digests_of(korean)
    entries = {e.notification.pk: e for e in queries.inbox(korean)}
    assert entries[digest.pk].title == "Daily digest: 2 notifications"
    client = Client()
    client.force_login(korean)
    page = client.get(f"/inbox/digest/{digest.pk}/")
    html = page.content.decode()
    assert page.status_code == 200 and "Invitation: First" in html and "Invitation: Second" in html
    assert label_display(label_of(first.label)) in html
    # Another person's digest answers as a missing one.
    other = Client()
    other.force_login(japanese)
    assert other.get(f"/inbox/digest/{digest.pk}/").status_code == 404
    assert other.get("/inbox/digest/999999/").status_code == 404


def test_an_item_whose_record_became_invisible_is_not_in_the_digest(japanese: Any, korean: Any) -> None:
    services.set_email_mode(korean, EmailMode.WEEKLY)
    start = timezone.now()
    _invite(japanese, korean, ["JPN", "KOR"], "Dgst-kept", at=start + timedelta(hours=1))
    gone = _invite(japanese, korean, ["JPN", "KOR"], "Dgst-gone", at=start + timedelta(hours=2))
    do_update_meeting(japanese, gone, label=make_label(releasable_to=["JPN"]))  # Korea may no longer see it
    assert services.send_digests(start + timedelta(days=7, minutes=20)) == 1
    body, subject = mail.outbox[0].body, mail.outbox[0].subject
    assert "Dgst-kept" in body and "Dgst-gone" not in body and "Dgst-gone" not in subject
    assert "Weekly digest: 1 notification" in subject  # the count leaves it out too
    [digest] = _digests_of(korean)
    client = Client()
    client.force_login(korean)
    assert "Dgst-gone" not in client.get(f"/inbox/digest/{digest.pk}/").content.decode()
    # Hidden after sending: the inbox entry's count and page follow what the reader may see now.
    kept = Meeting.objects.get(title="Dgst-kept")
    do_update_meeting(japanese, kept, label=make_label(releasable_to=["JPN"]))
    entries = {e.notification.pk: e for e in queries.inbox(korean)}
    assert entries[digest.pk].title == "Weekly digest: 0 notifications"
    assert "Dgst-kept" not in client.get(f"/inbox/digest/{digest.pk}/").content.decode()


def test_watch_matches_are_counted_in_a_digest_never_named(japanese: Any, korean: Any) -> None:
    from tests.threats.test_views import put

    services.set_email_mode(korean, EmailMode.DAILY)
    start = timezone.now()
    obj = put(japanese, "indicator", make_label(releasable_to=["JPN", "KOR"]), name="Dgst-secret-indicator")
    Notification.objects.create(user=korean, module=watch.MODULE, kind=watch.WATCH_MATCH, ref=obj.stix_id,
                                key=watch.watch_key(obj.stix_id), created_at=start + timedelta(hours=1))
    assert services.send_digests(start + timedelta(days=1, minutes=20)) == 1
    body = mail.outbox[0].body
    assert "Dgst-secret-indicator" not in body and "Threat watch: 1 new entry" in body


def test_the_digest_is_in_japanese_for_a_japanese_user(japanese: Any, korean: Any) -> None:
    services.set_email_mode(japanese, EmailMode.DAILY)
    start = timezone.now()
    _invite(korean, japanese, ["JPN", "KOR"], "Dgst-ja", at=start + timedelta(hours=1))
    assert services.send_digests(start + timedelta(days=1, minutes=20)) == 1
    message = mail.outbox[0]
    assert "日次ダイジェスト" in message.subject
    assert "Dgst-ja" in message.body and "Daily digest" not in message.subject
    assert "前回" in message.body  # "since your last daily digest", in Japanese


def test_two_runners_at_the_same_moment_send_one_digest(japanese: Any, korean: Any) -> None:
    services.set_email_mode(korean, EmailMode.DAILY)
    start = timezone.now()
    _invite(japanese, korean, ["JPN", "KOR"], "Once", at=start + timedelta(hours=1))
    when = start + timedelta(days=1, minutes=20)
    assert services.send_digests(when) + services.send_digests(when) == 1
    assert len(mail.outbox) == 1 and len(_digests_of(korean)) == 1


def test_the_periodic_job_is_enqueued_once_per_period_whatever_the_workers() -> None:
    names = [p.name for p in queue.periodic_jobs()]
    assert "notifications.digests" in names
    now = timezone.now()
    first = queue.enqueue_due_periodic(now)  # two workers looking at the same moment
    second = queue.enqueue_due_periodic(now)
    from kizuna.notifications import tasks

    ours = [t for t in first + second if queue.unfinished(tasks.send_digests).filter(pk=t).exists()]
    assert len(ours) == 1


def test_off_and_immediate_users_get_no_digest(japanese: Any, korean: Any) -> None:
    services.set_email_mode(korean, EmailMode.OFF)
    start = timezone.now()
    _invite(japanese, korean, ["JPN", "KOR"], "Not mailed", at=start + timedelta(hours=1))
    assert services.send_digests(start + timedelta(days=8)) == 0
    assert mail.outbox == [] and _digests_of(korean) == []


def test_a_digest_user_gets_no_message_per_watch_batch(japanese: Any, korean: Any) -> None:
    from kizuna.threats.watch.models import WatchFilter
    from tests.threats.test_views import put

    services.set_email_mode(korean, EmailMode.WEEKLY)
    WatchFilter.objects.create(user=korean, name="all indicators", types=["indicator"])
    obj = put(japanese, "indicator", make_label(releasable_to=["JPN", "KOR"]), name="Batch")
    assert watch.notify_new_objects([obj.stix_id]) == 1
    assert mail.outbox == []


def test_the_account_page_offers_the_four_choices(korean: Any) -> None:
    client = Client()
    client.force_login(korean)
    html = client.get("/account/").content.decode()
    for mode in ("immediate", "daily", "weekly", "off"):
        assert f'value="{mode}"' in html
    assert client.post("/inbox/email/", {"email_mode": "weekly"}).status_code == 302
    assert Preference.objects.get(user=korean).email_mode == EmailMode.WEEKLY
