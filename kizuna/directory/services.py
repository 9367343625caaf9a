"""Writes to the directory: reference data (nations and groups), organisations, users, tokens."""

from __future__ import annotations

import hashlib
import secrets
from zoneinfo import ZoneInfo, available_timezones

import pycountry
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from kizuna.core import audit
from kizuna.core.access import registry
from kizuna.core.errors import ServiceError
from kizuna.directory.models import ApiToken, Nation, NationGroup, Organisation, Role, User

NATO_MEMBERS = (
    "ALB", "BEL", "BGR", "CAN", "HRV", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC", "HUN", "ISL", "ITA", "LVA",
    "LTU", "LUX", "MNE", "NLD", "MKD", "NOR", "POL", "PRT", "ROU", "SVK", "SVN", "ESP", "SWE", "TUR", "GBR", "USA",
)
PARTNERS = ("AUS", "JPN", "NZL", "KOR")
CAPITAL_TIMEZONES = {
    "AUS": "Australia/Sydney", "JPN": "Asia/Tokyo", "NZL": "Pacific/Auckland", "KOR": "Asia/Seoul",
    "BEL": "Europe/Brussels", "USA": "America/New_York", "GBR": "Europe/London", "FRA": "Europe/Paris",
    "DEU": "Europe/Berlin", "CAN": "America/Toronto",
}
# The names the alliance uses where they differ from the ISO short name.
NATION_NAMES = {"KOR": "Republic of Korea", "USA": "United States", "GBR": "United Kingdom", "NLD": "Netherlands",
                "CZE": "Czechia", "TUR": "Türkiye", "MKD": "North Macedonia"}
TOKEN_PREFIX = "kz_"  # noqa: S105 - a public prefix, not a secret


def ensure_reference_data() -> None:
    """Idempotent: every NATO member and partner nation, and the NATO and IP4 groups."""
    with transaction.atomic():
        for code in (*NATO_MEMBERS, *PARTNERS):
            country = pycountry.countries.get(alpha_3=code)
            name = NATION_NAMES.get(code) or (getattr(country, "common_name", None) or country.name if country else code)
            Nation.objects.update_or_create(
                code=code,
                defaults={
                    "name": name,
                    "is_nato_member": code in NATO_MEMBERS,
                    "is_partner": code in PARTNERS,
                    "capital_timezone": CAPITAL_TIMEZONES.get(code, ""),
                },
            )
        for code, name, members in (
            ("NATO", "NATO member nations", NATO_MEMBERS),
            ("IP4", "Indo-Pacific partners (Australia, Japan, New Zealand, Republic of Korea)", PARTNERS),
        ):
            group, _ = NationGroup.objects.get_or_create(code=code, defaults={"name": name})
            group.members.add(*members)
        Organisation.objects.get_or_create(
            code="NATO-IS", defaults={"name": "NATO International Staff", "is_nato_body": True}
        )


def nation_groups() -> dict[str, frozenset[str]]:
    """The groups of nations (code -> member nation codes), read afresh: the label core's lattice reads them through
    ``kizuna.core.access.nation_groups`` (installed by ``DirectoryConfig.ready``)."""
    groups: dict[str, set[str]] = {}
    for code, member in NationGroup.members.through.objects.values_list("nationgroup_id", "nation_id"):
        groups.setdefault(str(code), set()).add(str(member))
    return {code: frozenset(members) for code, members in groups.items()}


def ensure_organisation(code: str, name: str | None = None, nation: str | None = None,
                        names: dict[str, str] | None = None) -> Organisation:
    org = Organisation.objects.filter(code=code).first()
    if org is None:
        org = Organisation.objects.filter(name=code).first()
    if org is not None:
        return org
    if nation is not None and not Nation.objects.filter(code=nation).exists():
        raise ServiceError(gettext("unknown nation %(code)s; use an ISO 3166-1 alpha-3 code such as JPN") % {
            "code": repr(nation)}, "nation")
    return Organisation.objects.create(code=code[:32], name=name or code, nation_id=nation, names=dict(names or {}))


def _check_clearances(clearances: dict[str, str]) -> None:
    for policy_id, level in clearances.items():
        policy = registry().get(policy_id)
        if policy is None:
            raise ServiceError(gettext("unknown policy %(policy)s in clearance") % {"policy": repr(policy_id)}, "clearance")
        if not policy.has_classification(level):
            levels = ", ".join(c.name for c in policy.classifications)
            raise ServiceError(gettext("unknown classification %(level)s for policy %(policy)s; use one of %(levels)s") % {
                "level": repr(level), "policy": policy_id, "levels": levels}, "clearance")


def _check_communities(communities: list[str]) -> None:
    allowed = set(registry().community_values())
    unknown = [c for c in communities if c not in allowed]
    if unknown:
        raise ServiceError(gettext("unknown community %(communities)s; use one of %(allowed)s") % {
            "communities": ", ".join(unknown), "allowed": ", ".join(sorted(allowed))}, "community")


def create_user(
    username: str,
    nation: str,
    organisation: str,
    clearances: dict[str, str],
    communities: list[str],
    role: str = Role.VIEWER,
    password: str | None = None,
    email: str = "",
    language: str = "en",
    timezone_name: str = "UTC",
    check_password: bool = False,
    actor: str = "system",
) -> User:
    """Create a user; the organisation is found by code or name, or created under the user's nation."""
    if not username or len(username) > 150:
        raise ServiceError(gettext("a username of 1 to 150 characters is required"), "username")
    if ":" in username:  # reserved for the accounts of federation peers (directory.subjects.PEER_PREFIX)
        raise ServiceError(gettext("a username may not contain ':'"), "username")
    if User.objects.filter(username=username).exists():
        raise ServiceError(gettext("user %(username)s already exists") % {"username": repr(username)}, "username")
    if not Nation.objects.filter(code=nation).exists():
        raise ServiceError(gettext("unknown nation %(code)s; use an ISO 3166-1 alpha-3 code such as JPN") % {
            "code": repr(nation)}, "nation")
    if role not in Role.values:
        raise ServiceError(gettext("unknown role %(role)s; use one of %(roles)s") % {
            "role": repr(role), "roles": ", ".join(Role.values)}, "role")
    if timezone_name not in available_timezones():
        raise ServiceError(gettext("unknown time zone %(zone)s") % {"zone": repr(timezone_name)}, "timezone")
    ZoneInfo(timezone_name)
    _check_clearances(clearances)
    _check_communities(communities)
    if password and check_password:
        try:
            validate_password(password)
        except ValidationError as exc:
            raise ServiceError(" ".join(exc.messages), "password") from None
    with transaction.atomic():
        org = ensure_organisation(organisation, nation=nation)
        user = User(
            username=username,
            email=email,
            nation_id=nation,
            organisation=org,
            clearances=clearances,
            communities=sorted(set(communities)),
            role=role,
            language=language,
            timezone=timezone_name,
            # Admins administer the directory in /admin/. Labelled content is never registered there and
            # visible_to() ignores these flags, so they confer no right to read anything.
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
        )
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        audit.record(actor, "user.create", "user", [user.pk], detail={"username": username, "nation": nation})
    return user


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(user: User, name: str = "", actor: str | None = None) -> tuple[ApiToken, str]:
    """A new token for the user; the secret is returned once and only its SHA-256 is stored."""
    if not user.is_active:
        raise ServiceError(gettext("user %(username)s is not active") % {"username": user.username})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, name=name[:100], prefix=secret[:12], digest=_digest(secret))
        audit.record(actor or user.username, "token.create", "token", [token.pk], detail={"user": user.username})
    return token, secret


def revoke_token(token: ApiToken, actor: str) -> None:
    with transaction.atomic():
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit.record(actor, "token.revoke", "token", [token.pk])


def user_for_token(secret: str) -> User | None:
    """The active user an unrevoked token belongs to, or None."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = ApiToken.objects.select_related("user", "user__organisation").filter(digest=_digest(secret)).first()
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        # In a transaction, so that on SQLite the write waits for its turn at the lock like any other
        # (kizuna/core/sqlite/turns.py); a bare statement would wait unannounced behind an import.
        with transaction.atomic():
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
