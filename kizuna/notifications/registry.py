"""The modules whose records notifications name: each registers a resolver in its ``AppConfig.ready()``.

A resolver keeps the label rule in the module that owns the record: it says, as a condition on this app's rows, which
of its refs a subject may see now (built from ``kizuna.core.access`` by the module's own queries), and what an entry
says about a visible record. A notification of a module with no resolver is never shown, counted or e-mailed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.functional import Promise

from kizuna.core.models import LabelRecord
from kizuna.directory.models import User
from kizuna.labels import Subject
from kizuna.notifications.models import Notification


@dataclass
class Entry:
    """What one notification says, made when it is read from the record the reader may see now."""

    notification: Notification
    title: str
    text: str
    url: str
    label: LabelRecord | None = None  # of the record shown: for the banner, the chip and the e-mail's marking
    # Module-specific columns a page may show (e.g. the STIX type and the watch filter's name).
    detail: dict[str, str] = field(default_factory=dict)
    # What showing it in a list is audited as: (target type, id); None = the notification itself.
    audit: tuple[str, int] | None = None

    @property
    def unread(self) -> bool:
        return self.notification.read_at is None


@dataclass(frozen=True)
class Resolver:
    """``visible(subject)``: a condition on ``Notification`` rows of this module, true when the record named by
    ``ref`` is visible to the subject now. ``entries(user, notes)``: the entries of those of ``notes`` whose record
    ``user`` may see, by notification id (the others are left out). ``mail_entries``: may an entry's words go out by
    e-mail (marked with its label), alone or in a digest; False when the module sends only counts itself.
    ``refresh(user)``: made before the user's inbox page is shown (e.g. the reminders of their own due actions).
    ``settings``: the URL name and the words of the module's page where a person chooses how they are told."""

    name: str | Promise  # shown on the inbox page's tabs
    visible: Callable[[Subject], Q]
    entries: Callable[[User, Sequence[Notification]], dict[int, Entry]]
    mail_entries: bool = True
    refresh: Callable[[User], object] | None = None
    settings: tuple[str, str | Promise] | None = None


_RESOLVERS: dict[str, Resolver] = {}


def register(module: str, resolver: Resolver) -> None:
    """Called from the owning app's ``ready()``; registering a module again replaces its resolver."""
    _RESOLVERS[module] = resolver


def resolver(module: str) -> Resolver | None:
    return _RESOLVERS.get(module)


def modules() -> dict[str, Resolver]:
    """The registered modules in registration order (INSTALLED_APPS order)."""
    return dict(_RESOLVERS)
