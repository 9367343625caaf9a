"""Writes through TAXII: objects POSTed to a collection are imported by the threat store's own service
(``kizuna.threats.services.do_import_objects``: validation, labels, originator rule, audit), and the outcome is kept
as an ``ImportJob`` so that the TAXII status resource can be read again later."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from kizuna.directory.models import User
from kizuna.labels import Label
from kizuna.threats.importer import storable_text
from kizuna.threats.models import ImportJob, ImportStatus
from kizuna.threats.services import do_import_objects

SOURCE = "TAXII POST"


def do_add_objects(user: User, objects: list[dict[str, Any]], default_label: Label) -> ImportJob:
    """Import ``objects`` (synchronously) and record the outcome; the job's pk is the TAXII status id."""
    summary = do_import_objects(user, objects, default_label, source=SOURCE)
    errors = summary.as_errors_json()
    for error in errors:  # the status resource names each failure's version: take it from what was sent
        index = error.get("index")
        if isinstance(index, int) and 0 <= index < len(objects):
            error["version"] = storable_text(str(objects[index].get("modified") or objects[index].get("created") or ""))
    return ImportJob.objects.create(
        user=user, source=SOURCE, fmt="stix", status=ImportStatus.DONE, default_label_key=default_label.key(),
        accepted=summary.accepted, unchanged=summary.unchanged, rejected=summary.rejected,
        rejected_by_reason=dict(summary.rejected_by_reason), errors=errors,
        finished_at=timezone.now(),
    )
