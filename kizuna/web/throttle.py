"""Login throttling: after ``KIZUNA_LOGIN_MAX_FAILURES`` failed attempts for one username, or from one address,
within ``KIZUNA_LOGIN_WINDOW_SECONDS``, further attempts are refused without checking the password.

Failures are rows of ``LoginFailure``; a successful login clears the rows of its username (not of its address, so
that one valid account cannot be used to reset the lock on an address that is guessing other accounts' passwords).
Refused attempts are not counted, so the lock lifts one window after the last counted failure.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from kizuna.directory.models import LoginFailure


def _key(username: str) -> str:
    # Case-folded so that "Hanako" and "hanako" share one counter.
    return username.strip().casefold()[:150]


def _window_start() -> datetime:
    return timezone.now() - timedelta(seconds=settings.KIZUNA_LOGIN_WINDOW_SECONDS)


def is_throttled(username: str, address: str) -> bool:
    """True when the username or the address has reached the limit of failures in the current window."""
    limit = settings.KIZUNA_LOGIN_MAX_FAILURES
    recent = LoginFailure.objects.filter(at__gte=_window_start())
    if recent.filter(username=_key(username)).count() >= limit:
        return True
    return bool(address) and recent.filter(address=address[:64]).count() >= limit


def note_failure(username: str, address: str) -> None:
    LoginFailure.objects.create(username=_key(username), address=address[:64])
    # Old rows are of no use to the window; prune them here so the table stays small without a scheduled job.
    LoginFailure.objects.filter(at__lt=_window_start() - timedelta(days=1)).delete()


def clear_failures(username: str) -> None:
    LoginFailure.objects.filter(username=_key(username)).delete()


def retry_minutes() -> int:
    """The window in whole minutes, rounded up, for the message that tells a refused user when to come back."""
    return max(1, -(-settings.KIZUNA_LOGIN_WINDOW_SECONDS // 60))
