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
GLOSSARY = '<a href="/glossary/"{} data-testid="nav-glossary">Glossary</a>'
CONSULTATIONS = '<a href="/consultations/"{} data-testid="nav-consultations">Consultations</a>'
THREATS = '<a href="/threats/"{} data-testid="nav-threats">Threats</a>'
INBOX = '<a href="/inbox/"{} data-testid="nav-inbox">Inbox</a>'
FEDERATION = '<a href="/federation/"{} data-testid="nav-federation">Federation</a>'
ACCOUNT = '<a href="/account/"{}>Account</a>'
CURRENT = ' aria-current="page"'


def _expected(current: str, admin: bool) -> str:
    def mark(name: str, count: int = 1) -> list[str]:
        return [CURRENT if name == current and i == 0 else "" for i in range(count)]

    # My actions is a tab of Consultations, so its page marks Consultations; the inbox is one entry of its own.
    consultations = CONSULTATIONS.format(CURRENT if current in ("consultations", "actions") else "")
    parts = [REPORTS.format(*mark("reports")), PRACTICES.format(*mark("practices")),
             GLOSSARY.format(*mark("glossary")), consultations,
             THREATS.format(*mark("threats")), INBOX.format(*mark("inbox"))]
    if admin:
        parts.append(FEDERATION.format(*mark("federation")))
    parts.append(ACCOUNT.format(*mark("account")))
    return '<nav class="site-nav" aria-label="Main">' + "".join(parts) + "</nav>"


PAGES = [("/reports/", "reports"), ("/practices/", "practices"), ("/glossary/", "glossary"), ("/threats/", "threats"),
         ("/consultations/", "consultations"), ("/consultations/actions/", "actions"), ("/inbox/", "inbox"),
         ("/consultations/inbox/", "inbox"), ("/threats/inbox/", "inbox"), ("/account/", "account")]


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
                                      "glossary/_nav_entry.html", "consultations/_nav_entry.html", "threats/_nav_entry.html",
                                      "notifications/_nav_entry.html", "federation/_nav_entry.html"]


def _count(body: str, text: str) -> int:
    """How many navigation links (main navigation and the module's tabs) read ``text``."""
    navs = "".join(re.findall(r"<nav .*?</nav>", body, re.S))
    return len(re.findall(rf">\s*{re.escape(text)}\s*<", navs))


@pytest.mark.parametrize("url", ["/consultations/", "/consultations/actions/", "/threats/", "/threats/watch/", "/inbox/"])
def test_one_inbox_and_one_my_actions_on_every_page(url: str, make_user: Callable[..., Any]) -> None:
    client = Client()
    client.force_login(make_user("hanako", "JPN", "JPN-MOD"))
    body = client.get(url).content.decode()
    assert _count(body, "Inbox") == 1
    assert _count(body, "My actions") <= 1


@pytest.mark.parametrize("url", ["/threats/maritime/", "/threats/strategic/", "/threats/maritime/new/",
                                 "/threats/strategic/sites/new/", "/threats/disinformation/"])
def test_every_threat_area_shows_the_threat_tabs_with_its_own_current(url: str, make_user: Callable[..., Any]) -> None:
    client = Client()
    client.force_login(make_user("hanako", "JPN", "JPN-MOD", communities=["CYBER", "MARITIME", "DISINFO"]))
    response = client.get(url)
    assert response.status_code == 200
    tabs = re.search(r'<nav class="threats-nav".*?</nav>', response.content.decode(), re.S)
    assert tabs is not None
    current = re.findall(r'aria-current="page">([^<]+)<', tabs.group(0))
    area = "Disinformation" if "disinformation" in url else ("Maritime" if "maritime" in url else "Strategic")
    assert current == [area]


def test_new_meeting_shows_the_consultations_tabs(make_user: Callable[..., Any]) -> None:
    client = Client()
    client.force_login(make_user("hanako", "JPN", "JPN-MOD"))
    body = client.get("/consultations/meetings/new/").content.decode()
    assert 'data-testid="consultations-tabs"' in body
