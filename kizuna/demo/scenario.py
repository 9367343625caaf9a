"""The demo scenario loaded by ``kizuna demo`` (the public names are re-exported by ``kizuna.demo``).

The people (organisations and users) are in ``people.py``; each module's records are in its own app (``demo.py``)
and are loaded through the registry of shareable types (``kizuna.core.registry``), in the order the modules give.
Everything here is fictional. Loading is idempotent: what already exists is left exactly as it is, so a second run
changes nothing. Records are written through the modules' services, so versions and audit entries are made as for
any other record.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from kizuna.core import registry
from kizuna.demo.people import USERS, load_people
from kizuna.directory.models import User
from kizuna.directory.services import ensure_reference_data
from kizuna.reports.demo import active_report_counts, visible_report_titles


@dataclass
class DemoResult:
    organisations_created: int = 0
    users_created: int = 0
    created_users: list[str] = field(default_factory=list)
    # (what was counted, how many were created) for each registered module's demo data, in loading order.
    records_created: list[tuple[str, int]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.organisations_created or self.users_created or any(n for _, n in self.records_created))


class DemoRefused(Exception):
    """The node holds real users: demo accounts with a published password must not be added to it."""


def _check_not_production() -> None:
    """Refuse to bring demo accounts into a node that already has real users. Once the demo is loaded, later runs
    go ahead even if users were added since (``make run`` again after trying the admin pages)."""
    demo_names = {u.username for u in USERS}
    if User.objects.filter(username__in=demo_names).exists():
        return
    others = list(User.objects.values_list("username", flat=True).order_by("username")[:3])
    if others:
        raise DemoRefused(
            f"this node already has users that are not demo users ({', '.join(others)}); refusing to add demo "
            "accounts with a published password (use --force on a test node)"
        )


def load_demo(force: bool = False) -> DemoResult:
    """Load the scenario; what already exists is left unchanged."""
    ensure_reference_data()
    if not force:
        _check_not_production()
    result = DemoResult()
    with transaction.atomic():
        people = load_people()
        result.organisations_created = people.organisations_created
        result.users_created = len(people.created_users)
        result.created_users = people.created_users
        for _module, demo in registry.demo_loaders():
            result.records_created.append((demo.noun, demo.load(people.users)))
    return result


@dataclass(frozen=True)
class Login:
    username: str
    nation: str
    organisation: str
    role: str
    clearance: str
    communities: str
    visible: int
    total: int


def demo_logins() -> list[Login]:
    """The demo accounts as they are in the database, with how many active reports each may see."""
    logins: list[Login] = []
    for spec in USERS:
        user = User.objects.select_related("organisation").filter(username=spec.username).first()
        if user is None:
            continue
        visible, total = active_report_counts(user)
        logins.append(Login(
            username=user.username,
            nation=user.nation_id or "-",
            organisation=user.organisation.code if user.organisation else "-",
            role=user.role,
            clearance=(user.clearances or {}).get("NATO", "none"),
            communities=",".join(user.communities or []) or "none",
            visible=visible,
            total=total,
        ))
    return logins


def visible_titles(username: str) -> set[str]:
    """Titles of the active reports a demo user may see (used to show the side-by-side difference)."""
    return visible_report_titles(User.objects.get(username=username))
