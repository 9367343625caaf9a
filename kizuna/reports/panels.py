"""The reports' panel of the home dashboard: the newest active reports the reader may see, from the last week. It
reads the list query every report page uses (``queries.list_reports``: ``visible_to`` inside the query)."""

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
from kizuna.reports import queries

SHOWN = 5
RECENT = timedelta(days=7)


def new_reports(request: HttpRequest, subject: Subject, user: User) -> PanelContent:
    """Up to ``SHOWN`` reports created in the last ``RECENT``, newest first: the first page of the report list (its
    recency index, each row's label tested as it is read), cut at a week."""
    since = timezone.now() - RECENT
    page = queries.list_reports(subject, queries.ReportFilter(), None, SHOWN)
    reports = [r for r in page.items if r.created_at >= since]
    queries.audit_read(user.username, reports, audit.client_address(request), action="list")
    return PanelContent(items=[
        PanelItem(title=r.title, url=reverse("reports:detail", args=[r.pk]), label=r.label, when=r.created_at,
                  note=r.originator.code if r.originator_id else "")
        for r in reports])


PANEL = Panel(key="reports", title=gettext_lazy("New reports"), order=30, content=new_reports,
              empty=gettext_lazy("Reports shared with you in the last 7 days will appear here."),
              see_all="reports:list", see_all_text=gettext_lazy("All reports"))
