"""Copy the rows of the two old notification tables (consultations' and the threat watch's) into the one table; the
old tables are dropped by consultations 0003 and threats_watch 0002, which run after this.

A consultation row names its record as "action:<id>" when it had an action (the action was the record shown) and else
"meeting:<id>", with that id as its ``record_id``; its key, times and e-mail state are kept. A watch row names its STIX object; its key is
"watch:<STIX id>" (one per user and object, as before) and its watch filter goes into ``detail``. Backwards, the rows
are copied back into the old tables (a row whose record is gone is dropped, as its foreign key's CASCADE would have).
"""

from typing import Any

from django.db import migrations

_CHUNK = 1000
CONSULTATIONS = "consultations"
THREATS = "threats"


def _copy_in_chunks(rows: Any, make: Any, target: Any) -> None:
    batch = []
    for row in rows.iterator(chunk_size=_CHUNK):
        batch.append(make(row))
        if len(batch) >= _CHUNK:
            target.objects.bulk_create(batch)
            batch = []
    if batch:
        target.objects.bulk_create(batch)


def forwards(apps: Any, schema_editor: Any) -> None:
    new = apps.get_model("notifications", "Notification")
    old_consultation = apps.get_model("consultations", "Notification")
    old_watch = apps.get_model("threats_watch", "Notification")

    def from_consultation(row: Any) -> Any:
        record = ("action", row.action_id) if row.action_id is not None else ("meeting", row.meeting_id)
        return new(user_id=row.user_id, module=CONSULTATIONS, kind=row.kind, ref=f"{record[0]}:{record[1]}",
                   record_id=record[1], key=row.key, detail={},
                   created_at=row.created_at, read_at=row.read_at, emailed_at=row.emailed_at)

    def from_watch(row: Any) -> Any:
        detail = {"watch_filter": row.watch_filter_id} if row.watch_filter_id is not None else {}
        return new(user_id=row.user_id, module=THREATS, kind="watch_match", ref=row.stix_id, key=f"watch:{row.stix_id}",
                   detail=detail, created_at=row.created_at, read_at=row.read_at, emailed_at=None)

    _copy_in_chunks(old_consultation.objects.order_by("pk"), from_consultation, new)
    _copy_in_chunks(old_watch.objects.order_by("pk"), from_watch, new)


def backwards(apps: Any, schema_editor: Any) -> None:
    new = apps.get_model("notifications", "Notification")
    old_consultation = apps.get_model("consultations", "Notification")
    old_watch = apps.get_model("threats_watch", "Notification")
    meeting = apps.get_model("consultations", "Meeting")
    action = apps.get_model("consultations", "ActionItem")
    watch_filter = apps.get_model("threats_watch", "WatchFilter")
    for model in (old_consultation, old_watch):
        # Keep the copied times: on this historical model only, the field stops stamping "now".
        model._meta.get_field("created_at").auto_now_add = False
    meetings = set(meeting.objects.values_list("pk", flat=True))
    actions = dict(action.objects.values_list("pk", "meeting_id"))
    filters = set(watch_filter.objects.values_list("pk", flat=True))
    consultation_rows, watch_rows = [], []
    for row in new.objects.filter(module=CONSULTATIONS).order_by("pk").iterator(chunk_size=_CHUNK):
        kind, _, pk = row.ref.partition(":")
        if not pk.isdigit():
            continue
        if kind == "action" and int(pk) in actions:
            record = {"action_id": int(pk), "meeting_id": actions[int(pk)]}
        elif kind == "meeting" and int(pk) in meetings:
            record = {"action_id": None, "meeting_id": int(pk)}
        else:
            continue
        consultation_rows.append(old_consultation(user_id=row.user_id, kind=row.kind, key=row.key, **record,
                                                  created_at=row.created_at, read_at=row.read_at,
                                                  emailed_at=row.emailed_at))
    for row in new.objects.filter(module=THREATS).order_by("pk").iterator(chunk_size=_CHUNK):
        filter_id = row.detail.get("watch_filter") if isinstance(row.detail, dict) else None
        watch_rows.append(old_watch(user_id=row.user_id, stix_id=row.ref, created_at=row.created_at,
                                    read_at=row.read_at, watch_filter_id=filter_id if filter_id in filters else None))
    old_consultation.objects.bulk_create(consultation_rows, batch_size=_CHUNK, ignore_conflicts=True)
    old_watch.objects.bulk_create(watch_rows, batch_size=_CHUNK, ignore_conflicts=True)
    new.objects.filter(module__in=[CONSULTATIONS, THREATS]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0001_initial"),
        ("consultations", "0002_cycle"),
        ("threats_watch", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
