"""``{% threats_nav %}``: the "Threats" entry of the main navigation (the number of unread inbox entries is the one
badge of ``{% notifications_nav %}``, and /threats/inbox/, the inbox limited to watch notifications, marks that entry)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("threats/_nav.html", takes_context=True)
def threats_nav(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    current = (match is not None and match.app_name in ("threats", "geo", "disinfo")
               and match.url_name not in ("inbox", "inbox_read"))
    return {"current": current}
