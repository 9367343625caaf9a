"""The main navigation is built from the modules registered with the registry of shareable types; it renders the
same links, in the same order, with the same ``aria-current`` and badges as when base.html named each app."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kizuna.core import registry


def _nav(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    found = re.search(r'<nav class="site-nav".*?</nav>', response.content.decode(), re.S)
    assert found is not None
    return re.sub(r">\s+<", "><", found.group(0))


REPORTS = '<a href="/reports/"{}>Reports</a>'
PRACTICES = '<a href="/practices/"{} data-testid="nav-practices">Best practice</a>'
CONSULTATIONS = ('<a href="/consultations/"{} data-testid="nav-consultations">Consultations</a>'
                 '<a href="/consultations/actions/"{} data-testid="nav-my-actions">My actions</a>')
THREATS = '<a href="/threats/"{} data-testid="nav-threats">Threats</a>'
FEDERATION = '<a href="/federation/"{} data-testid="nav-federation">Federation</a>'
ACCOUNT = '<a href="/account/"{}>Account</a>'
CURRENT = ' aria-current="page"'


def _expected(current: str, admin: bool) -> str:
    def mark(name: str, count: int = 1) -> list[str]:
        return [CURRENT if name == current and i == 0 else "" for i in range(count)]

    consultations = CONSULTATIONS.format(CURRENT if current == "consultations" else "",
                                         CURRENT if current == "actions" else "")
    parts = [REPORTS.format(*mark("reports")), PRACTICES.format(*mark("practices")), consultations,
             THREATS.format(*mark("threats"))]
    if admin:
        parts.append(FEDERATION.format(*mark("federation")))
    parts.append(ACCOUNT.format(*mark("account")))
    return '<nav class="site-nav" aria-label="Main">' + "".join(parts) + "</nav>"


PAGES = [("/reports/", "reports"), ("/practices/", "practices"), ("/threats/", "threats"),
         ("/consultations/", "consultations"), ("/consultations/actions/", "actions"), ("/account/", "account")]


@pytest.mark.parametrize(("url", "current"), PAGES)
def test_the_navigation_of_a_user(url: str, current: str, make_user: Callable[..., Any]) -> None:
    client = Client()
    client.force_login(make_user("hanako", "JPN", "JPN-MOD"))
    assert _nav(client, url) == _expected(current, admin=False)


@pytest.mark.parametrize(("url", "current"), [*PAGES, ("/federation/", "federation")])
def test_the_navigation_of_an_administrator(url: str, current: str, make_user: Callable[..., Any]) -> None:
    client = Client()
    client.force_login(make_user("boss", "BEL", "NATO-IS", role="admin"))
    assert _nav(client, url) == _expected(current, admin=True)


def test_the_navigation_follows_the_registry() -> None:
    assert registry.nav_entries() == ["reports/_nav_entry.html", "practices/_nav_entry.html",
                                      "consultations/_nav_entry.html", "threats/_nav_entry.html",
                                      "notifications/_nav_entry.html", "federation/_nav_entry.html"]
