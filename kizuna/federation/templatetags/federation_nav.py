"""``{% federation_nav %}``: the "Federation" entry of the main navigation, shown to administrators only."""

from __future__ import annotations

from typing import Any

from django import template

from kizuna.directory.models import Role, User

register = template.Library()


@register.inclusion_tag("federation/_nav.html", takes_context=True)
def federation_nav(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    shown = isinstance(user, User) and user.is_active and user.role == Role.ADMIN
    match = getattr(request, "resolver_match", None)
    return {"shown": shown, "current": match is not None and match.app_name == "federation"}
