"""What a user may write, shared by every domain's services: the contributor check, and the label an author may give
(TLP:RED always names the author's organisation; nobody may write what they could not read)."""

from __future__ import annotations

from django.utils.translation import gettext

from kizuna.core.access import intern_label, may_subject_see
from kizuna.core.errors import ServiceError
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.labels import TLP, Label, LabelError


def require_contributor(author: User) -> None:
    if not author.can_contribute:
        raise ServiceError(gettext("your role does not allow writing; ask a coordinator"))
    if author.organisation is None:
        raise ServiceError(gettext("your account has no organisation; ask an administrator"))


def resolve_label(author: User, label: Label) -> Label:
    """The label as it will be stored, validated and interned; ServiceError (field "label") when it is not allowed."""
    if author.organisation is None:
        raise ServiceError(gettext("your account has no organisation; ask an administrator"))
    if label.tlp is TLP.RED:
        label = label.with_recipient(f"org:{author.organisation.code}")
    try:
        intern_label(label)
    except LabelError as exc:
        raise ServiceError(str(exc), "label") from None
    if not may_subject_see(subject_for(author), label):
        raise ServiceError(
            gettext("you could not see an item with this label yourself; choose a label that includes you"), "label"
        )
    return label
