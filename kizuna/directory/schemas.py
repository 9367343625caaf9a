"""The shapes of the directory in the REST API: the caller as the node knows them (``GET /api/v1/me``)."""

from __future__ import annotations

from typing import Any

from kizuna.core.schemas import OrganisationOut, Out
from kizuna.directory.models import User


class MeOut(Out):
    username: str
    nation: str | None
    organisation: OrganisationOut | None
    clearances: dict[str, str]
    communities: list[str]
    role: str


def me_out(user: User) -> dict[str, Any]:
    org = user.organisation
    return {
        "username": user.username,
        "nation": user.nation_id,
        "organisation": {"code": org.code, "name": org.name} if org is not None else None,
        "clearances": {str(k): str(v) for k, v in (user.clearances or {}).items()},
        "communities": [str(c) for c in user.communities or []],
        "role": user.role,
    }
