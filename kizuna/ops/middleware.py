"""Request middleware of the operations conventions: a request id for every request (the client's ``X-Request-ID``
when it is a sane token, else a new one; echoed on the response and put on every log line written while serving the
request), and the request counters and latency of ``/metrics``, labelled by route name rather than path.

Order (settings.MIDDLEWARE): RequestIdMiddleware first, MetricsMiddleware right after it, so that the id covers the
log lines of every later middleware and the latency covers them too.
"""

from __future__ import annotations

import collections
import functools
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve

from kizuna.ops import metrics
from kizuna.ops.logs import request_id_var

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy's or client's id may look like; anything else (too long, odd characters) is replaced, so a log line
# cannot be forged or blown up through the header.
_SANE_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


def request_id_of(request: HttpRequest) -> str:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _SANE_ID.fullmatch(given) else uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_of(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


@functools.cache
def _shared_names() -> frozenset[str]:
    """Names given to more than one URL pattern (django-ninja names an operation after its function, so several
    routers' ``read`` are all ``api:read``). Read once from the URL map, which does not change while serving."""
    seen: collections.Counter[str] = collections.Counter()

    def walk(patterns: list[Any], namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                seen[namespace + pattern.name] += 1

    walk(get_resolver().url_patterns, "")
    return frozenset(name for name, count in seen.items() if count > 1)


def route_name(request: HttpRequest) -> str:
    """The name of the URL pattern that answered (``reports:detail``), or of the one that would have answered a
    request stopped earlier (the sign-in redirect); ``<unmatched>`` for a path no pattern matches (404s of unknown
    paths, static files). A name several patterns share gets the pattern's route after it
    (``api:read api/v1/reports/<id>``). Never the path itself: no ids, no titles."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return "<unmatched>"
    name = match.view_name or ""
    if not name or name in _shared_names():
        return f"{name} {match.route}".strip() or "<unnamed>"
    return name


class MetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        response = self.get_response(request)
        metrics.observe_request(request.method, route_name(request), response.status_code, time.perf_counter() - start)
        return response
