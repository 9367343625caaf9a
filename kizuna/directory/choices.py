"""The choices a person's settings may take: the node's languages and the IANA time zones. Shared by the account page
(``kizuna.web.forms``) and the directory administration (``kizuna.directory.admin``), so both offer and accept the
same values."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones

from django.conf import settings


def language_choices() -> list[tuple[str, str]]:
    """The languages the node has catalogs for (``settings.LANGUAGES``), each named in its own language."""
    return [(code, str(name)) for code, name in settings.LANGUAGES]


@lru_cache(maxsize=1)
def timezone_choices() -> list[tuple[str, str]]:
    """Area/Location zones and UTC, sorted; the legacy aliases (``Japan``, ``ROK``, ``EST5EDT``) are left out."""
    names = sorted(name for name in available_timezones() if "/" in name or name == "UTC")
    return [(name, name.replace("_", " ")) for name in names]
