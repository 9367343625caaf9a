"""``{% notifications_nav %}``: the one badge of the main navigation, the number of unread notifications across
modules (only those whose record the reader may see now), linking to the inbox."""

from __future__ import annotations

from typing import Any

from django import template

from kizuna.directory.models import User
from kizuna.notifications.queries import unread_count

register = template.Library()


@register.inclusion_tag("notifications/_nav.html", takes_context=True)
def notifications_nav(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"unread": unread_count(user) if isinstance(user, User) and user.is_active else 0}
