"""``{% threats_nav %}``: the "Threats" entry of the main navigation, with the number of unread inbox entries."""

from __future__ import annotations

from typing import Any

from django import template

from kizuna.directory.models import User
from kizuna.threats.watch.services import unread_count

register = template.Library()


@register.inclusion_tag("threats/_nav.html", takes_context=True)
def threats_nav(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    unread = unread_count(user) if isinstance(user, User) and user.is_active else 0
    match = getattr(request, "resolver_match", None)
    current = match is not None and match.app_name in ("threats", "geo", "disinfo")
    return {"unread": unread, "current": current}
