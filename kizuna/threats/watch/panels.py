"""The watch filters' panel of the home dashboard: the reader's latest watch matches, as their inbox shows them
(``notifications.queries.inbox``: only matches whose object the reader may see now)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from kizuna.core.registry import Panel, PanelContent, PanelItem
from kizuna.directory.models import User
from kizuna.labels import Subject
from kizuna.notifications import queries as notification_queries
from kizuna.notifications.views import audit_entries
from kizuna.threats.watch.services import MODULE

SHOWN = 5


def watch_hits(request: HttpRequest, subject: Subject, user: User) -> PanelContent:
    """The newest ``SHOWN`` watch matches whose object the reader may see now, with the unread count."""
    entries = notification_queries.inbox(user, MODULE, unread_first=False, limit=SHOWN)
    if entries:
        audit_entries(request, user.username, entries, page="dashboard")
    unread = notification_queries.unread_count(user, MODULE)
    return PanelContent(items=[
        PanelItem(title=e.title, url=e.url, label=e.label, when=e.notification.created_at,
                  note=e.detail.get("watch_filter", ""))
        for e in entries], count=unread or None)


PANEL = Panel(key="watch", title=gettext_lazy("Watch-filter matches"), order=50, content=watch_hits,
              empty=gettext_lazy("Objects matching your watch filters will appear here."),
              see_all="threats:watch", see_all_text=gettext_lazy("Watch filters"))
