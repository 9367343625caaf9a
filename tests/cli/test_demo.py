"""``kizuna demo``: idempotent, and a Japanese and a Korean user see different reports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kizuna.core.models import AuditEntry, Version
from kizuna.demo import DEMO_PASSWORD, visible_titles
from kizuna.demo.people import USERS
from kizuna.directory.models import Organisation, User
from kizuna.reports.demo import REPORTS
from kizuna.reports.models import Comment, Report

from .helpers import kizuna, kizuna_refused


def _counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "organisations": Organisation.objects.count(),
        "reports": Report.objects.count(),
        "versions": Version.objects.count(),
        "comments": Comment.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


@pytest.fixture
def demo(db: Any) -> str:
    return kizuna("demo").out


def test_demo_loads_the_scenario_through_the_services(demo: str) -> None:
    assert Report.objects.count() == len(REPORTS) >= 20
    assert User.objects.filter(username__in=[u.username for u in USERS]).count() == len(USERS)
    assert User.objects.filter(role="admin").count() == 1
    codes = set(Organisation.objects.values_list("code", flat=True))
    assert {"NATO-IS", "JPN-MOD", "JPN-NISC", "AUS-ACSC", "NZL-NCSC", "KOR-MND", "KOR-KISA"} <= codes
    # every report has its first version and an audit entry, as if written through the UI
    assert Version.objects.filter(content_type="reports.report").values("object_id").distinct().count() == len(REPORTS)
    assert AuditEntry.objects.filter(action="create", target_type="report").count() == len(REPORTS)
    assert kizuna("audit", "verify").out.startswith("audit log intact")


def test_demo_prints_the_password_and_a_table_of_logins(demo: str) -> None:
    assert DEMO_PASSWORD in demo and len(DEMO_PASSWORD) >= 10
    table = [line.split() for line in demo.splitlines() if line.split() and line.split()[0] in {u.username for u in USERS}]
    assert len(table) == len(USERS)
    hanako = next(row for row in table if row[0] == "hanako")
    assert hanako[1:4] == ["JPN", "JPN-MOD", "coordinator"]
    assert "of" in hanako and "reports" in hanako


def test_demo_users_log_in_with_the_demo_password(demo: str) -> None:
    for spec in USERS:
        assert User.objects.get(username=spec.username).check_password(DEMO_PASSWORD)


def test_demo_twice_changes_nothing(demo: str) -> None:
    before = _counts()
    second = kizuna("demo").out
    assert _counts() == before
    assert "nothing changed" in second


def test_japanese_and_korean_users_see_different_reports(demo: str) -> None:
    japanese, korean = visible_titles("hanako"), visible_titles("minjun")
    assert japanese and korean
    assert japanese - korean and korean - japanese
    assert "Detecting ship-to-ship transfers from the air: Japan MoD methods note" in japanese - korean
    assert "Ship-to-ship transfers in the Yellow Sea: Korean monitoring summary" in korean - japanese
    assert "NATO and the Indo-Pacific partners: first year of the Tokyo liaison office" in japanese & korean


def test_demo_tlp_red_report_reaches_only_its_recipients(demo: str) -> None:
    title = "Active compromise at a partner ministry: coordination note"
    assert title in visible_titles("kenji")  # originator (JPN-NISC)
    assert title in visible_titles("sophie")  # named recipient (NATO-IS)
    assert title not in visible_titles("hanako")  # Japanese, cleared, CYBER, but not a recipient


def test_demo_nato_only_report_is_hidden_from_every_partner(demo: str) -> None:
    title = "China's nuclear doctrine and its disarmament advocacy: an Alliance assessment"
    assert title in visible_titles("admin")
    for username in ("hanako", "kenji", "minjun", "seoyeon", "olivia", "aroha", "liam"):
        assert title not in visible_titles(username)


def test_demo_refuses_a_node_with_real_users_unless_forced(make_user: Callable[..., Any]) -> None:
    make_user("real.person", "JPN", "JPN-MOD")
    message, _ = kizuna_refused("demo")
    assert "refusing to add demo accounts" in message
    assert not User.objects.filter(username="admin").exists()
    kizuna("demo", "--force", "--quiet")
    assert User.objects.filter(username="admin").exists()


def test_demo_runs_again_after_users_were_added_to_a_demo_node(demo: str, make_user: Callable[..., Any]) -> None:
    make_user("added.later", "AUS", "AUS-ACSC")
    before = _counts()
    assert "nothing changed" in kizuna("demo", "--quiet").out
    assert _counts() == before


def test_the_demo_loads_disarm_so_its_incident_shows_names_not_bare_ids(demo: str) -> None:
    """Issue 13: the demo showed "TA06" and "the DISARM framework is not loaded"; it loads the shipped framework."""
    from kizuna.threats.disinfo import disarm

    pinned = disarm.loaded_version()
    assert pinned is not None and pinned.version == disarm.SHIPPED_VERSION
    client = Client()
    client.force_login(User.objects.get(username="sophie"))
    page = client.get("/threats/disinformation/disarm/").content.decode()
    assert "disarm-not-loaded" not in page
    assert "Develop Content" in page  # TA06's name
