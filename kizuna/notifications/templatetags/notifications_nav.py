"""``{% notifications_nav %}``: the one "Inbox" entry of the main navigation, with the number of unread notifications
across modules (only those whose record the reader may see now). The modules' own pages link to no other inbox."""

from __future__ import annotations

from typing import Any

from django import template

from kizuna.directory.models import User
from kizuna.notifications.queries import unread_count

register = template.Library()

# The inbox page and its per-module addresses (the same page, limited to a module).
_INBOX_PAGES = {("notifications", "inbox"), ("consultations_inbox", "inbox"), ("threats", "inbox")}


@register.inclusion_tag("notifications/_nav.html", takes_context=True)
def notifications_nav(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    current = match is not None and (match.app_name, match.url_name) in _INBOX_PAGES
    return {"unread": unread_count(user) if isinstance(user, User) and user.is_active else 0, "current": current}
