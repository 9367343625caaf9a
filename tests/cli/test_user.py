"""``kizuna user add|list|deactivate``."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management.base import CommandError

from kizuna.core.models import AuditEntry
from kizuna.directory.models import ApiToken, Organisation, User
from kizuna.directory.services import create_token, ensure_organisation, user_for_token
from kizuna.directory.subjects import ANONYMOUS, subject_for

from .helpers import kizuna

PW = "a-long-enough-password"


def test_user_add_takes_repeated_clearances_and_communities(directory: None) -> None:
    run = kizuna("user", "add", "hanako", "--nation", "JPN", "--org", "JPN-MOD",
                 "--clearance", "NATO:RESTRICTED", "--clearance", "NATO:RESTRICTED",
                 "--community", "CYBER", "--community", "MARITIME", "--community", "SPACE,HADR",
                 "--role", "contributor", "--password", PW, "--email", "hanako@example.org",
                 "--language", "ja", "--timezone", "Asia/Tokyo")
    user = User.objects.get(username="hanako")
    assert user.clearances == {"NATO": "RESTRICTED"}
    assert user.communities == ["CYBER", "HADR", "MARITIME", "SPACE"]
    assert (user.role, user.nation_id, user.language, user.timezone) == ("contributor", "JPN", "ja", "Asia/Tokyo")
    assert user.check_password(PW)
    assert "created user hanako" in run.out


def test_user_add_finds_the_organisation_by_the_end_of_its_name(directory: None) -> None:
    ensure_organisation("JPN-MOD", "Japan Ministry of Defense", "JPN")
    kizuna("user", "add", "taro", "--nation", "JPN", "--org", "Ministry of Defense", "--password", PW)
    assert User.objects.get(username="taro").organisation.code == "JPN-MOD"


def test_user_add_creates_an_unknown_organisation_under_the_nation(directory: None) -> None:
    kizuna("user", "add", "jack", "--nation", "AUS", "--org", "Australian Signals Directorate", "--password", PW)
    org = User.objects.get(username="jack").organisation
    assert (org.code, org.name, org.nation_id) == ("AUS-ASD", "Australian Signals Directorate", "AUS")


def test_user_add_reads_the_password_from_stdin(directory: None) -> None:
    kizuna("user", "add", "minjun", "--nation", "KOR", "--org", "KOR-MND", "--password-stdin",
           stdin=io.StringIO(PW + "\n"))
    assert User.objects.get(username="minjun").check_password(PW)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--nation", "XXX", "--org", "X"], "unknown nation 'XXX'"),
        (["--nation", "JPN", "--org", "X", "--clearance", "NATO"], "bad clearance 'NATO'"),
        (["--nation", "JPN", "--org", "X", "--clearance", "NATO:RESTRICTED", "--clearance", "NATO:UNCLASSIFIED"],
         "two clearances given for policy NATO"),
        (["--nation", "JPN", "--org", "X", "--clearance", "NATO:SECRET"], "unknown classification 'SECRET'"),
        (["--nation", "JPN", "--org", "X", "--clearance", "MARS:LOW"], "unknown policy 'MARS'"),
        (["--nation", "JPN", "--org", "X", "--community", "ASTROLOGY"], "unknown community ASTROLOGY"),
        (["--nation", "JPN", "--org", "X", "--role", "emperor"], "unknown role 'emperor'"),
        (["--nation", "JPN", "--org", "X", "--timezone", "Mars/Olympus"], "unknown time zone"),
        (["--nation", "JPN", "--org", "X", "--password", "short"], "too short"),
        (["--nation", "JPN"], "the following arguments are required: --org"),
    ],
)
def test_user_add_refuses_bad_input_with_one_line_and_writes_nothing(
    directory: None, args: list[str], message: str
) -> None:
    orgs_before = Organisation.objects.count()
    with pytest.raises(CommandError) as excinfo:
        kizuna("user", "add", "bob", *args)
    assert message in str(excinfo.value)
    assert "\n" not in str(excinfo.value)
    assert not User.objects.filter(username="bob").exists()
    assert Organisation.objects.count() == orgs_before  # a refused user leaves no new organisation behind


def test_user_add_refuses_a_duplicate_user(make_user: Callable[..., Any]) -> None:
    make_user("hanako", "JPN", "JPN-MOD")
    with pytest.raises(CommandError, match="user 'hanako' already exists"):
        kizuna("user", "add", "hanako", "--nation", "KOR", "--org", "KOR-MND", "--password", PW)
    assert User.objects.get(username="hanako").nation_id == "JPN"


def test_user_add_is_audited_as_the_command_line(directory: None) -> None:
    kizuna("user", "add", "olivia", "--nation", "AUS", "--org", "AUS-ACSC", "--password", PW)
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry is not None
    assert entry.action == "user.create"
    assert entry.actor.startswith("cli")


def test_user_list_shows_active_users_and_filters_by_nation(make_user: Callable[..., Any]) -> None:
    make_user("hanako", "JPN", "JPN-MOD")
    make_user("minjun", "KOR", "KOR-MND")
    run = kizuna("user", "list", "--nation", "kor")
    assert run.lines[0].split()[:4] == ["USERNAME", "NATION", "ORGANISATION", "ROLE"]
    assert [line.split()[0] for line in run.lines[1:]] == ["minjun"]
    assert "NATO:RESTRICTED" in run.lines[1]


def test_user_deactivate_revokes_tokens_and_the_user_sees_nothing(make_user: Callable[..., Any]) -> None:
    user = make_user("hanako", "JPN", "JPN-MOD")
    _, secret = create_token(user)
    assert user_for_token(secret) == user
    run = kizuna("user", "deactivate", "hanako")
    user.refresh_from_db()
    assert not user.is_active
    assert "1 API token(s) revoked" in run.out
    assert user_for_token(secret) is None
    assert ApiToken.objects.get(user=user).revoked_at is not None
    assert subject_for(user) == ANONYMOUS
    assert "hanako" not in kizuna("user", "list").out
    assert "hanako" in kizuna("user", "list", "--inactive").out


def test_user_deactivate_refuses_an_unknown_user(directory: None) -> None:
    with pytest.raises(CommandError, match="unknown user 'nobody'"):
        kizuna("user", "deactivate", "nobody")
