"""The TAXII 2.1 endpoints (plain Django views: TAXII has its own media types and error messages).

Every request is authenticated by its own credential — ``Authorization: Bearer <API token>`` or HTTP Basic — never
by a session cookie, and is evaluated as the subject of that credential. Objects the subject may not see do not
exist here: an invisible id answers 404 exactly like a missing one. Errors are TAXII error messages with no
internal text. Reads of objects are audited.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import replace
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from kizuna.core import audit
from kizuna.core.audit import client_address
from kizuna.core.errors import ServiceError
from kizuna.core.jsonguard import JsonGuard, JsonLimitError, guard_bytes, items_message
from kizuna.directory.models import User
from kizuna.directory.services import user_for_token
from kizuna.directory.subjects import subject_for
from kizuna.federation.models import NodeIdentity
from kizuna.federation.outbound import SERVED_COLUMNS, Outbound, envelope_text
from kizuna.federation.taxii import collections as registered
from kizuna.federation.taxii.collections import API_ROOT, STIX_MEDIA_TYPE, TAXII_MEDIA_TYPE, Collection
from kizuna.federation.taxii.reads import (
    BadFilter,
    Filters,
    Page,
    added_at,
    compile_query,
    definition_by_id,
    definition_version,
    label_markings,
    page,
    parse_filters,
    parse_time,
)
from kizuna.federation.taxii.services import SOURCE, do_add_objects
from kizuna.labels import LabelError
from kizuna.stix.definitions import EPOCH
from kizuna.stix.timestamps import format_timestamp
from kizuna.threats.api import _default_label as default_label_of
from kizuna.threats.models import ImportJob
from kizuna.threats.sniff import HEAD_BYTES, what_it_is
from kizuna.web import throttle, totp

CHALLENGE = 'Bearer realm="kizuna-taxii", Basic realm="kizuna-taxii", charset="UTF-8"'

View = Callable[..., HttpResponse]


class TaxiiError(Exception):
    def __init__(self, status: int, title: str, description: str = "") -> None:
        super().__init__(title)
        self.status, self.title, self.description = status, title, description


def _response(body: str | dict[str, Any], status: int = 200) -> HttpResponse:
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    response = HttpResponse(text, status=status, content_type=TAXII_MEDIA_TYPE)
    response["Cache-Control"] = "private, no-store"
    return response


def _error(err: TaxiiError) -> HttpResponse:
    body: dict[str, Any] = {"title": err.title, "http_status": str(err.status)}
    if err.description:
        body["description"] = err.description
    response = _response(body, err.status)
    if err.status == 401:
        response["WWW-Authenticate"] = CHALLENGE
    return response


def _accepts_taxii(accept: str) -> bool:
    """True when the Accept header (absent counts as anything) admits TAXII 2.1 JSON."""
    if not accept.strip():
        return True
    for item in accept.split(","):
        parts = [p.strip().lower() for p in item.split(";")]
        media, params = parts[0], [p.replace(" ", "") for p in parts[1:]]
        if any(p in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in params):
            continue
        if media in ("*/*", "application/*"):
            return True
        if media == "application/taxii+json":
            versions = [p.split("=", 1)[1] for p in params if p.startswith("version=")]
            if not versions or "2.1" in versions:
                return True
    return False


def _basic_user(request: HttpRequest, encoded: str) -> User | None:
    try:
        username, _, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    address = client_address(request)
    if not username or throttle.is_throttled(username, address):
        return None
    user = authenticate(request, username=username, password=password)
    if not isinstance(user, User) or not user.is_active:
        throttle.note_failure(username, address)
        return None
    # A password alone must not stand in for a second factor: accounts with one use an API token here.
    if totp.confirmed_device(user) is not None:
        return None
    throttle.clear_failures(user.username)
    return user


def _caller(request: HttpRequest) -> User:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, credential = header.partition(" ")
    user: User | None = None
    if scheme.lower() == "bearer" and credential.strip():
        user = user_for_token(credential.strip())
    elif scheme.lower() == "basic" and credential.strip():
        user = _basic_user(request, credential.strip())
    if user is None:
        raise TaxiiError(401, "Authentication required",
                         "Send an API token (Authorization: Bearer) or a username and password (HTTP Basic).")
    return user


def taxii_view(methods: tuple[str, ...] = ("GET",)) -> Callable[[View], View]:
    """Method, media type and credential checks, and TAXII error messages for whatever the view raises."""

    def decorate(view: View) -> View:
        @csrf_exempt  # no cookies are honoured: every request carries its own credential
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in methods:
                    raise TaxiiError(405, "Method not allowed",
                                     f"This endpoint answers {', '.join(methods)}.")
                if not _accepts_taxii(request.META.get("HTTP_ACCEPT", "")):
                    raise TaxiiError(406, "Not acceptable", f"This server answers {TAXII_MEDIA_TYPE}.")
                user = _caller(request)
                return view(request, user, *args, **kwargs)
            except TaxiiError as err:
                return _error(err)
            except BadFilter as err:
                return _error(TaxiiError(400, "Bad filter", str(err)))

        return wrapper

    return decorate


def _check_root(api_root: str) -> None:
    if api_root != API_ROOT:
        raise TaxiiError(404, "Not found", "No such API root.")


def _collection(api_root: str, collection_id: str) -> Collection:
    _check_root(api_root)
    found = registered.by_id().get(collection_id)
    if found is None:
        raise TaxiiError(404, "Not found", "No such collection.")
    return found


@taxii_view()
def discovery(request: HttpRequest, user: User) -> HttpResponse:
    root = request.build_absolute_uri(f"/taxii2/{API_ROOT}/")
    return _response({
        "title": "Kizuna TAXII 2.1 server",
        "description": "STIX 2.1 objects of this Kizuna node, each reader seeing only what its labels allow.",
        "default": root,
        "api_roots": [root],
    })


@taxii_view()
def api_root(request: HttpRequest, user: User, api_root: str) -> HttpResponse:
    _check_root(api_root)
    return _response({
        "title": "Kizuna",
        "description": "Threat exchange of this node, in collections per domain and one of everything.",
        "versions": [TAXII_MEDIA_TYPE],
        "max_content_length": settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
    })


@taxii_view()
def collections(request: HttpRequest, user: User, api_root: str) -> HttpResponse:
    _check_root(api_root)
    return _response({"collections": [c.as_taxii(user.can_contribute) for c in registered.collections()]})


@taxii_view()
def collection(request: HttpRequest, user: User, api_root: str, collection_id: str) -> HttpResponse:
    return _response(_collection(api_root, collection_id).as_taxii(user.can_contribute))


def _with_headers(response: HttpResponse, result: Page) -> HttpResponse:
    if result.first_added is not None and result.last_added is not None:
        response["X-TAXII-Date-Added-First"] = format_timestamp(result.first_added, "microsecond")
        response["X-TAXII-Date-Added-Last"] = format_timestamp(result.last_added, "microsecond")
    return response


def _envelope_head(result: Page) -> str:
    head = '{"more":' + ("true" if result.more else "false")
    if result.next:
        head += ',"next":' + json.dumps(result.next)
    return head


def _audit(request: HttpRequest, user: User, action: str, coll: Collection, result: Page) -> None:
    """One audit entry per page served: the ids (rows begin ``pk, stix_id, label_id``)."""
    if result.rows:
        ids = list(dict.fromkeys(r[1] for r in result.rows))
        labels = {r[2] for r in result.rows}
        audit.record(user.username, action, "stix", ids, next(iter(labels)) if len(labels) == 1 else None,
                     client_address(request), {"collection": coll.id})


def _outbound() -> Outbound:
    """How this request serves objects. The node's identity id never changes once made, so one light query reads it
    (``Outbound`` would call ``node_identity()``, which also checks the name and the active key: three queries per
    page); when there is no identity yet, ``Outbound`` makes it as usual. Label markings come from the process's
    map of label id to marking id (``reads.label_markings``) rather than a read of each label row per page."""
    node = NodeIdentity.objects.filter(singleton=1).values_list("stix_id", flat=True).first()
    return Outbound(markings=label_markings(), node=node or "")


def _objects_page(request: HttpRequest, user: User, coll: Collection, filters: Filters,
                  object_id: str | None) -> HttpResponse:
    query = compile_query(subject_for(user), coll, filters, SERVED_COLUMNS, stix_id=object_id,
                          ranged=object_id is None and not filters.ids)
    result = page(query, filters)
    if object_id is not None and not result.rows and filters.after is None:
        raise TaxiiError(404, "Not found", "No such object in this collection.")
    _audit(request, user, "taxii.read", coll, result)
    text = envelope_text(result.rows, _outbound()) if result.rows else ""
    body = "".join((_envelope_head(result), ',"objects":[', text, "]}"))  # one copy of a large page
    return _with_headers(_response(body), result)


@taxii_view(("GET", "POST"))
def objects(request: HttpRequest, user: User, api_root: str, collection_id: str) -> HttpResponse:
    coll = _collection(api_root, collection_id)
    if request.method == "POST":
        return _add_objects(request, user, coll)
    return _objects_page(request, user, coll, parse_filters(request.GET), None)


def _envelope_objects(request: HttpRequest) -> list[dict[str, Any]]:
    """The envelope's objects. The body is scanned before it is parsed (``jsonguard``): nested deeper than
    KIZUNA_JSON_MAX_DEPTH is 400, more than KIZUNA_TAXII_MAX_ENVELOPE_OBJECTS objects 413, nothing stored; a string
    longer than KIZUNA_JSON_MAX_STRING_BYTES rejects only the object that holds it (a failure in the status)."""
    limit = int(getattr(settings, "KIZUNA_TAXII_MAX_ENVELOPE_OBJECTS", 10_000))
    try:
        guard = JsonGuard(max_depth=settings.KIZUNA_JSON_MAX_DEPTH, max_string=settings.KIZUNA_JSON_MAX_STRING_BYTES,
                          max_items=limit)
        envelope = json.loads(guard_bytes(request.body, guard))
    except RequestDataTooBig:
        raise TaxiiError(413, "Too large", "The envelope is larger than max_content_length.") from None
    except JsonLimitError as exc:
        title = "Too deep" if exc.kind == "depth" else "Too large"
        raise TaxiiError(exc.status, title, f"The envelope was refused: {exc.message} (this server's limit).") \
            from None
    except (ValueError, UnicodeDecodeError, RecursionError):
        # Say what arrived (a PNG, a PDF, XML ...) rather than only that it was not JSON.
        head = request.body[:HEAD_BYTES]
        what = what_it_is(head) if head.lstrip()[:1] not in (b"{", b"[") else "JSON that breaks off or is malformed"
        raise TaxiiError(400, "Bad envelope", f"The body is not JSON (it is {what}): a TAXII 2.1 envelope, "
                         '{"objects": [...]}, is expected.') from None
    items = envelope.get("objects") if isinstance(envelope, dict) else None
    if not isinstance(items, list) or not items or not all(isinstance(o, dict) for o in items):
        raise TaxiiError(400, "Bad envelope", "The body must be a TAXII envelope with a list of STIX objects.")
    if len(items) > limit:
        raise TaxiiError(413, "Too large", f"The envelope was refused: {items_message(limit)} (this server's limit).")
    return items


def _add_objects(request: HttpRequest, user: User, coll: Collection) -> HttpResponse:
    """POST: 415 unless the body is TAXII 2.1 JSON; the default label (for objects without a Kizuna label marking)
    is the caller's choice, as in the STIX API: the ``label`` query parameter or the X-Kizuna-Default-Label header."""
    media = request.META.get("CONTENT_TYPE", "").replace(" ", "").lower()
    if media not in (TAXII_MEDIA_TYPE, "application/taxii+json"):
        raise TaxiiError(415, "Unsupported media type", f"Send {TAXII_MEDIA_TYPE}.")
    if not coll.writable or not user.can_contribute:
        raise TaxiiError(403, "Not writable", "This collection does not accept objects from you.")
    items = _envelope_objects(request)
    try:
        default_label = default_label_of(request, request.GET.get("label", ""))
        job = do_add_objects(user, items, default_label)
    except (ServiceError, LabelError) as err:
        raise TaxiiError(400, "Not accepted", str(err)) from None
    return _response(_status(job), 202)


def _status(job: ImportJob) -> dict[str, Any]:
    failures = [{"id": e.get("id") or "", "version": e.get("version", ""), "message": e.get("reason", "")}
                for e in job.errors]
    return {
        "id": str(job.pk), "status": "complete", "request_timestamp": format_timestamp(job.created_at, "microsecond"),
        "total_count": job.accepted + job.unchanged + job.rejected,
        "success_count": job.accepted + job.unchanged, "failure_count": job.rejected, "pending_count": 0,
        "failures": failures,
    }


@taxii_view()
def status(request: HttpRequest, user: User, api_root: str, status_id: str) -> HttpResponse:
    """A status resource is its poster's alone: anyone else's, or one that does not exist, is 404."""
    _check_root(api_root)
    job = (ImportJob.objects.filter(pk=int(status_id), user=user, source=SOURCE).first()
           if status_id.isdigit() and len(status_id) < 18 else None)
    if job is None:
        raise TaxiiError(404, "Not found", "No such status.")
    return _response(_status(job))


def _definition(user: User, coll: Collection, object_id: str, filters: Filters) -> dict[str, Any] | None:
    """The Kizuna identity, the extension-definitions and the label markings the subject may see, by id, in the
    collection of everything (objects of no domain are only there); they win over a stored copy of the same id."""
    if coll.condition is not None:
        return None
    return definition_by_id(subject_for(user), object_id, filters)


def _epoch_headers(response: HttpResponse) -> HttpResponse:
    stamp = format_timestamp(parse_time(EPOCH, "EPOCH"), "microsecond")
    response["X-TAXII-Date-Added-First"] = stamp
    response["X-TAXII-Date-Added-Last"] = stamp
    return response


@taxii_view()
def object_by_id(request: HttpRequest, user: User, api_root: str, collection_id: str, object_id: str) -> HttpResponse:
    coll = _collection(api_root, collection_id)
    filters = parse_filters(request.GET)
    definition = _definition(user, coll, object_id, filters)
    if definition is not None:
        return _epoch_headers(_response({"more": False, "objects": [definition]}))
    return _objects_page(request, user, coll, replace(filters, ids=()), object_id)


@taxii_view()
def versions(request: HttpRequest, user: User, api_root: str, collection_id: str, object_id: str) -> HttpResponse:
    coll = _collection(api_root, collection_id)
    filters = parse_filters(request.GET)
    filters = replace(filters, ids=(), versions=("all",))
    definition = _definition(user, coll, object_id, filters)
    if definition is not None:
        return _epoch_headers(_response({"more": False, "versions": [definition_version(definition)]}))
    result = page(compile_query(subject_for(user), coll, filters, ("modified",), stix_id=object_id, ranged=False),
                  filters)
    if not result.rows and filters.after is None:
        raise TaxiiError(404, "Not found", "No such object in this collection.")
    body = _envelope_head(result) + ',"versions":' + json.dumps([r[1] for r in result.rows]) + "}"
    return _with_headers(_response(body), result)


@taxii_view()
def manifest(request: HttpRequest, user: User, api_root: str, collection_id: str) -> HttpResponse:
    coll = _collection(api_root, collection_id)
    filters = parse_filters(request.GET)
    result = page(compile_query(subject_for(user), coll, filters, ("created_at", "stix_id", "modified"),
                                ranged=not filters.ids), filters)
    records = [{"id": stix_id, "date_added": format_timestamp(added_at(added), "microsecond"), "version": modified,
                "media_type": STIX_MEDIA_TYPE} for _pk, added, stix_id, modified in result.rows]
    body = _envelope_head(result) + ',"objects":' + json.dumps(records) + "}"
    return _with_headers(_response(body), result)
