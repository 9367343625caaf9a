"""What a person may learn about another from the directory: the directory's own visibility rule (issue 10, item 8).

The office shares who is in the directory: a person's username, display name, organisation and nation, and so the
nation groups the nation belongs to. It does not share a person's clearances, communities or role: those are told
only to the person themself and to the node's administrators, who keep the directory.

Whether someone "may see a label" mixes both kinds of fact, so every answer that names other people — the label
picker's preview of TLP:RED recipients, the refusal of meeting attendees, series chairs and action owners — asks
``access_as_known_to``. It answers from the shared facts alone (nationality, organisation, username: the
releasability and TLP:RED parts of the label), and tells the private part (clearance and communities) only to someone
entitled to learn it. For anyone else the answer is ``UNDISCLOSED`` whatever the person holds, so no sequence of
questions can map a colleague's clearance or communities.
"""

from __future__ import annotations

from enum import Enum

from django.db.models import QuerySet

from kizuna.core.access import may_subject_see, registry
from kizuna.directory.models import Role, User
from kizuna.directory.subjects import PEER_PREFIX, subject_for
from kizuna.labels import Label, Subject


class Access(Enum):
    """Whether a person may see a label, as far as the asker may know."""

    YES = "yes"
    NO = "no"
    UNDISCLOSED = "undisclosed"  # the shared facts allow it; the rest is not the asker's to know


def people() -> QuerySet[User]:
    """The people the directory shows: active accounts, not federation peers. Anyone may learn that one of them
    exists, and their username, display name, organisation and nation."""
    return User.objects.filter(is_active=True).exclude(username__startswith=PEER_PREFIX)


def may_learn_private(viewer: User | None, person: User) -> bool:
    """Clearances and communities: the person themself and the node's administrators."""
    if viewer is None or not viewer.is_active:
        return False
    return viewer.pk == person.pk or viewer.role == Role.ADMIN


def _as_shared(subject: Subject, label: Label) -> Subject:
    """The subject with every private requirement of ``label`` taken as met: the top classification of its policy and
    every value of its categories as communities. What is left to decide are the shared facts."""
    policy = registry().get(label.policy)
    top = {label.policy: policy.classifications[-1].name} if policy and policy.classifications else {}
    values = frozenset(value for _, category in label.categories for value in category)
    return Subject(key=f"{subject.key}:shared", nations=subject.nations, communities=values, clearances=top,
                   principals=subject.principals)


def access_as_known_to(viewer: User | None, person: User, label: Label) -> Access:
    """May ``person`` see ``label``, as ``viewer`` may learn it? NO when the shared facts already exclude them (their
    nation is not among the releasable ones, TLP:RED does not name them, or they are not in the directory); otherwise
    the full decision when ``viewer`` may learn the person's clearance and communities, UNDISCLOSED when not."""
    if not person.is_active:
        return Access.NO
    subject = subject_for(person)
    if not may_subject_see(_as_shared(subject, label), label):
        return Access.NO
    if may_learn_private(viewer, person):
        return Access.YES if may_subject_see(subject, label) else Access.NO
    return Access.UNDISCLOSED


def refused(viewer: User | None, persons: list[User], label: Label) -> list[User]:
    """Those among ``persons`` whom ``viewer`` may be told cannot see ``label``. A person whose access depends on what
    ``viewer`` may not learn is never among them, whatever they hold."""
    return [p for p in persons if access_as_known_to(viewer, p, label) is Access.NO]
