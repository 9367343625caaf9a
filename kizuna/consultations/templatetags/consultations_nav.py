"""``{% consultations_nav %}``: the "Consultations" entry of the main navigation (the calendar), and
``{% consultations_subnav %}``: the tabs across every consultation page. "My actions" is one of those tabs, and the
inbox is the notifications module's one entry of the main navigation: neither appears twice."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()

# The tab each page belongs to; a meeting's pages belong to the calendar it is on.
_SECTIONS = {"calendar": "calendar", "series_list": "series", "series": "series", "series_create": "series",
             "series_edit": "series", "schedule": "schedule", "my_actions": "actions", "settings": "calendar"}


@register.inclusion_tag("consultations/_nav.html", takes_context=True)
def consultations_nav(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    in_app = match is not None and (match.app_name in ("consultations", "consultations_print")
                                    or (match.app_name == "consultations_inbox" and match.url_name != "inbox"))
    return {"current": in_app}


@register.inclusion_tag("consultations/_nav_sub.html", takes_context=True)
def consultations_subnav(context: template.Context) -> dict[str, Any]:
    """The tabs across the consultation pages: calendar, series, scheduling assistant, my actions."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    name = (match.url_name if match is not None else "") or ""
    section = _SECTIONS.get(name, "calendar" if name.startswith(("meeting", "agenda", "minutes", "decision", "action"))
                            else "")
    return {"section": section}
