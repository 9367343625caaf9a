"""Versions of labelled records: a snapshot after every change, including label changes."""

from __future__ import annotations

from typing import Any

from django.db.models import Max

from kizuna.core.models import Labelled, Version
from kizuna.labels import Subject


def content_type_of(obj: Labelled) -> str:
    return f"{obj._meta.app_label}.{obj._meta.model_name}"


def snapshot(obj: Labelled, data: dict[str, Any], author: Any, summary: str = "") -> Version:
    ctype = content_type_of(obj)
    last = Version.objects.filter(content_type=ctype, object_id=obj.pk).aggregate(n=Max("number"))["n"] or 0
    return Version.objects.create(
        content_type=ctype,
        object_id=obj.pk,
        number=last + 1,
        label_id=obj.label_id,  # type: ignore[attr-defined]
        data=data,
        author=author,
        summary=summary[:200],
    )


def history(obj: Labelled, subject: Subject) -> list[Version]:
    """The record's versions that the subject may see: a version keeps the label it had, which may differ."""
    from kizuna.core.access import visible_q

    return list(
        Version.objects.filter(visible_q(subject), content_type=content_type_of(obj), object_id=obj.pk)
        .select_related("author", "label")
    )
