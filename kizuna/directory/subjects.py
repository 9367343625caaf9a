"""Turn a user (or a token acting for one) into the label engine's Subject."""

from __future__ import annotations

from kizuna.directory.models import NationGroup, User
from kizuna.labels import Subject

ANONYMOUS = Subject(key="anonymous")


def subject_for(user: object) -> Subject:
    """The subject a request acts as. Inactive or anonymous users hold nothing and so see nothing."""
    if not isinstance(user, User) or not user.is_active:
        return ANONYMOUS
    nations: set[str] = set()
    if user.nation_id:
        nations.add(user.nation_id)
        nations.update(NationGroup.objects.filter(members=user.nation_id).values_list("code", flat=True))
    principals = {f"user:{user.username}"}
    if user.organisation_id is not None and user.organisation is not None:
        principals.add(f"org:{user.organisation.code}")
    return Subject(
        key=f"user:{user.pk}",
        nations=frozenset(nations),
        communities=frozenset(str(c) for c in user.communities or []),
        clearances={str(k): str(v) for k, v in (user.clearances or {}).items()},
        principals=frozenset(principals),
    )
