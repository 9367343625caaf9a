"""Analyst pages of the threat exchange: overview, cyber lists with the threat search, object detail (properties, raw
JSON, versions, relationships, "also reported by", sightings by nation), import with a polled progress indicator, and
export.

Views are thin, like the report pages: every read goes through ``kizuna.threats.queries`` (``visible_to`` plus the
relationship rule), so an object the reader may not see is a 404 exactly like a missing one, and every count or list
is over visible objects only. Writes go through the services. Each page notes the labels it shows for the banner and
audits the read.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kizuna.core import audit
from kizuna.core.access import label_display, label_of
from kizuna.core.errors import ServiceError
from kizuna.core.models import LabelRecord
from kizuna.core.paging import keyset_page
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.labels import Label, Subject
from kizuna.threats import hooks, queries, search
from kizuna.threats.forms import (
    ALL_TAB,
    CYBER_TABS,
    CYBER_TYPES,
    TABS_BY_KEY,
    CyberFilterForm,
    ExportForm,
    ImportForm,
)
from kizuna.threats.models import ImportJob, ImportStatus, StixObject
from kizuna.web.banner import chip_class, note_document, note_labels
from kizuna.web.labelpicker import describe
from kizuna.web.shortcuts import forbidden, signed_in_user

PAGE_SIZE = 25
LATEST = 10
RELATIONSHIP_LIMIT = 200
_UPLOAD_CHUNK = 1024 * 1024
_SKIP_PROPERTIES = ("type", "id", "spec_version", "created", "modified")  # shown above the properties


def _address(request: HttpRequest) -> str:
    return audit.client_address(request)


def _chip(record: LabelRecord) -> str:
    return chip_class(record.policy, record.classification)


def _audit_read(user: User, objects: list[StixObject], request: HttpRequest, action: str = "read") -> None:
    if objects:
        audit.record(user.username, action, "stix", [o.pk for o in objects],
                     objects[0].label_id if len(objects) == 1 else None, _address(request))


def _names(subject: Subject, stix_ids: set[str]) -> dict[str, str]:
    """Display names of the visible objects among ``stix_ids``; an id the reader may not see gets no name."""
    wanted = sorted(stix_ids)
    names: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        rows = (queries.visible_objects(subject, include_revoked=True).filter(stix_id__in=wanted[start : start + 500])
                .values_list("stix_id", "name"))
        names.update({sid: name or sid for sid, name in rows})
    return names


def _row(obj: StixObject, names: dict[str, str] | None = None,
         author: queries.Author | None = None) -> dict[str, Any]:
    """What a list shows about one object: who shared it here and, when it says so, who created it."""
    row: dict[str, Any] = {
        "obj": obj, "title": obj.name or obj.stix_id, "label": label_display(label_of(obj.label)),
        "chip": _chip(obj.label), "ends": [],
        "author": author if author is not None and author.name != obj.originator.name else None,
    }
    if names is not None:
        row["ends"] = [{"id": ref, "name": names[ref]} for ref in (obj.source_ref, obj.target_ref) if ref in names]
    return row


def _rows(subject: Subject, objects: list[StixObject]) -> list[dict[str, Any]]:
    ends = {ref for o in objects for ref in (o.source_ref, o.target_ref) if ref}
    names = _names(subject, ends) if ends else {}
    authors = queries.authors(subject, objects)
    return [_row(o, names, authors.get(o.stix_id)) for o in objects]


def _note_authors(request: HttpRequest, rows: list[dict[str, Any]]) -> None:
    """The labels of the identities a list names as creators count for the page's banner."""
    note_labels(request, *(row["author"].label for row in rows if row["author"] and row["author"].label))


# --- overview --------------------------------------------------------------------------------------------------------


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    subject = subject_for(user)
    visible = queries.threat_objects(subject)
    tab_of = {t: tab.key for tab in CYBER_TABS for t in tab.types}
    counts = [{"type": t, "n": n, "tab": tab_of.get(t, "")}
              for t, n in visible.order_by().values("type").annotate(n=Count("id")).order_by("type")
              .values_list("type", "n")]
    latest = keyset_page(visible.select_related("label", "originator"), None, LATEST).items
    note_labels(request, *(o.label for o in latest))
    _audit_read(user, latest, request, action="list")
    rows = _rows(subject, latest)
    _note_authors(request, rows)
    return render(request, "threats/overview.html", {
        "counts": counts, "total": sum(c["n"] for c in counts), "latest": rows,
    })


# --- cyber ---------------------------------------------------------------------------------------------------------------


@login_required
@require_GET
def cyber(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    subject = subject_for(user)
    form = CyberFilterForm(request.GET)
    rows: list[dict[str, Any]] = []
    error = ""
    next_url = first_url = ""
    status = 200
    tab_key = "indicators"
    query = ""
    searched: search.SearchPlan | None = None
    if form.is_valid():
        data = form.cleaned_data
        query = data["q"].strip()
        tab_key = data["tab"] or (ALL_TAB if query else "indicators")
        types = list(CYBER_TYPES) if tab_key == ALL_TAB else list(TABS_BY_KEY[tab_key].types)
        # The threat search (kizuna.threats.search) is the same query as the API's q and value.
        found = search.search(subject, query, types=types) if query else None
        qs = found.objects if found is not None else queries.visible_objects(subject, types=types)
        qs = qs.select_related("label", "originator")
        if found is not None:
            searched = found.plan
        params = {k: v for k, v in (("tab", tab_key), ("q", query)) if v}
        cursor = data["cursor"] or None
        try:
            page = keyset_page(qs, cursor, PAGE_SIZE)
        except ServiceError as exc:
            error, status = exc.message, 400
        else:
            note_labels(request, *(o.label for o in page.items))
            _audit_read(user, page.items, request, action="search" if query else "list")
            rows = _rows(subject, page.items)
            if found is not None:
                why = search.match_reasons(found, page.items)
                for row in rows:
                    row["reasons"] = why.get(row["obj"].pk, [])
            _note_authors(request, rows)
            if page.next_cursor:
                next_url = "?" + urlencode({**params, "cursor": page.next_cursor})
        if cursor:
            first_url = "?" + urlencode(params)
    else:
        status = 400
        first_url = "?"
    tab_counts = dict(queries.visible_objects(subject, types=list(CYBER_TYPES)).order_by().values("type")
                      .annotate(n=Count("id")).values_list("type", "n"))
    tabs = [{"key": t.key, "title": t.title, "count": sum(tab_counts.get(x, 0) for x in t.types),
             "current": t.key == tab_key} for t in CYBER_TABS]
    return render(request, "threats/cyber.html", {
        "form": form, "rows": rows, "tabs": tabs, "tab": tab_key, "query": query, "all_current": tab_key == ALL_TAB,
        "error": error, "next_url": next_url, "first_url": first_url, "searched": searched,
    }, status=status)


# --- object detail ---------------------------------------------------------------------------------------------------


def _ref_list(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _properties(data: dict[str, Any], names: dict[str, str]) -> list[dict[str, Any]]:
    """The object's properties for reading: text, references (linked only when visible), or formatted JSON."""
    result: list[dict[str, Any]] = []
    for key, value in data.items():
        if key in _SKIP_PROPERTIES:
            continue
        entry: dict[str, Any] = {"key": key, "title": key.replace("_", " ")}
        refs = _ref_list(value) if key.endswith(("_ref", "_refs")) else None
        if refs is not None:
            entry["refs"] = [{"id": ref, "name": names.get(ref, ""), "visible": ref in names} for ref in refs]
        elif isinstance(value, bool):
            entry["text"] = "true" if value else "false"
        elif isinstance(value, (str, int, float)):
            entry["text"] = str(value)
        elif isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
            entry["entries"] = [str(v) for v in value]
        else:
            entry["json"] = json.dumps(value, indent=2, ensure_ascii=False)
        result.append(entry)
    return result


def _referenced_ids(data: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for key, value in data.items():
        if key.endswith(("_ref", "_refs")):
            found.update(_ref_list(value) or [])
    return found


def _relationships(subject: Subject, obj: StixObject) -> list[dict[str, Any]]:
    rels = list(queries.visible_objects(subject, types=["relationship"])
                .filter(Q(source_ref=obj.stix_id) | Q(target_ref=obj.stix_id))
                .select_related("label").order_by("-created_at", "-id")[:RELATIONSHIP_LIMIT])
    others = {r.target_ref if r.source_ref == obj.stix_id else r.source_ref for r in rels}
    names = _names(subject, others)
    result = []
    for rel in rels:
        outgoing = rel.source_ref == obj.stix_id
        other = rel.target_ref if outgoing else rel.source_ref
        try:
            kind = str(json.loads(rel.data).get("relationship_type", ""))
        except ValueError:
            kind = ""
        result.append({"rel": rel, "kind": kind, "outgoing": outgoing, "other_id": other,
                       "other_name": names.get(other, other), "label": label_display(label_of(rel.label)),
                       "chip": _chip(rel.label)})
    return result


def _render_detail(request: HttpRequest, obj: StixObject) -> HttpResponse:
    user = signed_in_user(request)
    subject = subject_for(user)
    try:
        data = json.loads(obj.data)
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    label: Label = label_of(obj.label)
    versions = queries.object_versions(subject, obj.stix_id)
    relationships = _relationships(subject, obj)
    also = queries.also_reported_by(subject, obj)
    extra: dict[str, Any] = {}
    extra_labels: list[LabelRecord] = []
    for hook in hooks.object_page_context:  # sightings (kizuna.threats.watch)
        more, labels = hook(user, subject, obj)
        extra.update(more)
        extra_labels.extend(labels)
    names = _names(subject, _referenced_ids(data))
    author = queries.authors(subject, [obj]).get(obj.stix_id)
    if author is not None and author.label is not None:
        extra_labels.append(author.label)
    note_document(request, obj.label, *(v.label for v in versions), *(r["rel"].label for r in relationships),
                  *(a["object"].label for a in also), *extra_labels)
    _audit_read(user, [obj], request)
    context = {
        "obj": obj,
        "title": obj.name or obj.stix_id,
        "label_text": label_display(label),
        "chip": _chip(obj.label),
        "author": author,
        "audience": describe(label, user, add_own_organisation=False),
        "properties": _properties(data, names),
        "raw_json": json.dumps(data, indent=2, ensure_ascii=False) if data else obj.data,
        "versions": [{"version": v, "label": label_display(label_of(v.label)), "chip": _chip(v.label),
                      "current": v.pk == obj.pk} for v in versions],
        "relationships": relationships,
        "also_reported": [{**a, "label": label_display(label_of(a["object"].label)), "chip": _chip(a["object"].label)}
                          for a in also],
        **extra,
    }
    return render(request, "threats/object_detail.html", context)


@login_required
@require_GET
def object_detail(request: HttpRequest, stix_id: str) -> HttpResponse:
    obj = queries.get_object_or_404(subject_for(signed_in_user(request)), stix_id)
    return _render_detail(request, obj)


def object_url(stix_id: str) -> str:
    return reverse("threats:object", args=[stix_id])


# --- import --------------------------------------------------------------------------------------------------------------


def _store_upload(upload: UploadedFile) -> Path:
    """Write the upload under the node's data directory: the background import reads it from there."""
    folder = Path(settings.DATA_DIR) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.json"
    with path.open("wb") as out:
        for chunk in upload.chunks(_UPLOAD_CHUNK):
            out.write(chunk)
    return path


@login_required
@require_http_methods(["GET", "POST"])
def import_form(request: HttpRequest) -> HttpResponse:
    from kizuna.threats import services  # the importer; imported late, it imports much

    user = signed_in_user(request)
    if not user.can_contribute:
        return forbidden(request, _("Your role does not allow importing threat information; ask a coordinator."),
                         back_url=reverse("threats:index"), back_text=_("Back to the threat exchange"))
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES, user=user)
        if form.is_valid():
            data = form.cleaned_data
            upload = data["bundle"]
            path = _store_upload(upload)
            try:
                job = services.start_import_job(user, path, source=(upload.name or "upload")[:300],
                                                default_label=data["label"], fmt=data["fmt"], remove_when_done=True)
            except ServiceError as exc:
                path.unlink(missing_ok=True)
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                return redirect("threats:import_job", job_id=job.pk)
    else:
        form = ImportForm(user=user)
    jobs = list(ImportJob.objects.filter(user=user).order_by("-created_at")[:10])
    return render(request, "threats/import_form.html", {"form": form, "jobs": jobs},
                  status=400 if form.is_bound else 200)


def _own_job_or_404(user: User, job_id: int) -> ImportJob:
    """Only the job's owner may see it: anyone else gets the same 404 as for a job that does not exist."""
    job = ImportJob.objects.filter(pk=job_id, user=user).first()
    if job is None:
        raise Http404("not found")
    return job


def _job_context(job: ImportJob) -> dict[str, Any]:
    running = job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)
    percent = min(100, job.read_bytes * 100 // job.total_bytes) if job.total_bytes else None
    try:
        default_label = label_display(Label.from_api_key(job.default_label_key))
    except ValueError:
        default_label = ""
    reasons = sorted(((str(k), int(v)) for k, v in (job.rejected_by_reason or {}).items()), key=lambda kv: -kv[1])
    return {"job": job, "running": running, "percent": percent, "default_label": default_label,
            "reasons": reasons, "errors": list(job.errors or [])[:50], "failed": job.status == ImportStatus.FAILED}


@login_required
@require_GET
def import_job(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _own_job_or_404(signed_in_user(request), job_id)
    return render(request, "threats/import_job.html", _job_context(job))


@login_required
@require_GET
def import_job_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    """The htmx fragment polled every second while the job runs; once it ends the fragment no longer polls."""
    job = _own_job_or_404(signed_in_user(request), job_id)
    return render(request, "threats/_import_progress.html", _job_context(job))


# --- export --------------------------------------------------------------------------------------------------------------


@login_required
@require_GET
def export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    from kizuna.threats import exporter

    user = signed_in_user(request)
    subject = subject_for(user)
    # Offered: the threat information the reader may see. Kizuna's own records only on request (a box of its own),
    # and the meta types travel with what uses them.
    types = sorted(queries.threat_objects(subject).values_list("type", flat=True).distinct())
    form = ExportForm(request.GET if "download" in request.GET else None, types=types)
    if form.is_bound and form.is_valid():
        chosen = list(form.cleaned_data["types"]) or None
        records = bool(form.cleaned_data["include_records"])
        if chosen and records:
            chosen += sorted(queries.record_types())
        audit.record(user.username, "export", "stix", [], None, _address(request),
                     {"types": chosen or "all", "records": records})
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        response = StreamingHttpResponse(
            exporter.iter_bundle(subject, types=chosen,
                                 exclude_types=None if records else sorted(queries.record_types())),
            content_type="application/stix+json;version=2.1")
        response["Content-Disposition"] = f'attachment; filename="kizuna-stix-{stamp}.json"'
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response
    return render(request, "threats/export.html", {"form": form}, status=400 if form.is_bound else 200)
