"""Pages that belong to no domain app: the home dashboard (the panels the modules register), login (with the optional
TOTP step), logout, account, the generated banner stylesheet, and the CSRF failure page."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from kizuna.core import audit, registry
from kizuna.core.errors import ServiceError
from kizuna.directory.models import ApiToken, User
from kizuna.directory.services import create_token, revoke_token
from kizuna.directory.subjects import subject_for
from kizuna.web import throttle, totp
from kizuna.web.banner import banners_css, note_document
from kizuna.web.forms import LoginForm, ProfileForm, TokenCodeForm, TokenForm
from kizuna.web.language import remember_language

PENDING_SESSION_KEY = "_kizuna_pending_login"
PENDING_MAX_AGE_SECONDS = 300  # the second step must follow the password within five minutes


@dataclass(frozen=True)
class ShownPanel:
    """A registered panel with its content for this reader, as the dashboard template draws it."""

    panel: registry.Panel
    content: registry.PanelContent


@never_cache
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The dashboard: every registered panel (``kizuna.core.registry.panels``), each filled for this reader by its
    module from the enforcement point. The label of every item shown is noted for the banners."""
    user = _authenticated_user(request)
    subject = subject_for(user)
    shown: list[ShownPanel] = []
    labels: list[Any] = []
    for panel in registry.panels():
        content = panel.content(request, subject, user)
        labels += [item.label for item in content.items if item.label is not None]
        labels += content.labels
        shown.append(ShownPanel(panel, content))
    # The page is read (and printed) as one whole: its banners carry the least upper bound of every label shown, in
    # full (the highest classification when no one label bounds them all). No item: the lowest, as any empty page.
    if labels:
        note_document(request, *labels)
    return render(request, "web/dashboard.html", {"panels": shown})


# --- login -------------------------------------------------------------------------------------------------------


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(candidate, {request.get_host()}, require_https=request.is_secure()):
        return candidate
    return str(settings.LOGIN_REDIRECT_URL)


def _authenticated_user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # the login-required middleware lets only signed-in users reach these views
    return user


def _throttled_message() -> str:
    minutes = throttle.retry_minutes()
    return _(
        "Too many failed sign-in attempts. Sign-in is locked for this account or address; try again in %(minutes)d minutes."
    ) % {"minutes": minutes}


def _complete_login(request: HttpRequest, user: User, backend: str, second_factor: str) -> None:
    auth_login(request, user, backend=backend)  # cycles the session key: no session fixation
    throttle.clear_failures(user.username)
    audit.record(
        user.username, "login.success", "user", [user.pk], address=audit.client_address(request),
        detail={"second_factor": second_factor},
    )


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.user.is_authenticated:
        return HttpResponseRedirect(next_url)
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        username: str = form.cleaned_data["username"]
        address = audit.client_address(request)
        if throttle.is_throttled(username, address):
            audit.record(username, "login.throttled", "user", address=address)
            form.add_error(None, _throttled_message())
            status = 429
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if not isinstance(user, User):
                throttle.note_failure(username, address)
                audit.record(username, "login.failure", "user", address=address, detail={"step": "password"})
                form.add_error(None, _("The username or password is not correct."))
                status = 400
            elif totp.confirmed_device(user) is not None:
                # Not signed in yet: the session only remembers who passed the first step, and when.
                request.session[PENDING_SESSION_KEY] = {
                    "user": user.pk, "backend": user.backend, "at": time.time(), "next": next_url,  # type: ignore[attr-defined]
                }
                return redirect("web:login-verify")
            else:
                _complete_login(request, user, user.backend, "none")  # type: ignore[attr-defined]
                return HttpResponseRedirect(next_url)
    return render(request, "web/login.html", {"form": form, "next": next_url}, status=status)


def _pending_login(request: HttpRequest) -> tuple[User, dict[str, Any]] | None:
    pending = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(pending, dict) or time.time() - float(pending.get("at", 0)) > PENDING_MAX_AGE_SECONDS:
        request.session.pop(PENDING_SESSION_KEY, None)
        return None
    user_id = pending.get("user")
    if not isinstance(user_id, int):
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    return (user, pending) if user is not None else None


@csrf_protect
@never_cache
def login_verify(request: HttpRequest) -> HttpResponse:
    """The second step of a login for a user with a confirmed TOTP device."""
    found = _pending_login(request)
    if found is None:
        messages.info(request, _("Please sign in again."))
        return redirect("web:login")
    user, pending = found
    device = totp.confirmed_device(user)
    if device is None:  # the device was removed meanwhile: the password step alone now suffices
        request.session.pop(PENDING_SESSION_KEY, None)
        _complete_login(request, user, pending["backend"], "none")
        return HttpResponseRedirect(_safe_next(request, pending.get("next")))
    form = TokenCodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        address = audit.client_address(request)
        if throttle.is_throttled(user.username, address):
            request.session.pop(PENDING_SESSION_KEY, None)
            audit.record(user.username, "login.throttled", "user", [user.pk], address=address)
            messages.error(request, _throttled_message())
            return redirect("web:login")
        if totp.verify(device, form.cleaned_data["code"]):
            request.session.pop(PENDING_SESSION_KEY, None)
            _complete_login(request, user, pending["backend"], "totp")
            otp_login(request, device)
            return HttpResponseRedirect(_safe_next(request, pending.get("next")))
        throttle.note_failure(user.username, address)
        audit.record(user.username, "login.failure", "user", [user.pk], address=address, detail={"step": "totp"})
        form.add_error("code", _("This code is not correct or has already been used."))
        status = 400
    return render(request, "web/login_verify.html", {"form": form}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        audit.record(request.user.get_username(), "logout", "user", [request.user.pk], address=audit.client_address(request))
    auth_logout(request)
    messages.success(request, _("You have signed out."))
    return redirect("web:login")


# --- account -----------------------------------------------------------------------------------------------------


def _post_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Account actions take POST; a GET (a reload of a page rendered after a POST, the language switcher coming back
    to it) goes to the account page instead of a bare 405."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            return redirect("web:account")
        return view(request, *args, **kwargs)

    return wrapper


def _account_context(request: HttpRequest, user: User, **extra: Any) -> dict[str, Any]:
    device = totp.confirmed_device(user)
    enrolling = None if device is not None else totp.unconfirmed_device(user)
    context: dict[str, Any] = {
        "profile_form": ProfileForm(instance=user),
        "token_form": TokenForm(),
        "tokens": ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at"),
        "totp_device": device,
        "totp_form": TokenCodeForm(),
        "enrolling": enrolling,
    }
    if enrolling is not None:
        context["otpauth_uri"] = enrolling.config_url
        context["otpauth_qr"] = totp.qr_svg(enrolling.config_url)
    context.update(extra)
    return context


@never_cache
@require_GET
def account(request: HttpRequest) -> HttpResponse:
    user = _authenticated_user(request)
    return render(request, "web/account.html", _account_context(request, user))


@_post_only
def account_profile(request: HttpRequest) -> HttpResponse:
    user = _authenticated_user(request)
    form = ProfileForm(request.POST, instance=user)
    if not form.is_valid():
        return render(request, "web/account.html", _account_context(request, user, profile_form=form), status=400)
    form.save()
    audit.record(user.username, "user.profile", "user", [user.pk], address=audit.client_address(request),
                 detail={"language": user.language, "timezone": user.timezone})
    response = redirect("web:account")
    # The language switcher's cookie would otherwise keep overriding the language just saved.
    remember_language(response, user.language)
    messages.success(request, _("Your profile is saved."))
    return response


@never_cache
@_post_only
def token_create(request: HttpRequest) -> HttpResponse:
    user = _authenticated_user(request)
    form = TokenForm(request.POST)
    if not form.is_valid():
        return render(request, "web/account.html", _account_context(request, user, token_form=form), status=400)
    try:
        token, secret = create_token(user, name=form.cleaned_data["name"], actor=user.username)
    except ServiceError as exc:
        form.add_error(None, exc.message)
        return render(request, "web/account.html", _account_context(request, user, token_form=form), status=400)
    # Rendered, not redirected: the secret is shown this once and never stored anywhere but in this response.
    return render(request, "web/account.html", _account_context(request, user, new_token=token, new_secret=secret))


@_post_only
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    user = _authenticated_user(request)
    token = ApiToken.objects.filter(user=user, pk=pk, revoked_at__isnull=True).first()
    if token is None:
        raise Http404
    revoke_token(token, actor=user.username)
    if request.headers.get("HX-Request") == "true":
        return render(request, "web/_token_revoked.html", {"token": token})
    messages.success(request, _("The token %(prefix)s… is revoked.") % {"prefix": token.prefix})
    return redirect("web:account")


@_post_only
def totp_enrol(request: HttpRequest) -> HttpResponse:
    user = _authenticated_user(request)
    if totp.confirmed_device(user) is not None:
        messages.info(request, _("Two-step sign-in is already on."))
        return redirect("web:account")
    totp.start_enrolment(user)
    return redirect(reverse("web:account") + "#two-step")


def _act_on_code(request: HttpRequest, user: User, device: TOTPDevice | None,
                 check: Callable[[TOTPDevice, str], bool], act: Callable[[TOTPDevice], object], action: str,
                 done: str, wrong: str) -> HttpResponse:
    """A second-factor change that needs a code from the device: when ``check`` accepts the posted code, ``act``,
    audit ``action`` and say ``done``; else the account page again with ``wrong`` on the code field."""
    if device is None:
        return redirect("web:account")
    form = TokenCodeForm(request.POST)
    if form.is_valid() and check(device, form.cleaned_data["code"]):
        act(device)
        audit.record(user.username, action, "user", [user.pk], address=audit.client_address(request))
        messages.success(request, done)
        return redirect("web:account")
    if form.is_valid():
        form.add_error("code", wrong)
    return render(request, "web/account.html", _account_context(request, user, totp_form=form), status=400)


@_post_only
def totp_confirm(request: HttpRequest) -> HttpResponse:
    user = _authenticated_user(request)

    def enrol(device: TOTPDevice) -> None:
        otp_login(request, device)  # this session has just proved the second factor

    return _act_on_code(
        request, user, totp.unconfirmed_device(user), totp.confirm, enrol, "otp.enrol",
        _("Two-step sign-in is on. From now on you will be asked for a code after your password."),
        _("This code is not correct. Check the clock of your phone and try again."))


@_post_only
def totp_disable(request: HttpRequest) -> HttpResponse:
    """Turning the second factor off needs a current code, so a session left open is not enough to remove it."""
    user = _authenticated_user(request)
    return _act_on_code(
        request, user, totp.confirmed_device(user), totp.verify, lambda device: totp.remove(user), "otp.disable",
        _("Two-step sign-in is off."), _("This code is not correct or has already been used."))


@_post_only
def totp_cancel(request: HttpRequest) -> HttpResponse:
    user = _authenticated_user(request)
    device = totp.unconfirmed_device(user)
    if device is not None:
        device.delete()
    return redirect("web:account")


# --- assets and error pages --------------------------------------------------------------------------------------


@require_GET
def banners_stylesheet(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(banners_css(), content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Shown when a form arrives without a valid CSRF token (``CSRF_FAILURE_VIEW``); the reason stays in the log."""
    return render(request, "web/csrf_failure.html", status=403)
