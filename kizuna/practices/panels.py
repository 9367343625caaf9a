"""The best-practice notes' panel of the home dashboard: the newest notes the reader may see, from the last month.
A few lines on the module's own list query (``visible_to`` inside it): how a module adds its panel
(docs/adding-a-type.md, "A dashboard panel")."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from kizuna.core import audit
from kizuna.core.registry import Panel, PanelContent, PanelItem
from kizuna.directory.models import User
from kizuna.labels import Subject
from kizuna.practices import queries

SHOWN = 5
RECENT = timedelta(days=30)  # notes are fewer and keep longer than reports


def new_practices(request: HttpRequest, subject: Subject, user: User) -> PanelContent:
    since = timezone.now() - RECENT
    notes = [p for p in queries.list_practices(subject, limit=SHOWN).items if p.created_at >= since]
    queries.audit_read(user.username, notes, audit.client_address(request), action="list")
    return PanelContent(items=[
        PanelItem(title=p.title, url=reverse("practices:detail", args=[p.pk]), label=p.label, when=p.created_at)
        for p in notes])


PANEL = Panel(key="practices", title=gettext_lazy("New best practice"), order=35, content=new_practices,
              empty=gettext_lazy("Best-practice notes shared with you in the last 30 days will appear here."),
              see_all="practices:list", see_all_text=gettext_lazy("All best-practice notes"))
