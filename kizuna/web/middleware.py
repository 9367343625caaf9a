"""Request middleware of the web UI: security headers (Content-Security-Policy: everything from this node, nothing
inline), sign-in required for every page, and the signed-in user's language and time zone."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone, translation

from kizuna.web.language import LOGIN_LANGUAGE_ATTRIBUTE, remember_language

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)

# Paths reachable without signing in. The API under /api/ authenticates every request with its own bearer tokens.
# The calendar feed authenticates by the secret in its URL: calendar programs cannot sign in.
PUBLIC_PREFIXES = ("/login/", "/i18n/", "/api/", "/taxii2/", "/consultations/feed/", "/banners.css", "/favicon.ico")
# Probes and the metrics scraper cannot sign in; /metrics checks its own access rule (kizuna.ops.views).
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CSP)
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response

ADMIN_PREFIX = "/admin/"


def is_public_path(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(str(settings.STATIC_URL)) or path.startswith(PUBLIC_PREFIXES)


class LoginRequiredMiddleware:
    """Every page needs a signed-in user, except the login steps, static files, the language switcher and the API.

    A path-based rule rather than a decorator per view, so that a page someone forgets to decorate is still closed.
    An anonymous request is sent to the login page (an htmx request gets ``HX-Redirect`` so the whole page goes).
    A signed-in user who may not use the directory administration gets 404 under /admin/: the admin would send them
    to its login, which sends a signed-in user back to ``next`` — a redirect loop.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (user is None or not user.is_authenticated) and not is_public_path(request.path):
            target = str(settings.LOGIN_URL)
            if request.method == "GET":
                target += "?next=" + quote(request.get_full_path(), safe="/")
            if request.headers.get("HX-Request") == "true":
                response = HttpResponse(status=204)
                response["HX-Redirect"] = target
                return response
            return HttpResponseRedirect(target)
        if request.path.startswith(ADMIN_PREFIX) and user is not None and not admin.site.has_permission(request):
            raise Http404("not found")
        return self.get_response(request)


class UserLanguageMiddleware:
    """A signed-in user's saved language wins over the browser's, unless the language cookie chose one (the switcher,
    which also saves the choice to the user); dates are shown in the user's time zone. The response that signs a user
    in sets the cookie to their saved language, so their session starts in it (kizuna/web/language.py)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        language = getattr(user, "language", None) if signed_in else None
        if language in dict(settings.LANGUAGES) and not request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME):
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        zone_name = getattr(user, "timezone", None) if signed_in else None
        try:
            if zone_name:
                timezone.activate(ZoneInfo(zone_name))
            else:
                timezone.deactivate()
        except (ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        response = self.get_response(request)
        at_login = getattr(request, LOGIN_LANGUAGE_ATTRIBUTE, None)
        if at_login:
            remember_language(response, at_login)
        return response
