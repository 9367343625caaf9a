"""``/healthz`` (the process answers), ``/readyz`` (it can serve: database, migrations, data directory) and
``/metrics`` (Prometheus text format). Public paths of the login middleware; none of them shows labelled data, and
none is audited (probes every few seconds would drown the log)."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST

from kizuna.core.audit import client_address
from kizuna.ops import checks, metrics


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    problems = checks.readiness()
    if problems:
        return JsonResponse({"status": "not ready", "not_ready": problems}, status=503)
    return JsonResponse({"status": "ready"})


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


# Headers a reverse proxy adds. On a node not configured as behind a proxy, a loopback request carrying one was
# relayed by a proxy nobody told the node about, and may come from anywhere: it is not "the node itself".
_PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def metrics_allowed(request: HttpRequest) -> bool:
    """From the node itself (the client address, behind the node's proxy the one the proxy appended), or with the
    bearer token ``KIZUNA_METRICS_TOKEN`` when one is set."""
    token = str(getattr(settings, "KIZUNA_METRICS_TOKEN", "") or "")
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[len("Bearer "):].encode(), token.encode()):
        return True
    if not getattr(settings, "KIZUNA_BEHIND_PROXY", False) and any(name in request.META for name in _PROXY_HEADERS):
        return False
    return _is_loopback(client_address(request))


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        return HttpResponse("metrics are served to the node itself or with the metrics token\n", status=403,
                            content_type="text/plain; charset=utf-8")
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
