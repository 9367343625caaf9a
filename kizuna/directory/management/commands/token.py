"""``kizuna token create|list|revoke``: API tokens for the REST API (``Authorization: Bearer TOKEN``).

``token create`` prints the new secret as its LAST line and nothing else on that line, so scripts can take it with
``kizuna token create alice | tail -n 1``. Only a SHA-256 of the secret is stored: it cannot be shown again.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from kizuna.core.management.base import KizunaCommand, cli_actor, format_table
from kizuna.directory.commands import named_user
from kizuna.directory.models import ApiToken, User
from kizuna.directory.services import create_token, revoke_token


class Command(KizunaCommand):
    help = "Create, list and revoke API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = self.add_subcommands(parser)
        create = sub.add_parser("create", help="create a token; the secret is the last line of the output",
                                description="Create an API token. The secret is printed once, as the last line.")
        create.add_argument("username")
        create.add_argument("--name", default="", help="what the token is for, e.g. 'MISP sync'")
        lst = sub.add_parser("list", help="list a user's tokens", description="List a user's API tokens.")
        lst.add_argument("username")
        revoke = sub.add_parser("revoke", help="revoke a token by its prefix", description="Revoke an API token.")
        revoke.add_argument("prefix", help="the token's prefix as shown by `token list` (or the whole token)")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            user = named_user(options["username"])
            token, secret = create_token(user, options["name"], actor=cli_actor())
            self.stdout.write(f"created token {token.prefix}… for {user.username}"
                              + (f" ({token.name})" if token.name else "")
                              + "; it is shown once, store it now:")
            self.stdout.write(secret)
        elif action == "list":
            self._list(named_user(options["username"]))
        elif action == "revoke":
            self._revoke(options["prefix"].strip())

    def _list(self, user: User) -> None:
        rows = [("PREFIX", "NAME", "CREATED", "LAST USED", "REVOKED")]
        for token in ApiToken.objects.filter(user=user).order_by("created_at", "pk"):
            rows.append((
                token.prefix,
                token.name or "-",
                token.created_at.strftime("%Y-%m-%d %H:%M"),
                token.last_used_at.strftime("%Y-%m-%d %H:%M") if token.last_used_at else "never",
                token.revoked_at.strftime("%Y-%m-%d %H:%M") if token.revoked_at else "-",
            ))
        if len(rows) == 1:
            self.stdout.write(f"{user.username} has no API tokens")
            return
        self.stdout.write(format_table(rows))

    def _revoke(self, given: str) -> None:
        if len(given) < 6:
            raise CommandError("give at least 6 characters of the token's prefix")
        prefix = given[:12]  # stored prefixes are 12 characters; a whole token starts with its prefix
        matches = list(ApiToken.objects.select_related("user").filter(prefix__startswith=prefix))
        if not matches:
            raise CommandError(f"no token with prefix {prefix!r}")
        if len(matches) > 1:
            raise CommandError(f"{len(matches)} tokens start with {prefix!r}; give more of the prefix")
        token = matches[0]
        if token.revoked_at is not None:
            self.stdout.write(f"token {token.prefix}… of {token.user.username} was already revoked")
            return
        revoke_token(token, cli_actor())
        self.stdout.write(f"revoked token {token.prefix}… of {token.user.username}")
