"""REST API glue: Bearer-token authentication and the error handlers that make every API failure a JSON
``{"message": ...}`` (plus ``"field"`` when the input at fault is known) — never a stack trace, never internals.

A token acts for its user with the user's rights, never more: the authenticated object is the ``User`` itself, and
every read goes through ``visible_to(subject_for(user))`` like any other request. A missing, unknown, revoked or
inactive user's token all get the same 401, so the answer says nothing about which tokens exist.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security.http import HttpAuthBase

from kizuna.core.errors import NotFound, ServiceError
from kizuna.core.jsonguard import JsonGuard, JsonLimitError, guard_bytes, string_message
from kizuna.directory.models import User
from kizuna.directory.services import user_for_token
from kizuna.labels import LabelError

logger = logging.getLogger("kizuna.api")

UNAUTHORISED = "a valid API token is required: send the header 'Authorization: Bearer TOKEN'"
NOT_FOUND = "not found"
INTERNAL = "internal error; the node administrator can find details in the server log"

# Ninja's request locations: they are not part of the field name a client sent.
_LOCATIONS = {"body", "query", "path", "form", "file", "header", "cookie"}


class BearerToken(HttpAuthBase):
    """``Authorization: Bearer TOKEN`` where TOKEN came from ``kizuna token create``.

    Written out rather than using Ninja's ``HttpBearer`` because that one logs the whole header, secret included,
    when DEBUG is on.
    """

    openapi_scheme = "bearer"
    header = "Authorization"

    def __call__(self, request: HttpRequest) -> User | None:
        value = request.headers.get(self.header, "")
        scheme, _, secret = value.strip().partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return None
        return user_for_token(secret.strip())


def caller(request: HttpRequest) -> User:
    """The user the request's token acts for (set by ``BearerToken``)."""
    user = getattr(request, "auth", None)
    if not isinstance(user, User):  # auth is required on every operation, so this is a wiring mistake
        raise AuthenticationError()
    return user


def error_body(message: str, field: str | None = None) -> dict[str, str]:
    body = {"message": message}
    if field:
        body["field"] = field
    return body


def _json(status: int, message: str, field: str | None = None) -> JsonResponse:
    return JsonResponse(error_body(message, field), status=status)


def _field_of(loc: tuple[Any, ...] | list[Any], payload_names: set[str]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in _LOCATIONS:
        parts = parts[1:]
    # A body declared as ``payload: Schema`` is reported under "payload"; the client never sent that name.
    if parts and parts[0] in payload_names:
        parts = parts[1:]
    return ".".join(parts)


def _one_problem(error: dict[str, Any], payload_names: set[str]) -> tuple[str, str]:
    field = _field_of(error.get("loc", ()), payload_names)
    kind = str(error.get("type", ""))
    if kind == "missing":
        return (f"{field} is required" if field else "a request body is required"), field
    if kind == "extra_forbidden":
        return f"unknown field {field}", field
    text = str(error.get("msg", "is not valid"))
    text = text[:1].lower() + text[1:]
    return (f"{field}: {text}" if field else text), field


def validation_message(errors: list[dict[str, Any]], payload_names: set[str] | None = None) -> tuple[str, str | None]:
    """A readable sentence from Pydantic's error list (the first few problems) and the first field at fault."""
    if not errors:
        return "the request is not valid", None
    problems = [_one_problem(e, payload_names or {"payload"}) for e in errors]
    message = "; ".join(text for text, _ in problems[:5])
    if len(problems) > 5:
        message += f"; and {len(problems) - 5} more"
    return message, problems[0][1] or None


def _too_big() -> str:
    limit = int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)
    return (f"the request body is larger than this node accepts ({limit:,} bytes); send files as attachments "
            "(multipart)")


class GuardedParser(Parser):
    """JSON bodies are scanned before they are parsed (``kizuna.core.jsonguard``, the node's limits): nested deeper
    than KIZUNA_JSON_MAX_DEPTH or a string longer than KIZUNA_JSON_MAX_STRING_BYTES is a 400 that says so; Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE bounds the body (also 400, the status every JSON endpoint documents)."""

    def parse_body(self, request: HttpRequest) -> Any:
        guard = JsonGuard(max_depth=settings.KIZUNA_JSON_MAX_DEPTH, max_string=settings.KIZUNA_JSON_MAX_STRING_BYTES)
        data = guard_bytes(request.body, guard)
        if guard.too_long:
            raise JsonLimitError("string", string_message(settings.KIZUNA_JSON_MAX_STRING_BYTES))
        return json.loads(data)


def install_error_handlers(api: NinjaAPI) -> None:
    """Replace Ninja's defaults (``{"detail": ...}``, 422, tracebacks under DEBUG) with Kizuna's JSON errors."""

    def on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return _json(404, NOT_FOUND)

    def on_service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
        if isinstance(exc, NotFound):
            return _json(404, NOT_FOUND)
        return _json(400, exc.message, exc.field)

    def on_label_error(request: HttpRequest, exc: LabelError) -> HttpResponse:
        return _json(400, str(exc), "label")

    def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        message, field = validation_message(list(exc.errors))
        return _json(400, message, field)

    def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = _json(401, UNAUTHORISED)
        response["WWW-Authenticate"] = 'Bearer realm="kizuna"'
        return response

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400:  # Ninja's only use: a body that is not JSON (the parser's error is the cause)
            cause = exc.__cause__
            # Every limit answers 400 here (the status every JSON endpoint documents); the message says which.
            if isinstance(cause, JsonLimitError):
                return _json(400, f"the request body was refused: {cause.message} (this node's limit)")
            if isinstance(cause, RequestDataTooBig):
                return _json(400, _too_big())
            return _json(400, "the request body is not valid JSON")
        if exc.status_code == 404:
            return _json(404, NOT_FOUND)
        if exc.status_code >= 500:
            return _json(exc.status_code, INTERNAL)
        return _json(exc.status_code, str(exc.message))

    def on_suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        if isinstance(exc, RequestDataTooBig):
            return _json(400, _too_big())
        logger.warning("refused API request on %s: %s", request.path, type(exc).__name__)
        return _json(400, "the request was refused as malformed")

    def on_exception(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("API error on %s %s", request.method, request.path)
        return _json(500, INTERNAL)

    handlers: list[tuple[type[Exception], Callable[[HttpRequest, Any], HttpResponse]]] = [
        (Exception, on_exception),
        (Http404, on_not_found),
        (HttpError, on_http_error),
        (AuthenticationError, on_authentication_error),
        (ValidationError, on_validation_error),
        (SuspiciousOperation, on_suspicious),
        (ServiceError, on_service_error),
        (LabelError, on_label_error),
    ]
    for exc_class, handler in handlers:
        api.add_exception_handler(exc_class, handler)


@csrf_exempt  # like every API view: no cookie is honoured, so a PATCH to an unknown path is a JSON 404, not a CSRF page
def not_found_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Any path under /api/v1/ that names no endpoint."""
    return _json(404, NOT_FOUND)


def json_method_not_allowed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a Ninja path view so that 405 answers in JSON like every other error, keeping the Allow header."""

    @csrf_exempt
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code == 405:
            allowed = response.get("Allow", "")
            replacement = _json(405, f"method {request.method} is not allowed here; allowed: {allowed}")
            if allowed:
                replacement["Allow"] = allowed
            return replacement
        return response

    wrapped.csrf_exempt = True  # type: ignore[attr-defined]  # token auth only; no cookies are read
    return wrapped
