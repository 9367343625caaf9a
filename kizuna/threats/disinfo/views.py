"""The disinformation pages under /threats/disinformation/: the list of incidents (filter by DISARM tactic or
technique), one incident, the new-incident form, and the DISARM framework as loaded on this node.

Every read goes through ``services`` (``queries.visible_objects``: an incident the reader may not see is a 404 like a
missing one), every write through ``services.do_create_incident``; each page notes the labels it shows for the banner.
The pages work without DISARM loaded: they say so, and tags are typed as free-text ids.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kizuna.core import audit
from kizuna.core.access import label_display, label_of
from kizuna.core.errors import ServiceError
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.threats import queries
from kizuna.threats.disinfo import disarm, services
from kizuna.threats.disinfo.forms import IncidentFilterForm, IncidentForm, apply_service_error, split_codes, split_lines
from kizuna.threats.models import StixObject
from kizuna.web.banner import chip_class, note_labels
from kizuna.web.shortcuts import forbidden, signed_in_user


def _audit(user: User, objects: list[StixObject], request: HttpRequest, action: str) -> None:
    if objects:
        audit.record(user.username, action, "stix", [o.pk for o in objects],
                     objects[0].label_id if len(objects) == 1 else None, audit.client_address(request))


def _row(view: services.IncidentView) -> dict[str, Any]:
    return {"incident": view, "label": label_display(label_of(view.obj.label)),
            "chip": chip_class(view.obj.label.policy, view.obj.label.classification)}


@login_required
@require_GET
def incident_list(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    subject = subject_for(user)
    framework = disarm.framework(subject)
    form = IncidentFilterForm(request.GET, framework=framework)
    rows: list[dict[str, Any]] = []
    status = 200
    if form.is_valid():
        views = services.list_incidents(subject, tactic=form.cleaned_data["tactic"],
                                        technique=form.cleaned_data["technique"], framework=framework)
        note_labels(request, *(v.obj.label for v in views))
        _audit(user, [v.obj for v in views], request, "list")
        rows = [_row(v) for v in views]
    else:
        status = 400
    return render(request, "disinfo/incident_list.html",
                  {"form": form, "rows": rows, "framework": framework, "section": "disinfo"}, status=status)


@login_required
@require_GET
def incident_detail(request: HttpRequest, stix_id: str) -> HttpResponse:
    user = signed_in_user(request)
    subject = subject_for(user)
    framework = disarm.framework(subject)
    view = services.get_incident_or_404(subject, stix_id, framework)
    author = queries.authors(subject, [view.obj]).get(view.stix_id)
    note_labels(request, view.obj.label, *([author.label] if author is not None and author.label else []))
    _audit(user, [view.obj], request, "read")
    tags = []
    for external_id in view.tags:
        known = (framework.tactic(external_id) or framework.technique(external_id)) if framework else None
        tags.append({"id": external_id, "name": known.name if known else "", "url": getattr(known, "url", "")})
    context = {**_row(view), "tags": tags, "framework": framework, "section": "disinfo",
               "author": author,
               "object_url": reverse("threats:object", args=[view.stix_id])}
    return render(request, "disinfo/incident_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def incident_create(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if not user.can_contribute:
        return forbidden(request, _("Your role does not allow writing; ask a coordinator."),
                         back_url=reverse("threats:index"), back_text=_("Back to the threat exchange"))
    framework = disarm.framework(subject_for(user))
    if request.method == "POST":
        form = IncidentForm(request.POST, user=user, framework=framework)
        if form.is_valid():
            data = form.cleaned_data
            try:
                stix_id = services.do_create_incident(user, services.IncidentInput(
                    name=data["name"], label=data["label"], description=data["description"],
                    narratives=split_lines(data["narratives"]), platforms=split_lines(data["platforms"]),
                    languages=split_codes(data["languages"]), target_audiences=split_lines(data["target_audiences"]),
                    tactics=form.selected_tactics(), techniques=form.selected_techniques(),
                    first_seen=data["first_seen"], last_seen=data["last_seen"],
                ), address=audit.client_address(request))
            except ServiceError as exc:
                apply_service_error(form, exc)
            else:
                messages.success(request, _("The incident was recorded."))
                return redirect("disinfo:detail", stix_id=stix_id)
    else:
        form = IncidentForm(user=user, framework=framework)
    return render(request, "disinfo/incident_form.html", {"form": form, "framework": framework, "section": "disinfo"},
                  status=400 if form.is_bound else 200)


@login_required
@require_GET
def framework_page(request: HttpRequest) -> HttpResponse:
    """DISARM as loaded here: phases, tactics and their techniques (or a note that it is not loaded)."""
    user = signed_in_user(request)
    framework = disarm.framework(subject_for(user))
    pinned = disarm.loaded_version()
    if framework is not None:
        note_labels(request, disarm.LABEL)
    phases = []
    if framework is not None:
        for code, name in disarm.PHASES.items():
            tactics = [{"tactic": t, "techniques": framework.techniques_of(t.external_id)}
                       for t in framework.tactics if t.phase == code]
            phases.append({"code": code, "name": name, "tactics": tactics})
    return render(request, "disinfo/framework.html",
                  {"framework": framework, "pinned": pinned, "phases": phases, "section": "disinfo"})
