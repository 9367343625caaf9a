"""The notification centre's panel of the home dashboard: how many notices are unread and the latest few, of every
module, only those whose record the reader may see now (``queries``, through each module's resolver)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext, gettext_lazy

from kizuna.core.registry import Panel, PanelContent, PanelItem
from kizuna.directory.models import User
from kizuna.labels import Subject
from kizuna.notifications import queries, registry
from kizuna.notifications.views import audit_entries

SHOWN = 5


def latest_notifications(request: HttpRequest, subject: Subject, user: User) -> PanelContent:
    """Unread first, then newest first, as the inbox shows them; the count is of unread notices the reader may see."""
    entries = queries.inbox(user, limit=SHOWN)
    if entries:
        audit_entries(request, user.username, entries, page="dashboard")
    names = {name: str(resolver.name) for name, resolver in registry.modules().items()}
    return PanelContent(items=[
        PanelItem(title=e.title, url=e.url, label=e.label, when=e.notification.created_at,
                  note=names.get(e.notification.module, "") + (" · " + gettext("unread") if e.unread else ""))
        for e in entries], count=queries.unread_count(user))


PANEL = Panel(key="notifications", title=gettext_lazy("Notifications"), order=5, content=latest_notifications,
              empty=gettext_lazy("Invitations, agendas, actions due and watch matches will appear here."),
              see_all="notifications:inbox", see_all_text=gettext_lazy("Inbox"))
