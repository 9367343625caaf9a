"""Notifications of the consultation cycle: the in-app inbox, email (now or in a daily digest), the reminders of
actions due in 3 days and overdue, and the per-user calendar feed at a secret URL.

CONTRACT STUB (owned by the notifications helper): signatures fixed, bodies to be written. ``notify`` is a no-op
until then, so services may already call it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from kizuna.consultations.models import ActionItem, Meeting, Notification
from kizuna.directory.models import User


def notify(kind: str, users: Iterable[User], *, meeting: Meeting | None = None, action: ActionItem | None = None,
           key: str = "") -> int:
    """Record a notification of ``kind`` (NotificationKind) for each user who may see the record; once per key.
    Returns how many were created. Called inside the service's transaction; email goes after commit."""
    return 0


@dataclass
class InboxEntry:
    notification: Notification
    title: str
    text: str
    url: str


def inbox(user: User, unread_only: bool = False, limit: int = 50) -> list[InboxEntry]:
    raise NotImplementedError


def unread_count(user: User) -> int:
    raise NotImplementedError


def mark_read(user: User, ids: Iterable[int] | None = None) -> int:
    raise NotImplementedError


def scan_due(today: date | None = None) -> int:
    raise NotImplementedError


def send_digests(now: datetime | None = None) -> int:
    raise NotImplementedError


def new_feed_token(user: User) -> str:
    raise NotImplementedError


def user_for_feed(token: str) -> User | None:
    raise NotImplementedError
