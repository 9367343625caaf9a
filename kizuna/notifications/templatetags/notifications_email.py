"""``{% notification_email_section %}``: the account page's section where a person chooses how notifications of every
module reach them by e-mail (each at once, a daily or weekly digest, or none). The account page includes it through
the registry (``Module.account``), so the web app names no module."""

from __future__ import annotations

from typing import Any

from django import template

from kizuna.directory.models import User
from kizuna.notifications.services import preference_for

register = template.Library()


@register.inclusion_tag("notifications/_email_settings.html", takes_context=True)
def notification_email_section(context: template.Context) -> dict[str, Any]:
    from kizuna.notifications.views import EmailModeForm

    request = context.get("request")
    user = getattr(request, "user", None)
    if not isinstance(user, User):
        return {"form": None}
    preference = preference_for(user)
    return {"form": EmailModeForm(initial={"email_mode": preference.email_mode}), "has_email": bool(user.email),
            "csrf_token": context.get("csrf_token")}
