"""The STIX resources of the REST API (/api/v1/stix/): import a bundle, follow an import job, export a bundle, list,
read and trace the versions of objects. Thin: reads go through ``kizuna.threats.queries`` (``visible_to`` plus the
relationship rule), exports through ``kizuna.threats.exporter``, imports through the importer's services; every read
of labelled content is audited with the client's address. Not visible = 404, exactly like missing.

Import size: a body of at most ``SYNC_LIMIT`` bytes (1 MiB) is imported while the client waits and answers 200 with
the summary; a larger one is streamed to a file under the node's data directory (never held in memory) and imported
by a background job: 202 with the job's URL (also in ``Location``) to poll. Bodies over
``KIZUNA_STIX_MAX_BUNDLE_BYTES`` are refused (413), and so is a bundle nested too deep (400) or holding too many
objects (413): see docs/security.md, "Input limits".
"""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404 as django_get_or_404
from django.utils.translation import gettext
from ninja import Query, Router, Status

from kizuna.core import audit
from kizuna.core.audit import client_address
from kizuna.core.errors import ServiceError
from kizuna.core.paging import keyset_page
from kizuna.core.schemas import ERRORS, ErrorOut
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.labels import Label, LabelError
from kizuna.threats import services
from kizuna.threats.exporter import MEDIA_TYPE, iter_bundle
from kizuna.threats.importer import max_bundle_bytes
from kizuna.threats.models import ImportJob, StixObject
from kizuna.threats.queries import also_reported_by, get_object_or_404, object_versions, visible_objects
from kizuna.threats.schemas import (
    StixImportJobOut,
    StixImportStartedOut,
    StixImportSummaryOut,
    StixObjectOut,
    StixObjectPage,
    StixVersionOut,
    import_summary_out,
    job_out,
    job_url,
    object_out,
    summary_out,
    version_out,
)
from kizuna.threats.search import search
from kizuna.web.apiauth import caller

router = Router(tags=["stix"])

SYNC_LIMIT = 1024 * 1024
_READ = 1024 * 1024
LABEL_HEADER = "X-Kizuna-Default-Label"

_BUNDLE_IN_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A STIX 2.1 bundle.",
        "content": {
            "application/stix+json": {"schema": {"type": "object"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}
_BUNDLE_OUT_DOC: dict[str, Any] = {
    "responses": {
        200: {
            "description": "A STIX 2.1 bundle of the objects the caller may see",
            "content": {"application/stix+json": {"schema": {"type": "object"}}},
        }
    }
}


def _default_label(request: HttpRequest, label: str) -> Label:
    """The default label from the ``label`` query parameter or the ``X-Kizuna-Default-Label`` header (JSON, the
    label's API form). Required: objects with no Kizuna label marking are stored under it."""
    text = label or request.headers.get(LABEL_HEADER, "")
    if not text.strip():
        raise ServiceError(gettext("a default label is required: the label query parameter or the %(header)s header, "
                                   "as JSON in the label's API form") % {"header": LABEL_HEADER}, "label")
    try:
        return Label.from_api(json.loads(text))
    except (ValueError, TypeError, RecursionError) as exc:  # RecursionError: a label nested ~1,000 deep
        if isinstance(exc, LabelError):
            raise
        raise ServiceError(gettext("the default label is not valid JSON"), "label") from None


def _spool_path() -> Path:
    folder = Path(settings.DATA_DIR) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"api-{uuid.uuid4()}.json"


class TooLarge(Exception):
    """The body is larger than KIZUNA_STIX_MAX_BUNDLE_BYTES: 413."""


def _too_large(limit: int) -> Status:
    return Status(413, {"message": gettext("the bundle is larger than this node accepts (%(limit)s bytes)")
                        % {"limit": f"{limit:,}"}})


def _read_upload(request: HttpRequest) -> tuple[bytes | None, Path | None]:
    """The body in memory when it is small, else spooled to a file in chunks (never whole in memory)."""
    limit = max_bundle_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise TooLarge
    head = request.read(SYNC_LIMIT + 1)
    if len(head) <= SYNC_LIMIT:
        return head, None
    path = _spool_path()
    size = len(head)
    try:
        with path.open("wb") as out:
            out.write(head)
            while chunk := request.read(_READ):
                size += len(chunk)
                if size > limit:
                    raise TooLarge
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return None, path


@router.post(
    "/bundles",
    response={200: StixImportSummaryOut, 202: StixImportStartedOut, **ERRORS, 413: ErrorOut},
    openapi_extra=_BUNDLE_IN_DOC,
    summary="Import a STIX 2.1 bundle",
)
def import_bundle(request: HttpRequest, response: HttpResponse, label: str = "", source: str = "") -> Any:
    """The body is a STIX bundle (or a single STIX object, or a JSON array of objects: imported as a bundle of
    them; a body that is not JSON is refused with what it is). ``label`` (query, or the ``X-Kizuna-Default-Label``
    header): the label, as JSON, for objects that carry no Kizuna label marking; it must be one the caller could
    see. Up to 1 MiB the import runs at once and the summary comes back (200): accepted, unchanged, rejected by
    reason, and each rejected object's index, id and reason. A larger body is imported in the background: 202 and
    the job's URL to poll."""
    user = caller(request)
    default_label = _default_label(request, label)
    name = (source or "API upload").strip()[:300]
    try:
        small, path = _read_upload(request)
    except TooLarge:
        return _too_large(max_bundle_bytes())
    if path is None:
        summary = services.do_import_bundle(user, io.BytesIO(small or b""), name, default_label)
        if summary.refused_status == 413:
            return Status(413, {"message": summary.stream_error})
        if summary.stream_error and not summary.accepted + summary.unchanged + summary.rejected:
            raise ServiceError(summary.stream_error)
        return import_summary_out(summary)
    try:
        # The spooled file is the job's: removed when it ends (also after a worker crashed and another resumed it).
        job = services.start_import_job(user, path, name, default_label, remove_when_done=True)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    url = job_url(job.pk)
    response["Location"] = url
    return Status(202, {"job": job.pk, "status": job.status, "url": url})


@router.get("/imports/{job_id}", response={200: StixImportJobOut, **ERRORS}, summary="An import job's progress")
def import_job(request: HttpRequest, job_id: int) -> dict[str, Any]:
    """Only the caller's own jobs; anyone else's answers 404 like a missing one."""
    user = caller(request)
    job = django_get_or_404(ImportJob, pk=job_id, user=user)
    return job_out(job)


def _list_param(values: list[str] | None) -> list[str]:
    """Repeated parameters and comma-separated lists alike: ``type=a&type=b`` or ``type=a,b``."""
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


@router.get("/bundles", response={**ERRORS}, openapi_extra=_BUNDLE_OUT_DOC, summary="Export a STIX 2.1 bundle")
def export_bundle(
    request: HttpRequest,
    types: list[str] | None = Query(None, alias="type"),  # noqa: B008 - Ninja's way to declare a repeated parameter
    added_after: str = "",
    ids: list[str] | None = Query(None, alias="id"),  # noqa: B008
) -> StreamingHttpResponse:
    """Streamed (``application/stix+json;version=2.1``): the current versions the caller may see, relationships and
    sightings only when both ends are visible too, each object with its Kizuna label marking, and the marking
    definitions and extension-definition they need. Filters: ``type`` and ``id`` (repeated or comma-separated),
    ``added_after`` (stored on this node after this instant, a STIX timestamp: UTC with a trailing Z)."""
    user = caller(request)
    type_list, id_list = _list_param(types), _list_param(ids)
    chunks = iter_bundle(subject_for(user), types=type_list or None, added_after=added_after or None,
                         ids=id_list if ids is not None else None)
    audit.record(user.username, "export", "stix", [], None, client_address(request),
                 {"type": type_list, "added_after": added_after, "id": id_list[:50]})
    response = StreamingHttpResponse(chunks, content_type=MEDIA_TYPE)
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = 'attachment; filename="kizuna-bundle.json"'
    return response


def _audit(user: User, action: str, objs: list[StixObject], request: HttpRequest) -> None:
    if objs:
        audit.record(user.username, action, "stix", [o.stix_id for o in objs],
                     objs[0].label_id if len(objs) == 1 else None, client_address(request))


@router.get("/objects", response={200: StixObjectPage, **ERRORS}, summary="List STIX objects the caller may see")
def list_objects(
    request: HttpRequest,
    types: list[str] | None = Query(None, alias="type"),  # noqa: B008
    q: str = "",
    value: str = "",
    limit: int = 25,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Current versions, newest first, keyset-paginated (pass ``next_cursor`` back as ``cursor``). ``type``
    (repeated or comma-separated). ``q``: the threat search of the cyber page — part of a name, description, alias
    or value (three letters or digits in a row at least; shorter text is an exact value), a domain and its parent
    domains, an IP address or CIDR network by containment (IPv4 and IPv6), any hash of a file. ``value``: the same
    search (it used to be an exact observable value, which it still finds); with both, objects found by both. No
    total count, on purpose."""
    user = caller(request)
    subject = subject_for(user)
    type_list = _list_param(types) or None
    texts = [text for text in (q.strip(), value.strip()) if text]
    if texts:
        qs = search(subject, texts[0], types=type_list).objects
        for more in texts[1:]:
            qs = qs.filter(pk__in=search(subject, more, types=type_list).objects.values("pk"))
    else:
        qs = visible_objects(subject, types=type_list)
    page = keyset_page(qs.select_related("label", "originator"), cursor or None, limit)
    _audit(user, "list", page.items, request)
    return {"items": [summary_out(o) for o in page.items], "next_cursor": page.next_cursor}


@router.get("/objects/{stix_id}", response={200: StixObjectOut, **ERRORS}, summary="One STIX object")
def read_object(request: HttpRequest, stix_id: str) -> dict[str, Any]:
    """The current version as stored, its Kizuna label and originator, and the other visible objects from other
    organisations that share an observable value with it ("also reported by")."""
    user = caller(request)
    subject = subject_for(user)
    obj = get_object_or_404(subject, stix_id)
    also = also_reported_by(subject, obj)
    _audit(user, "read", [obj], request)
    return object_out(obj, also)


@router.get("/objects/{stix_id}/versions", response={200: list[StixVersionOut], **ERRORS}, summary="Versions")
def versions(request: HttpRequest, stix_id: str) -> list[dict[str, Any]]:
    """Every stored version the caller may see, oldest first (each under its own label). 404 unless the current
    version is visible."""
    user = caller(request)
    found = object_versions(subject_for(user), stix_id)
    _audit(user, "read.versions", found[-1:], request)
    return [version_out(v) for v in found]
