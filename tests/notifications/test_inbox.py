"""The one inbox: every module's notifications in one model, page and badge; hidden means missing (an entry, a count
or the badge appears only while the record it names is visible to the reader now); mark read; once per key."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from kizuna.consultations import notify
from kizuna.consultations.models import Meeting, NotificationKind
from kizuna.consultations.services import MeetingInput, do_create_meeting, do_update_meeting
from kizuna.notifications import queries, registry, services
from kizuna.notifications.models import Notification
from kizuna.threats.models import StixObject
from kizuna.threats.watch import services as watch
from tests.conftest import make_label
from tests.threats.test_views import REL_BOTH, REL_KOR, put

pytestmark = pytest.mark.django_db


def _meeting(author: Any, releasable: list[str], title: str = "Cyber consultations") -> Meeting:
    start = timezone.now().replace(microsecond=0) + timedelta(days=7)
    return do_create_meeting(author, MeetingInput(
        title=title, label=make_label(releasable_to=releasable), start=start, end=start + timedelta(hours=1),
        time_zone="Asia/Tokyo", link="https://meet.example.org/cyber"))


def _watch_match(user: Any, obj: StixObject) -> Notification:
    return Notification.objects.create(user=user, module=watch.MODULE, kind=watch.WATCH_MATCH, ref=obj.stix_id,
                                       key=watch.watch_key(obj.stix_id))


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def both(jpn_user: Any, kor_user: Any) -> dict[str, Any]:
    """For the Japanese user: a consultation notice and a watch match, each about a record shared with Korea."""
    meeting = _meeting(kor_user, ["JPN", "KOR"], title="Shared dialogue")
    notify.notify(NotificationKind.INVITATION, [jpn_user], meeting=meeting)
    obj = put(kor_user, "indicator", make_label(**REL_BOTH), name="Shared indicator")
    _watch_match(jpn_user, obj)
    return {"meeting": meeting, "obj": obj}


def test_modules_register_their_resolvers() -> None:
    assert {"consultations", "threats"} <= set(registry.modules())
    assert registry.resolver("consultations").mail_entries  # type: ignore[union-attr]
    assert not registry.resolver("threats").mail_entries  # type: ignore[union-attr]  # counts only


def test_one_notice_per_user_module_and_key(jpn_user: Any, kor_user: Any) -> None:
    obj = put(kor_user, "indicator", make_label(**REL_BOTH), name="x")
    _watch_match(jpn_user, obj)
    _watch_match(kor_user, obj)  # another user: fine
    Notification.objects.create(user=jpn_user, module="elsewhere", kind="k", ref="1", key=watch.watch_key(obj.stix_id))
    with pytest.raises(IntegrityError), transaction.atomic():
        _watch_match(jpn_user, obj)
    # store() skips what exists instead of failing.
    again = Notification(user=jpn_user, module=watch.MODULE, kind=watch.WATCH_MATCH, ref=obj.stix_id,
                         key=watch.watch_key(obj.stix_id))
    assert services.store([again]) == 0
    with pytest.raises(ValueError):
        services.store([again, Notification(user=jpn_user, module="other", kind="k", ref="r", key="k")])


def test_inbox_holds_every_module_and_counts_them_together(jpn_user: Any, both: dict[str, Any]) -> None:
    entries = queries.inbox(jpn_user)
    assert {e.notification.module for e in entries} == {"consultations", "threats"}
    assert queries.unread_count(jpn_user) == 2
    assert queries.unread_count(jpn_user, "threats") == 1 and notify.unread_count(jpn_user) == 1
    titles = {e.title for e in entries}
    assert titles == {"Invitation: Shared dialogue", "Shared indicator"}
    threat = next(e for e in entries if e.notification.module == "threats")
    assert threat.url == f"/threats/objects/{both['obj'].stix_id}/" and threat.detail["type"] == "indicator"


def test_newest_first_and_unread_first(jpn_user: Any, both: dict[str, Any]) -> None:
    old = Notification.objects.get(module="consultations")
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=1))
    assert [e.notification.module for e in queries.inbox(jpn_user)] == ["threats", "consultations"]
    services.mark_read(jpn_user, [Notification.objects.get(module="threats").pk])
    assert [e.notification.module for e in queries.inbox(jpn_user)] == ["consultations", "threats"]
    assert [e.notification.module for e in queries.inbox(jpn_user, unread_first=False)] == ["threats", "consultations"]


def test_a_record_no_longer_visible_leaves_no_entry_count_or_badge(jpn_user: Any, kor_user: Any,
                                                                   both: dict[str, Any]) -> None:
    client = _client(jpn_user)
    assert 'data-testid="inbox-unread"' in client.get("/reports/").content.decode()
    do_update_meeting(kor_user, both["meeting"], label=make_label(releasable_to=["KOR"]))
    StixObject.objects.filter(pk=both["obj"].pk).update(is_current=False)
    put(kor_user, "indicator", make_label(**REL_KOR), stix_id=both["obj"].stix_id, name="Now Korean only",
        modified="2026-04-01T00:00:00.000Z")
    assert queries.inbox(jpn_user) == [] and queries.unread_count(jpn_user) == 0
    page = client.get("/inbox/").content.decode()
    assert "Shared" not in page and "Korean only" not in page and 'data-testid="inbox-empty"' in page
    assert 'data-testid="inbox-unread"' not in client.get("/reports/").content.decode()
    # The rows are still there (the record may become visible again); they are only never shown.
    assert Notification.objects.filter(user=jpn_user).count() == 2


def test_a_module_without_a_resolver_shows_nothing(jpn_user: Any) -> None:
    Notification.objects.create(user=jpn_user, module="unknown", kind="k", ref="1", key="k")
    assert queries.inbox(jpn_user) == [] and queries.unread_count(jpn_user) == 0


def test_inbox_page_lists_every_module_and_marks_read(jpn_user: Any, both: dict[str, Any]) -> None:
    client = _client(jpn_user)
    body = client.get("/inbox/").content.decode()
    assert "Invitation: Shared dialogue" in body and "Shared indicator" in body
    assert body.count('data-unread="1"') == 2
    assert "REL TO JPN, KOR" in body
    assert 'href="/consultations/settings/"' in body  # a module's settings page, named by its resolver
    badge = client.get("/reports/").content.decode()
    assert 'href="/inbox/" data-testid="nav-inbox">Inbox <span class="nav-count" data-testid="inbox-unread">2 new<' in badge
    only = client.get("/inbox/", {"module": "threats"}).content.decode()
    assert "Shared indicator" in only and "Shared dialogue" not in only
    assert client.get("/inbox/", {"module": "nothing"}).status_code == 404
    watch_note = Notification.objects.get(module="threats")
    response = client.post("/inbox/read/", {"id": str(watch_note.pk)})
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    assert queries.unread_count(jpn_user) == 1
    assert client.post("/inbox/read/", {"id": "x"}).status_code == 404
    assert client.post("/inbox/read/").status_code == 302
    assert queries.unread_count(jpn_user) == 0


def test_old_addresses_show_their_module(jpn_user: Any, both: dict[str, Any]) -> None:
    client = _client(jpn_user)
    consultations = client.get("/consultations/inbox/").content.decode()
    assert "Shared dialogue" in consultations and "Shared indicator" not in consultations
    threats = client.get("/threats/inbox/").content.decode()
    assert "Shared indicator" in threats and "Shared dialogue" not in threats
    assert 'href="/consultations/settings/"' not in threats
    # Marking all read at a module's address marks only that module's.
    assert client.post("/threats/inbox/read/")["Location"] == "/threats/inbox/"
    assert queries.unread_count(jpn_user) == 1 and notify.unread_count(jpn_user) == 1


def test_nobody_marks_another_users_notice(jpn_user: Any, kor_user: Any, both: dict[str, Any]) -> None:
    theirs = Notification.objects.get(module="threats")
    assert services.mark_read(kor_user, [theirs.pk]) == 0
    _client(kor_user).post("/inbox/read/", {"id": str(theirs.pk)})
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_deleting_a_meeting_deletes_its_notices(jpn_user: Any, both: dict[str, Any]) -> None:
    Meeting.objects.filter(pk=both["meeting"].pk).delete()
    assert not Notification.objects.filter(module="consultations").exists()
    assert Notification.objects.filter(module="threats").exists()


def test_the_page_needs_sign_in() -> None:
    response = Client().get("/inbox/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_watch_notice_about_a_relationship_with_a_hidden_end_stays_hidden(jpn_user: Any, kor_user: Any) -> None:
    from tests.threats.test_views import REL_JPN, relate

    mine = put(jpn_user, "indicator", make_label(**REL_BOTH), name="shared")
    hidden = put(kor_user, "threat-actor", make_label(**REL_KOR), name="Hidden actor")
    shown = relate(kor_user, mine, mine, make_label(**REL_BOTH))
    not_shown = relate(kor_user, mine, hidden, make_label(**REL_BOTH))
    for obj in (shown, not_shown):
        _watch_match(jpn_user, obj)
    assert [e.notification.ref for e in queries.inbox(jpn_user)] == [shown.stix_id]
    assert queries.unread_count(jpn_user) == 1
    # The Korean reader sees both ends, so both notices would count for them.
    for obj in (shown, not_shown):
        _watch_match(kor_user, obj)
    assert queries.unread_count(kor_user) == 2
    assert put(jpn_user, "indicator", make_label(**REL_JPN), name="own").stix_id not in {
        e.notification.ref for e in queries.inbox(kor_user)}


def test_the_page_renders_in_japanese(jpn_user: Any, both: dict[str, Any]) -> None:
    from django.conf import settings

    client = _client(jpn_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    body = client.get("/inbox/").content.decode()
    assert "受信箱" in body and "脅威ウォッチ" in body and "すべて既読にする" in body
    assert "新着 2 件" in client.get("/reports/").content.decode()
