"""``kizuna user add|list|deactivate``: provision users from the command line, for administrators and scripts.

    kizuna user add hanako --nation JPN --org "Ministry of Defense" --clearance NATO:RESTRICTED \
        --community CYBER --community MARITIME --role contributor --password-stdin
"""

from __future__ import annotations

import re
import sys
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from kizuna.core import audit
from kizuna.core.management.base import KizunaCommand, cli_actor, format_table
from kizuna.directory.commands import named_user
from kizuna.directory.models import ApiToken, Nation, Organisation, Role, User
from kizuna.directory.services import create_user, ensure_organisation, ensure_reference_data


def parse_clearances(values: list[str]) -> dict[str, str]:
    """``["NATO:RESTRICTED"]`` -> ``{"NATO": "RESTRICTED"}``; the policy and level are checked by the service."""
    clearances: dict[str, str] = {}
    for value in values:
        policy, sep, level = value.partition(":")
        policy, level = policy.strip(), level.strip()
        if not sep or not policy or not level or ":" in level:
            raise CommandError(f"bad clearance {value!r}; write POLICY:LEVEL, for example NATO:RESTRICTED")
        if policy in clearances and clearances[policy] != level:
            raise CommandError(f"two clearances given for policy {policy}: {clearances[policy]} and {level}")
        clearances[policy] = level
    return clearances


def parse_communities(values: list[str]) -> list[str]:
    """Repeatable, and each value may also be a comma-separated list: ``--community CYBER,SPACE``."""
    return sorted({part.strip() for value in values for part in value.split(",") if part.strip()})


def resolve_organisation(text: str, nation: str) -> str:
    """The code of the organisation meant by ``--org``: a code or a name, exact or in another case, or the end of
    the name of one of the nation's organisations ("Ministry of Defense" for "Japan Ministry of Defense"). An
    unknown one is created under the nation, with a code made of the name's initials (JPN-MOD)."""
    text = " ".join(text.split())
    if not text:
        raise CommandError("--org needs an organisation code or name")
    for lookup in ({"code": text}, {"code__iexact": text}, {"name": text}, {"name__iexact": text}):
        org = Organisation.objects.filter(**lookup).first()
        if org is not None:
            return org.code
    candidates = list(Organisation.objects.filter(nation_id=nation, name__iendswith=text))
    if len(candidates) == 1:
        return candidates[0].code
    if not Nation.objects.filter(code=nation).exists():
        raise CommandError(f"unknown nation {nation!r}; use an ISO 3166-1 alpha-3 code such as JPN")
    if " " not in text and len(text) <= 32:
        code = text.upper()
    else:
        initials = "".join(word[0] for word in re.findall(r"[^\W_]+", text)).upper()
        code = f"{nation}-{initials}"[:28] if len(initials) >= 2 else f"{nation}-{slugify(text).upper()}"[:28]
    base, n = code, 2
    while Organisation.objects.filter(code=code).exists():
        code, n = f"{base}-{n}", n + 1
    ensure_organisation(code, name=text[:200], nation=nation)
    return code


def read_password(stdin: Any) -> str:
    line = stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        raise CommandError("--password-stdin given but no password was read from standard input")
    return password


def deactivate_user(user: User, actor: str) -> int:
    """Deactivate an account and revoke its API tokens; returns how many tokens were revoked. An inactive user is
    the anonymous subject everywhere (sessions and tokens stop working at once), so nothing else needs changing."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        revoked = ApiToken.objects.filter(user=locked, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if locked.is_active:
            locked.is_active = False
            locked.save(update_fields=["is_active"])
        audit.record(actor, "user.deactivate", "user", [locked.pk], detail={"username": locked.username,
                                                                             "tokens_revoked": revoked})
    return revoked


class Command(KizunaCommand):
    help = "Add, list and deactivate users."
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        sub = self.add_subcommands(parser)

        add = sub.add_parser("add", help="create a user", description="Create a user.")
        add.add_argument("username")
        add.add_argument("--nation", required=True, help="ISO 3166-1 alpha-3 code of the user's nationality, e.g. JPN")
        add.add_argument("--org", required=True, help="organisation code or name; an unknown one is created under the nation")
        add.add_argument("--clearance", action="append", default=[], metavar="POLICY:LEVEL",
                         help="e.g. NATO:RESTRICTED (repeatable, one per policy)")
        add.add_argument("--community", action="append", default=[], metavar="NAME",
                         help="community membership, e.g. CYBER (repeatable)")
        add.add_argument("--role", default=Role.VIEWER, help=f"one of {', '.join(Role.values)} (default viewer)")
        add.add_argument("--email", default="")
        add.add_argument("--language", default="en", help="interface language, e.g. en or ja")
        add.add_argument("--timezone", default="UTC", help="IANA time zone, e.g. Asia/Tokyo")
        secret = add.add_mutually_exclusive_group()
        secret.add_argument("--password", help="visible in the process list and shell history; prefer --password-stdin")
        secret.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")

        lst = sub.add_parser("list", help="list users", description="List users.")
        lst.add_argument("--nation", default="", help="only users of this nation")
        lst.add_argument("--inactive", action="store_true", help="include deactivated users")

        deactivate = sub.add_parser("deactivate", help="deactivate a user and revoke their tokens",
                                    description="Deactivate a user and revoke their API tokens.")
        deactivate.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "add":
            self._add(options)
        elif action == "list":
            self._list(options)
        elif action == "deactivate":
            self._deactivate(options["username"])

    def _add(self, options: dict[str, Any]) -> None:
        password = options["password"]
        if options["password_stdin"]:
            password = read_password(options.get("stdin") or sys.stdin)
        nation = options["nation"].strip().upper()
        if not Nation.objects.exists():  # a freshly migrated node: the nations and groups are reference data
            ensure_reference_data()
        with transaction.atomic():  # a refused user leaves no new organisation behind
            user = self._create(options, nation, password)
        org = user.organisation
        self.stdout.write(
            f"created user {user.username} ({user.nation_id}, {org.code if org else '-'}, {user.role})"
            + ("" if password else "; no password set, the user can log in only after one is set")
        )

    def _create(self, options: dict[str, Any], nation: str, password: str | None) -> User:
        if User.objects.filter(username=options["username"]).exists():  # say so before touching organisations
            raise CommandError(f"user {options['username']!r} already exists")
        return create_user(
            username=options["username"],
            nation=nation,
            organisation=resolve_organisation(options["org"], nation),
            clearances=parse_clearances(options["clearance"]),
            communities=parse_communities(options["community"]),
            role=options["role"].strip().lower(),
            password=password,
            email=options["email"],
            language=options["language"],
            timezone_name=options["timezone"],
            check_password=True,
            actor=cli_actor(),
        )

    def _list(self, options: dict[str, Any]) -> None:
        users = User.objects.select_related("organisation").order_by("username")
        if options["nation"]:
            users = users.filter(nation_id=options["nation"].strip().upper())
        if not options["inactive"]:
            users = users.filter(is_active=True)
        rows = [("USERNAME", "NATION", "ORGANISATION", "ROLE", "CLEARANCES", "COMMUNITIES", "ACTIVE")]
        for user in users:
            rows.append((
                user.username,
                user.nation_id or "-",
                user.organisation.code if user.organisation else "-",
                user.role,
                ",".join(f"{p}:{level}" for p, level in sorted((user.clearances or {}).items())) or "-",
                ",".join(user.communities or []) or "-",
                "yes" if user.is_active else "no",
            ))
        self.stdout.write(format_table(rows))

    def _deactivate(self, username: str) -> None:
        user = named_user(username)
        revoked = deactivate_user(user, cli_actor())
        self.stdout.write(f"deactivated user {username}; {revoked} API token(s) revoked")

