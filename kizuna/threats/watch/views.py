"""Watch-filter pages: a user's own filters (create, delete); their entries are shown by the one inbox page
(``kizuna.notifications.views``), at /threats/inbox/ limited to watch notifications.

Watch filters belong to their user alone: another user's filter is a 404. Inbox entries are shown only while their
object is still visible to the reader (the resolver in ``services`` reads it again through ``visible_to``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kizuna.core import audit
from kizuna.core.errors import ServiceError
from kizuna.core.models import LabelRecord
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.labels import Subject
from kizuna.notifications import views as notification_views
from kizuna.threats import queries
from kizuna.threats.forms import WatchFilterForm
from kizuna.threats.models import StixObject
from kizuna.threats.watch import services
from kizuna.threats.watch.models import WatchFilter
from kizuna.web.shortcuts import signed_in_user


def object_page_context(user: User, subject: Subject, obj: StixObject) -> tuple[dict[str, Any], list[LabelRecord]]:
    """The sightings part of an object's page (``kizuna.threats.hooks.object_page_context``): counts by nation over
    the sightings the viewer may see, and whether the viewer's organisation may sight it or already has."""
    by_nation, labels = services.sightings_by_nation(subject, obj)
    return {
        "sightings_by_nation": by_nation,
        "may_sight": services.may_sight(obj) and user.can_contribute and user.organisation_id is not None,
        "has_sighted": services.has_sighted(user, obj),
    }, labels


@login_required
@require_POST
def seen_it_too(request: HttpRequest, stix_id: str) -> HttpResponse:
    user = signed_in_user(request)
    obj = queries.get_object_or_404(subject_for(user), stix_id)
    try:
        services.do_record_sighting(user, obj, audit.client_address(request))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your organisation's sighting was recorded and will be shared under the object's "
                                    "label."))
    return redirect(f"{reverse('threats:object', args=[obj.stix_id])}#sightings")


@login_required
@require_http_methods(["GET", "POST"])
def watch_filters(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    form = WatchFilterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.do_save_watch_filter(user, services.WatchInput(
                name=data["name"], types=list(data["types"]), value_contains=data["value_contains"],
                area_text=data["area_text"], releasable_to=data["releasable_to"], community=data["community"],
                tlp=data["tlp"],
            ), audit.client_address(request))
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("The watch filter was saved. You will be notified of new matching objects."))
            return redirect("threats:watch")
    filters = list(WatchFilter.objects.filter(user=user))
    return render(request, "threats/watch/filters.html", {"form": form, "filters": filters},
                  status=400 if form.is_bound else 200)


@login_required
@require_POST
def watch_filter_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    watch = WatchFilter.objects.filter(pk=pk, user=user).first()
    if watch is None:
        raise Http404("not found")
    services.do_delete_watch_filter(user, watch, audit.client_address(request))
    messages.success(request, _("The watch filter was deleted."))
    return redirect("threats:watch")


def inbox(request: HttpRequest) -> HttpResponse:
    """/threats/inbox/: the one inbox page, limited to watch notifications, newest first."""
    return notification_views.inbox_page(request, module=services.MODULE, unread_first=False,
                                         read_url="threats:inbox_read")


def inbox_mark_read(request: HttpRequest) -> HttpResponse:
    return notification_views.mark_read(request, module=services.MODULE, back="threats:inbox")
