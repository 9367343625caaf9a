"""The threat exchange's panel of the home dashboard: the newest threat objects the reader may see, from the last
week. It reads ``queries.threat_objects`` (``visible_to`` and the relationship rule inside the query), so Kizuna's own
record types (reports, meetings ... stored for federation) and the meta types are left out."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from kizuna.core import audit
from kizuna.core.paging import keyset_page
from kizuna.core.registry import Panel, PanelContent, PanelItem
from kizuna.directory.models import User
from kizuna.labels import Subject
from kizuna.threats import queries
from kizuna.threats.models import StixObject

SHOWN = 5
RECENT = timedelta(days=7)
# What links objects rather than being one: a relationship's name is its verb ("indicates"), a sighting has none; the
# objects they join are what the panel names (the overview and the object pages show the links).
LINKS = ("relationship", "sighting")


def new_threat_objects(request: HttpRequest, subject: Subject, user: User) -> PanelContent:
    """Up to ``SHOWN`` threat objects stored in the last ``RECENT``, newest first (the overview's "Latest", cut at a
    week, without relationships and sightings)."""
    since = timezone.now() - RECENT
    qs = (queries.threat_objects(subject).filter(created_at__gte=since).exclude(type__in=LINKS)
          .select_related("label"))
    objects: list[StixObject] = keyset_page(qs, None, SHOWN).items
    if objects:
        audit.record(user.username, "list", "stix", [o.pk for o in objects], None, audit.client_address(request),
                     {"page": "dashboard"})
    return PanelContent(items=[
        PanelItem(title=o.name or o.stix_id, url=reverse("threats:object", args=[o.stix_id]), label=o.label,
                  when=o.created_at, note=o.type)
        for o in objects])


PANEL = Panel(key="threats", title=gettext_lazy("New threat information"), order=40, content=new_threat_objects,
              empty=gettext_lazy("Threat objects shared with you in the last 7 days will appear here."),
              see_all="threats:index", see_all_text=gettext_lazy("Threat exchange"))
