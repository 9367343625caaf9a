"""The directory: nations (ISO 3166-1 alpha-3), groups of nations, organisations, users and their API tokens."""

from __future__ import annotations

import gettext
import re
from functools import lru_cache

import pycountry
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


@lru_cache(maxsize=8)
def _country_translation(language: str) -> gettext.NullTranslations:
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True)


# ISO 3166 keeps an inverted, index-friendly form ("Korea, Republic of"); some translations keep it too (French "Corée,
# République de"). In running text, and in lists joined with commas, it must read in natural order: "République de
# Corée". Only a tail that ends in a particle is moved, so names that are lists ("Bonaire, Saint-Eustache et Saba")
# or qualified ("Taïwan, province de Chine") stay as they are.
_INVERTED_TAIL = re.compile(r"^(?P<head>[^,]+), (?P<tail>.+ (?:de|du|des|de la|d'|d’))$")


def _natural_order(name: str) -> str:
    match = _INVERTED_TAIL.match(name)
    if match is None:
        return name
    tail, head = match["tail"], match["head"]
    joined = f"{tail}{head}" if tail.endswith(("'", "’")) else f"{tail} {head}"
    return joined[:1].upper() + joined[1:]


class Nation(models.Model):
    code = models.CharField(max_length=3, primary_key=True)
    name = models.CharField(max_length=100)
    is_nato_member = models.BooleanField(default=False)
    is_partner = models.BooleanField(default=False)
    capital_timezone = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.localised_name}"

    @property
    def localised_name(self) -> str:
        """The nation's name in the active language (pycountry's iso-codes translations of the ISO name); in English,
        or where no translation exists, the directory's own name (e.g. "Republic of Korea")."""
        language = (get_language() or "en").split("-")[0]
        if language == "en":
            return self.name
        country = pycountry.countries.get(alpha_3=self.code)
        if country is None:
            return self.name
        translated = _country_translation(language).gettext(country.name)
        return self.name if translated == country.name else _natural_order(translated)


# The names every node seeds its groups with (directory.services), in the reader's language. The stored name is
# English; a group an administrator named otherwise is shown as named.
SEEDED_GROUP_NAMES = {
    "NATO member nations": _("NATO member nations"),
    "Indo-Pacific partners (Australia, Japan, New Zealand, Republic of Korea)":
        _("Indo-Pacific partners (Australia, Japan, New Zealand, Republic of Korea)"),
}


class NationGroup(models.Model):
    """A named group of nations (NATO, IP4, ...): a releasability value that stands for its members."""

    code = models.CharField(max_length=32, primary_key=True)
    name = models.CharField(max_length=200)
    members = models.ManyToManyField(Nation, related_name="groups")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    @property
    def localised_name(self) -> str:
        """The group's name in the active language when it is one the directory seeds; otherwise as stored."""
        name = SEEDED_GROUP_NAMES.get(self.name)
        return str(name) if name is not None else self.name


def name_in_language(names: object, fallback: str) -> str:
    """The name for the active language from ``{"ja": "...", "ko": "...", "fr": "..."}`` (a regional code such as
    ``fr-ca`` falls back to ``fr``), else ``fallback`` (the English name)."""
    if isinstance(names, dict):
        language = (get_language() or "en").lower()
        for code in (language, language.split("-")[0]):
            name = names.get(code)
            if isinstance(name, str) and name.strip():
                return name
    return fallback


class Organisation(models.Model):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200, unique=True)  # English: the API, audit trail and STIX identities keep it
    # Issue 14: the organisation's own name in other languages, {"ja": "防衛省", "ko": "...", "fr": "..."}.
    names = models.JSONField(_("names in other languages"), default=dict, blank=True,
                             help_text=_('The name per language code, e.g. {"ja": "防衛省"}; English is the name above.'))
    nation = models.ForeignKey(Nation, on_delete=models.PROTECT, null=True, blank=True, related_name="organisations")
    is_nato_body = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name in the active language, or the English name where none is given."""
        return name_in_language(self.names, self.name)

    def clean(self) -> None:
        """``names`` maps a language code (``ja``, ``ko``, ``fr``, ``fr-ca`` ...) to a name of at most 200 characters."""
        names = self.names
        if not isinstance(names, dict) or not all(
            isinstance(code, str) and 2 <= len(code) <= 8 and isinstance(name, str) and len(name) <= 200
            for code, name in names.items()
        ):
            raise ValidationError({"names": _('Give names as {"language code": "name"}, e.g. {"ja": "防衛省"}.')})


class Role(models.TextChoices):
    VIEWER = "viewer", _("Viewer")
    CONTRIBUTOR = "contributor", _("Contributor")
    COORDINATOR = "coordinator", _("Coordinator")
    ADMIN = "admin", _("Administrator")


class User(AbstractUser):
    nation = models.ForeignKey(Nation, on_delete=models.PROTECT, null=True, blank=True, related_name="users")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="users")
    # {"NATO": "RESTRICTED"}: the highest classification the user is cleared for, per policy.
    clearances = models.JSONField(default=dict, blank=True)
    communities = models.JSONField(default=list, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    language = models.CharField(max_length=8, default="en")
    timezone = models.CharField(max_length=64, default="UTC")

    def __str__(self) -> str:
        return self.username

    @property
    def can_contribute(self) -> bool:
        return self.is_active and self.role in (Role.CONTRIBUTOR, Role.COORDINATOR, Role.ADMIN)


class ApiToken(models.Model):
    """An API token acts for its user with the user's rights, never more. Only a SHA-256 of the secret is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class LoginFailure(models.Model):
    """Recent failed logins, for throttling by username and by address."""

    username = models.CharField(max_length=150, db_index=True)
    address = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.username}@{self.address} {self.at}"
