"""The best-practice part of ``kizuna demo``: three notes from the office's partners under different labels.
Fictional. Idempotent: a note that already exists (by title and originator) is left as it is."""

from __future__ import annotations

from typing import Any

from kizuna.labels import Label
from kizuna.practices.models import Practice
from kizuna.practices.services import PracticeInput, do_create_practice


def _label(releasable_to: list[str], communities: list[str] | None = None, tlp: str = "GREEN") -> Label:
    categories: dict[str, list[str]] = {"releasable_to": releasable_to}
    if communities:
        categories["communities"] = communities
    return Label.build("NATO", "UNCLASSIFIED", categories, tlp, [])


# (author, title, body, label)
PRACTICES: tuple[tuple[str, str, str, Label], ...] = (
    ("sophie", "Run a hot wash-up within 48 hours of every exercise",
     "Gather the participants of each nation while memories are fresh.\n\n"
     "1. One page per finding: what happened, why, what to change.\n"
     "2. Name an owner and a date for each change.\n"
     "3. Share the page under the exercise's label, so partners can reuse it.\n",
     _label(["NATO", "IP4"], tlp="CLEAR")),
    ("olivia", "Keep a shared contact roster for incident response",
     "A roster of 24/7 contacts of each partner CERT, checked every quarter with a test call, saves hours on the "
     "first day of an incident. Record a second contact for each team and the languages they work in.\n",
     _label(["NATO", "IP4"], ["CYBER"])),
    ("hanako", "Agree landing rights for relief flights before the typhoon season",
     "Disaster relief is faster when diplomatic clearances for military relief flights are agreed in advance. "
     "List the airfields, the aircraft types and the contact points, and review the list each spring.\n",
     _label(["NATO", "JPN"], ["HADR"], tlp="AMBER")),
)


def load_practices_demo(users: dict[str, Any]) -> int:
    """Load the notes that are not there yet; returns how many were created."""
    created = 0
    for username, title, body, label in PRACTICES:
        author = users[username]
        if Practice.objects.filter(title=title, originator_id=author.organisation_id).exists():
            continue
        do_create_practice(author, PracticeInput(title=title, body=body, label=label))
        created += 1
    return created
