"""Every read of notifications: the inbox, the unread count of the navigation, and the entries a page or an e-mail
shows. Hidden means missing: a notification is counted and shown only while the record it names is visible to the
reader now, as the resolver of the module that owns the record decides (through ``kizuna.core.access``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.notifications import registry
from kizuna.notifications.models import Notification
from kizuna.notifications.registry import Entry

INBOX_LIMIT = 100


def visible(user: User, module: str | None = None) -> QuerySet[Notification]:
    """The user's notifications whose record they may see now, as one query (one condition per module)."""
    return _visible(user, [module] if module is not None else list(registry.modules()))


def _visible(user: User, modules: Iterable[str]) -> QuerySet[Notification]:
    """``visible`` for the rows of ``modules`` (those without a resolver are never shown)."""
    resolvers = registry.modules()
    names = [name for name in resolvers if name in set(modules)]  # registration order, as ``visible``
    if not names:
        return Notification.objects.none()
    subject = subject_for(user)
    condition = Q()
    for name in names:
        condition |= Q(module=name) & resolvers[name].visible(subject)
    return Notification.objects.filter(user=user).filter(condition)


def _modules_of(rows: QuerySet[Notification]) -> set[str]:
    """The modules that have rows among ``rows`` (one of the user's index ranges, read from the index alone): only
    their resolvers' conditions are built and asked, since building one costs more than the rows of a typical user."""
    return set(rows.order_by().values_list("module", flat=True).distinct())


def unread_count(user: User, module: str | None = None) -> int:
    """Unread notifications the user may see. Asked on every page (the navigation), so a user with no unread entry
    costs one small query on the (user, read_at, module, record_id) index and no visibility check."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if module is not None:
        unread = unread.filter(module=module)
    modules = _modules_of(unread)
    if not modules:
        return 0
    return _visible(user, modules).filter(read_at__isnull=True).count()


def inbox(user: User, module: str | None = None, unread_only: bool = False, unread_first: bool = True,
          limit: int = INBOX_LIMIT) -> list[Entry]:
    """Unread first (unless ``unread_first`` is False), then newest first; only notifications whose record the user
    may see now."""
    rows = Notification.objects.filter(user=user)
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    if module is not None:
        rows = rows.filter(module=module)
    modules = _modules_of(rows)
    if not modules:
        return []
    qs = _visible(user, modules)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    if unread_first:
        qs = qs.annotate(_read=Case(When(read_at__isnull=True, then=Value(0)), default=Value(1),
                                    output_field=IntegerField())).order_by("_read", "-created_at", "-id")
    else:
        qs = qs.order_by("-created_at", "-id")
    return entries_of(user, list(qs[:max(0, limit)]))


def entries_of(user: User, notes: Sequence[Notification]) -> list[Entry]:
    """The entries of ``notes`` whose record ``user`` may see now, in the given order: each module's resolver reads
    its own records (through ``visible_to``) for all of its notes at once."""
    by_module: dict[str, list[Notification]] = defaultdict(list)
    for note in notes:
        by_module[note.module].append(note)
    made: dict[int, Entry] = {}
    for module, group in by_module.items():
        resolver = registry.resolver(module)
        if resolver is not None:
            made.update(resolver.entries(user, group))
    return [made[n.pk] for n in notes if n.pk in made]


def mailed_modules() -> list[str]:
    """The modules whose entries may be e-mailed with their words (alone or in a digest)."""
    return [name for name, resolver in registry.modules().items() if resolver.mail_entries]


def may_mail(entry: Entry) -> bool:
    return entry.label is not None and entry.notification.module in mailed_modules()
