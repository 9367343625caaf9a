"""Turn a user (or a token acting for one, or a federation peer's account) into the label engine's Subject."""

from __future__ import annotations

from typing import Any

from kizuna.directory.models import NationGroup, User
from kizuna.labels import Subject

ANONYMOUS = Subject(key="anonymous")
# Usernames of peer accounts. ":" is not allowed in usernames people are given, so no person can hold one.
PEER_PREFIX = "peer:"


# Where a user object keeps the subject made from it, with the fields it was made from. A request's user object is
# passed from the view down to every service, so the subject is computed once per request (issue 11: a report POST
# made it four times, each with a query), and a service that changes the user's entitlements makes it anew.
_CACHE = "_kizuna_subject"


# Bumped when a group's members change in this process (``DirectoryConfig.ready`` connects it), so that a user object
# kept across the change (a shell, a test, a long command) makes its subject anew. Another process's change reaches
# a request through its fresh user object.
_groups_changed = [0]


def groups_changed(**_: object) -> None:
    _groups_changed[0] += 1


def _fingerprint(user: User) -> tuple[object, ...]:
    return (_groups_changed[0], user.pk, user.is_active, user.username, user.nation_id, user.organisation_id,
            repr(user.clearances), repr(user.communities))


def subject_for(user: object) -> Subject:
    """The subject a request acts as. Inactive or anonymous users hold nothing and so see nothing."""
    if not isinstance(user, User) or not user.is_active:
        return ANONYMOUS
    if user.username.startswith(PEER_PREFIX):  # a peer's entitlements live on its Peer row: never kept
        return _make_subject(user)
    fingerprint = _fingerprint(user)
    cached = user.__dict__.get(_CACHE)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    subject = _make_subject(user)
    user.__dict__[_CACHE] = (fingerprint, subject)
    return subject


def _make_subject(user: User) -> Subject:
    if user.username.startswith(PEER_PREFIX):  # cheap test first: people never have a peer (one query saved)
        peer = getattr(user, "peer", None)  # the reverse one-to-one of federation.Peer
        if peer is not None:
            return peer_subject(peer)
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


def _with_groups(codes: set[str]) -> set[str]:
    nations = set(codes)
    if codes:
        nations.update(NationGroup.objects.filter(members__in=sorted(codes)).values_list("code", flat=True))
    return nations


def peer_subject(peer: Any) -> Subject:
    """A federation peer as a subject: the nations (and groups) it is entitled to, its clearances and communities,
    and its organisation as a TLP:RED principal. Nothing else of its account counts."""
    if not peer.enabled:
        return Subject(key=f"peer:{peer.pk}")
    return Subject(
        key=f"peer:{peer.pk}",
        nations=frozenset(_with_groups({str(n) for n in peer.nations or []})),
        communities=frozenset(str(c) for c in peer.communities or []),
        clearances={str(k): str(v) for k, v in (peer.clearances or {}).items()},
        principals=frozenset({f"org:{peer.organisation.code}", f"peer:{peer.name}"}),
    )
