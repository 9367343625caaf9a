"""What the ``kizuna`` command's subcommands share about people: the user a ``--user NAME`` option names."""

from __future__ import annotations

from django.core.management.base import CommandError

from kizuna.directory.models import User


def named_user(username: str) -> User:
    """The user called ``username`` (with their organisation), or the one readable CLI error line."""
    user = User.objects.select_related("organisation").filter(username=username).first()
    if user is None:
        raise CommandError(f"unknown user {username!r}")
    return user
