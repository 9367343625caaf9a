"""The inbox entries of digests: each daily or weekly digest is also one entry of the person's inbox (module
``digests``), naming the notifications it held by id (``detail["ids"]``). Like every entry it holds no content: its
words (how many of those notifications the reader may see now) and its page (``/inbox/digest/<id>/``, the visible
ones with their labels) are made when it is read, so a record relabelled away since is neither listed nor counted.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy

from kizuna.directory.models import User
from kizuna.labels import Subject
from kizuna.notifications import queries, registry
from kizuna.notifications.models import Notification
from kizuna.notifications.registry import Entry
from kizuna.notifications.services import DIGEST_MODULE, digest_title


def ids_of(note: Notification) -> list[int]:
    """The notifications a digest entry names (an entry of another shape names none)."""
    ids = note.detail.get("ids") if isinstance(note.detail, dict) else None
    return [i for i in ids if isinstance(i, int)] if isinstance(ids, list) else []


def _visible(subject: Subject) -> Q:
    # A digest entry is the reader's own (rows are read per user) and says nothing but a count of what the reader
    # may see now; the records it names are checked by their own modules when it is read.
    return Q()


def _entries(user: User, notes: Sequence[Notification]) -> dict[int, Entry]:
    named = {i for note in notes for i in ids_of(note)}
    seen = set(queries.visible(user).filter(pk__in=sorted(named)).values_list("pk", flat=True)) if named else set()
    result: dict[int, Entry] = {}
    for note in notes:
        count = sum(1 for i in ids_of(note) if i in seen)
        result[note.pk] = Entry(note, digest_title(note.kind, count), "",
                                reverse("notifications:digest", args=[note.pk]))
    return result


def register() -> None:
    """Called by ``NotificationsConfig.ready()``. Digest entries are never e-mailed themselves."""
    registry.register(DIGEST_MODULE, registry.Resolver(
        name=gettext_lazy("Digests"), visible=_visible, entries=_entries, mail_entries=False,
        settings=("web:account", gettext_lazy("E-mail and digest settings"))))
