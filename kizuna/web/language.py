"""The language of the UI, remembered per user (issue 14).

- The switcher in every page's header POSTs to ``set_language`` (``/i18n/setlang/``): Django's view sets the language
  cookie; a signed-in user's choice is also saved as ``User.language``, so their later sessions (another browser, a
  cleared cookie) start in it.
- On the login page nobody is known yet: the language is the cookie's, else the browser's ``Accept-Language``
  (``LocaleMiddleware``). A choice made there is remembered in the session and saved to the user who signs in.
- At sign-in the language cookie is set to the user's saved language, so a stale cookie from an earlier session or
  another user on the same browser does not win over it (``UserLanguageMiddleware`` writes the cookie).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from kizuna.core import audit
from kizuna.directory.models import User

# A language chosen on the login page, before anyone signed in; saved to the user who then signs in.
CHOSEN_SESSION_KEY = "_kizuna_chosen_language"
# Set on the request by the sign-in signal: the language the response's cookie must carry.
LOGIN_LANGUAGE_ATTRIBUTE = "_kizuna_login_language"


def supported(code: object) -> str | None:
    """``code`` when it is one of settings.LANGUAGES, else None."""
    return code if isinstance(code, str) and code in dict(settings.LANGUAGES) else None


def remember_language(response: HttpResponse, code: str) -> None:
    """Set the language cookie (as Django's set_language does, but not readable by scripts)."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, code, max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE, secure=settings.LANGUAGE_COOKIE_SECURE, httponly=True,
    )


def save_user_language(request: HttpRequest, user: User, code: str) -> None:
    if user.language == code:
        return
    user.language = code
    user.save(update_fields=["language"])
    audit.record(user.username, "user.language", "user", [user.pk], address=audit.client_address(request),
                 detail={"language": code})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The header's switcher: Django's ``set_language`` (cookie, redirect to ``next``), then the choice is kept: on the
    user when signed in, in the session on the login page."""
    response: HttpResponse = django_set_language(request)
    code = supported(request.POST.get("language"))
    if code is not None:
        user = getattr(request, "user", None)
        if isinstance(user, User) and user.is_authenticated:
            save_user_language(request, user, code)
        else:
            request.session[CHOSEN_SESSION_KEY] = code
    return response


def on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """``user_logged_in``: a language chosen on the login page becomes the user's; the session starts in the user's."""
    if request is None or not isinstance(user, User):
        return
    chosen = supported(request.session.pop(CHOSEN_SESSION_KEY, None)) if hasattr(request, "session") else None
    if chosen is not None:
        save_user_language(request, user, chosen)
    code = supported(user.language)
    if code is not None:
        setattr(request, LOGIN_LANGUAGE_ATTRIBUTE, code)
