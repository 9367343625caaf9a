"""The calendar settings page (the feed's secret address; the e-mail choice is on the account page, for every module),
and the calendar feed at its secret URL (the inbox page itself is
``kizuna.notifications.views``).

The settings page needs a signed-in user. The feed needs none: the secret in its URL is the credential
(a calendar program cannot sign in), so an unknown, replaced or revoked secret and an inactive account are a plain
404. What the feed holds is decided for the secret's owner by ``visible_to``, as for any page, and audited as a read.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from kizuna.consultations import ics, notify
from kizuna.core import audit
from kizuna.directory.models import User
from kizuna.web.shortcuts import signed_in_user

INBOX_LIMIT = 100


def _settings_context(user: User, feed_url: str = "") -> dict[str, Any]:
    row = notify.settings_for(user)
    return {
        "settings_row": row,
        "has_feed": row.feed_digest is not None,
        "feed_url": feed_url,
        "has_email": bool(user.email),
    }


@login_required
@never_cache
def settings_page(request: HttpRequest) -> HttpResponse:
    """GET: the page. POST with ``do`` = ``feed`` (create or replace the secret feed URL; shown once in this response,
    never stored) or ``revoke`` (stop the feed)."""
    user = signed_in_user(request)
    if request.method == "GET":
        return render(request, "consultations/calendar_settings.html", _settings_context(user))
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    action = request.POST.get("do", "")
    actor = user.username
    if action == "feed":
        token = notify.new_feed_token(user, actor=actor)
        url = request.build_absolute_uri(notify.feed_path(token))
        # Rendered, not redirected: the secret URL is shown this once and kept nowhere but in this response.
        return render(request, "consultations/calendar_settings.html", _settings_context(user, feed_url=url))
    if action == "revoke":
        if notify.revoke_feed(user, actor=actor):
            messages.success(request, _("Your calendar feed is turned off; its address no longer works."))
        return redirect("consultations_inbox:settings")
    return render(request, "consultations/calendar_settings.html", _settings_context(user), status=400)


@require_safe  # calendar programs also send HEAD
def feed(request: HttpRequest, token: str) -> HttpResponse:
    user = notify.user_for_feed(token)
    if user is None:
        raise Http404("not found")
    meetings = notify.feed_meetings(user)
    name = f"Kizuna · {settings.KIZUNA_NODE_NAME} · {user.username}"
    body = ics.feed_for(meetings, name)
    audit.record(user.username, "read", "meeting", [m.pk for m in meetings],
                 meetings[0].label_id if len({m.label_id for m in meetings}) == 1 else None,
                 audit.client_address(request), {"via": "calendar feed"})
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = 'inline; filename="kizuna.ics"'
    # The secret is in the URL: no page it links from may learn it through Referer (none should, but be sure).
    response["Referrer-Policy"] = "no-referrer"
    return response
