"""The home dashboard (`/`): every panel is a registry contribution, shows only what the reader may see (a record
hidden from them beside a visible one of the same title pattern: the hidden one is absent and no count includes it),
renders for a reader with nothing, and its banners carry the least upper bound of the labels shown."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from kizuna.consultations import notify
from kizuna.consultations.models import Meeting, NotificationKind
from kizuna.consultations.services import MeetingInput, do_create_meeting
from kizuna.consultations.services.actions import do_create_action
from kizuna.core import registry
from kizuna.core.access import label_display
from kizuna.core.registry import Panel, PanelContent, PanelItem
from kizuna.labels import Label
from kizuna.notifications.models import Notification
from kizuna.practices.services import PracticeInput, do_create_practice
from kizuna.reports.services import ReportInput, do_create_report
from kizuna.threats.watch import services as watch
from tests.conftest import make_label

pytestmark = pytest.mark.django_db

SHARED = make_label(releasable_to=["JPN", "KOR"])
KOREA_ONLY = make_label(releasable_to=["KOR"])
TITLE = re.compile(r"Dash-(shared|hidden)-(\w+)")


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _meeting(author: Any, label: Label, title: str) -> Meeting:
    start = timezone.now().replace(microsecond=0) + timedelta(days=3)
    return do_create_meeting(author, MeetingInput(title=title, label=label, start=start, end=start + timedelta(hours=1),
                                                  time_zone="Asia/Tokyo", link="https://meet.example.org/d"))


def _put(owner: Any, label: Label, name: str) -> Any:
    from tests.threats.test_views import put

    return put(owner, "indicator", label, name=name)


def _panel(html: str, key: str) -> str:
    found = re.search(rf'<section[^>]*data-testid="panel-{key}".*?</section>', html, re.S)
    assert found, f"no panel {key}"
    return found.group(0)


def _count(html: str, key: str) -> str | None:
    found = re.search(rf'data-testid="panel-{key}-count">(\d+)<', html)
    return found.group(1) if found else None


@pytest.fixture
def world(jpn_user: Any, kor_user: Any) -> dict[str, Any]:
    """For each panel, one record the Japanese reader may see and one of the same title pattern they may not (Korea
    only), both made by the Korean user; the Japanese reader is told of both."""
    shared_meeting = _meeting(kor_user, SHARED, "Dash-shared-meeting")
    hidden_meeting = _meeting(kor_user, KOREA_ONLY, "Dash-hidden-meeting")
    yesterday = date.today() - timedelta(days=1)
    for label, name in ((SHARED, "shared"), (KOREA_ONLY, "hidden")):
        meeting = shared_meeting if label is SHARED else hidden_meeting
        do_create_action(kor_user, f"Dash-{name}-action", label, meeting=meeting,
                         owner_organisation=jpn_user.organisation, due=yesterday)
        do_create_report(kor_user, ReportInput(title=f"Dash-{name}-report", label=label))
        do_create_practice(kor_user, PracticeInput(title=f"Dash-{name}-practice", label=label))
    shared_obj = _put(kor_user, SHARED, "Dash-shared-threat")
    hidden_obj = _put(kor_user, KOREA_ONLY, "Dash-hidden-threat")
    for obj in (shared_obj, hidden_obj):
        Notification.objects.create(user=jpn_user, module=watch.MODULE, kind=watch.WATCH_MATCH, ref=obj.stix_id,
                                    key=watch.watch_key(obj.stix_id))
    notify.notify(NotificationKind.INVITATION, [jpn_user], meeting=shared_meeting)
    # A notice about the hidden meeting, as if it had been relabelled away after the invitation was sent.
    Notification.objects.create(user=jpn_user, module="consultations", kind=NotificationKind.INVITATION,
                                ref=f"meeting:{hidden_meeting.pk}", record_id=hidden_meeting.pk,
                                key=f"invitation:{hidden_meeting.pk}:0")
    return {"shared_meeting": shared_meeting, "hidden_meeting": hidden_meeting}


@pytest.mark.parametrize("key,kind", [
    ("meetings", "meeting"), ("actions", "action"), ("reports", "report"), ("practices", "practice"),
    ("threats", "threat"),
    ("watch", "threat"), ("notifications", "meeting"),
])
def test_each_panel_shows_the_visible_record_and_not_the_hidden_one(jpn_user: Any, world: dict[str, Any], key: str,
                                                                    kind: str) -> None:
    html = _client(jpn_user).get("/").content.decode()
    panel = _panel(html, key)
    assert f"Dash-shared-{kind}" in panel
    assert "Dash-hidden-" not in panel


def test_the_hidden_records_appear_nowhere_on_the_page_and_no_count_includes_them(jpn_user: Any,
                                                                                  world: dict[str, Any]) -> None:
    html = _client(jpn_user).get("/").content.decode()
    assert "Dash-hidden-" not in html
    assert _count(html, "watch") == "1"  # two watch matches stored, one visible
    # Told of: the invitation, the shared action assigned to their organisation, the visible watch match; stored
    # besides: the hidden meeting's invitation and the hidden watch match.
    assert Notification.objects.filter(user=jpn_user, read_at__isnull=True).count() == 5
    assert _count(html, "notifications") == "3"


def test_the_korean_user_sees_both_of_each(kor_user: Any, world: dict[str, Any]) -> None:
    html = _client(kor_user).get("/").content.decode()
    for kind in ("meeting", "report", "practice", "threat"):
        assert f"Dash-shared-{kind}" in html and f"Dash-hidden-{kind}" in html


def test_each_item_links_to_its_own_page(jpn_user: Any, world: dict[str, Any]) -> None:
    client = _client(jpn_user)
    html = client.get("/").content.decode()
    meeting = world["shared_meeting"]
    assert f'href="/consultations/meetings/{meeting.pk}/"' in _panel(html, "meetings")
    for key in ("meetings", "actions", "reports", "practices", "threats", "watch", "notifications"):
        for href in re.findall(r'<li class="panel__item[^"]*">\s*<a href="([^"]+)"', _panel(html, key)):
            assert client.get(href.split("#")[0]).status_code == 200, (key, href)


def test_the_dashboard_renders_for_a_user_with_nothing(make_user: Any) -> None:
    loner = make_user("loner", "NZL", "NZL-MFAT")
    response = _client(loner).get("/")
    html = response.content.decode()
    assert response.status_code == 200
    for key in ("meetings", "actions", "reports", "practices", "threats", "watch", "notifications"):
        assert f'data-testid="panel-{key}-empty"' in html
    assert "Meetings you may see in the next 30 days will appear here." in html
    assert 'data-testid="banner-top"' in html and ">NATO UNCLASSIFIED<" in html


def test_the_banner_carries_the_least_upper_bound_of_the_labels_shown(jpn_user: Any, kor_user: Any) -> None:
    low = make_label(releasable_to=["JPN", "KOR"], tlp="GREEN")
    high = make_label(releasable_to=["JPN"], classification="RESTRICTED", communities=["CYBER"], tlp="AMBER")
    do_create_report(kor_user, ReportInput(title="Dash-low", label=low))
    do_create_report(jpn_user, ReportInput(title="Dash-high", label=high))
    html = _client(jpn_user).get("/").content.decode()
    top = re.search(r'data-testid="banner-top">([^<]*)<', html)
    assert top is not None
    # Releasable to JPN only (both allow it), CYBER, RESTRICTED, the stricter TLP: the one label that bounds both.
    assert top.group(1) == label_display(high)
    assert "banner-NATO-RESTRICTED" in html


def test_the_reports_link_still_goes_to_the_reports_list(jpn_user: Any) -> None:
    html = _client(jpn_user).get("/").content.decode()
    assert '<a href="/reports/"' in html


@pytest.fixture
def extra_panel() -> Iterator[Panel]:
    def content(request: Any, subject: Any, user: Any) -> PanelContent:
        return PanelContent(items=[PanelItem(title=f"Hello {user.username}", url="/reports/",
                                             label=make_label(releasable_to=["JPN"], classification="RESTRICTED"))])

    panel = Panel(key="test-extra", title="Extra panel", order=1, content=content, empty="Nothing extra.",
                  see_all="reports:list")
    registry.register_panel(panel)
    yield panel
    registry.unregister_panel(panel.key)


def test_a_module_adds_a_panel_with_a_registration(jpn_user: Any, extra_panel: Panel) -> None:
    html = _client(jpn_user).get("/").content.decode()
    panel = _panel(html, "test-extra")
    assert "Extra panel" in panel and "Hello hanako" in panel
    assert html.index("panel-test-extra") < html.index("panel-notifications")  # order 1 comes first
    assert "banner-NATO-RESTRICTED" in html  # its item's label reaches the banner without a line of its own


def test_a_panel_key_is_registered_once(extra_panel: Panel) -> None:
    with pytest.raises(registry.RegistryError):
        registry.register_panel(extra_panel)


def test_every_module_panel_is_registered() -> None:
    keys = [p.key for p in registry.panels()]
    assert keys == ["notifications", "meetings", "actions", "reports", "practices", "threats", "watch"]


def test_what_the_dashboard_lists_is_audited_as_a_list_read(jpn_user: Any, world: dict[str, Any]) -> None:
    from kizuna.core.models import AuditEntry
    from kizuna.reports.models import Report

    AuditEntry.objects.all().delete()
    _client(jpn_user).get("/")
    listed = {e.target_type for e in AuditEntry.objects.filter(actor=jpn_user.username, action="list")}
    assert {"meeting", "action", "report", "practice", "stix"} <= listed
    shared = Report.objects.get(title="Dash-shared-report")
    hidden = Report.objects.get(title="Dash-hidden-report")
    report_ids = "".join(e.target_ids for e in AuditEntry.objects.filter(actor=jpn_user.username, target_type="report"))
    assert str(shared.pk) in report_ids and str(hidden.pk) not in report_ids.replace(str(shared.pk), "")


def test_an_overdue_action_gives_its_date_in_the_readers_language(jpn_user: Any, world: dict[str, Any]) -> None:
    yesterday = date.today() - timedelta(days=1)
    client = _client(jpn_user)
    client.cookies["django_language"] = "ja"
    actions = _panel(client.get("/").content.decode(), "actions")
    assert f"{yesterday.year}年{yesterday.month}月{yesterday.day}日 から期限超過" in actions
    assert yesterday.isoformat() not in actions
