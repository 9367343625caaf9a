"""``{% consultations_nav %}``: the "Consultations" entry of the main navigation (the calendar) and "My actions" (the
number of unread notifications is the one badge of ``{% notifications_nav %}``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()


def _inbox_url() -> str:
    # The inbox pages are another module's; the badge links to them once their URL exists.
    try:
        return reverse("consultations_inbox:inbox")
    except NoReverseMatch:
        return ""


@register.inclusion_tag("consultations/_nav.html", takes_context=True)
def consultations_nav(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    in_app = match is not None and match.app_name in ("consultations", "consultations_inbox", "consultations_print")
    return {
        "current": in_app and match is not None and match.url_name != "my_actions",
        "actions_current": in_app and match is not None and match.url_name == "my_actions",
        "inbox_url": _inbox_url(),
    }


@register.inclusion_tag("consultations/_nav_sub.html", takes_context=True)
def consultations_subnav(context: template.Context) -> dict[str, Any]:
    """The tabs across the consultation pages: calendar, series, scheduling assistant, my actions, inbox."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    name = match.url_name if match is not None else ""
    section = {"calendar": "calendar", "series_list": "series", "series": "series", "series_create": "series",
               "series_edit": "series", "schedule": "schedule", "my_actions": "actions"}.get(name or "", "")
    return {"section": section, "inbox_url": _inbox_url()}
