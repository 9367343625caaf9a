"""Versions of labelled records: a snapshot after every change, including label changes.

A version's ``summary`` ("created", "changed title, label", "withdrawn: reason", "received from PEER: ...") is stored
in English, the language of the audit trail and the API; ``summary_text`` puts it into the reader's language for a
page (issue 14). A summary it does not recognise is shown as stored."""

from __future__ import annotations

from typing import Any

from django.db.models import Max
from django.utils.translation import gettext, pgettext, pgettext_lazy

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


# The fields a summary names ("changed title, label"), in the reader's language. A field not listed is shown as stored.
_FIELD_NAMES = {
    "title": pgettext_lazy("changed field", "title"),
    "summary": pgettext_lazy("changed field", "summary"),
    "body": pgettext_lazy("changed field", "body"),
    "kind": pgettext_lazy("changed field", "kind"),
    "label": pgettext_lazy("changed field", "label"),
    "focus_areas": pgettext_lazy("changed field", "focus areas"),
    "status": pgettext_lazy("changed field", "status"),
    "text": pgettext_lazy("changed field", "text"),
    "start": pgettext_lazy("changed field", "start"),
    "end": pgettext_lazy("changed field", "end"),
    "time_zone": pgettext_lazy("changed field", "time zone"),
    "location": pgettext_lazy("changed field", "location"),
    "attendees": pgettext_lazy("changed field", "attendees"),
    "due": pgettext_lazy("changed field", "due date"),
    "owner": pgettext_lazy("changed field", "owner"),
    "notes": pgettext_lazy("changed field", "notes"),
}


def _fields(text: str) -> str:
    names = [str(_FIELD_NAMES.get(name.strip(), name.strip())) for name in text.split(",")]
    return pgettext("list separator", ", ").join(names)


def summary_text(summary: str) -> str:
    """A stored version summary in the active language: ``changed title, label`` reads 変更：件名、ラベル."""
    text = summary.strip()
    if text == "created":
        return gettext("created")
    if text == "changed":
        return gettext("changed")
    if text.startswith("changed "):
        return gettext("changed %(fields)s") % {"fields": _fields(text.removeprefix("changed "))}
    for word, bare, with_reason in (
        ("withdrawn", gettext("withdrawn"), gettext("withdrawn: %(reason)s")),
        ("cancelled", gettext("cancelled"), gettext("cancelled: %(reason)s")),
    ):
        if text == word:
            return bare
        if text.startswith(word + ": "):
            return with_reason % {"reason": text.removeprefix(word + ": ")}
    if text.startswith("received from "):
        peer, colon, note = text.removeprefix("received from ").partition(": ")
        if not colon:
            return gettext("received from %(peer)s") % {"peer": peer}
        return gettext("received from %(peer)s: %(note)s") % {"peer": peer, "note": summary_text(note)}
    return summary
