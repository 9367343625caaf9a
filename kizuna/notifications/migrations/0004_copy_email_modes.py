"""Copy each person's e-mail choice and digest time from consultations' ``CalendarSettings`` (where the choice lived
while consultations was the only module that e-mailed) into the one ``Preference`` of the notifications app;
consultations 0005 then drops the two columns. Backwards, they are copied back (a weekly choice, which the old column
did not know, becomes daily).
"""

from typing import Any

from django.db import migrations

_CHUNK = 1000


def forwards(apps: Any, schema_editor: Any) -> None:
    old = apps.get_model("consultations", "CalendarSettings")
    new = apps.get_model("notifications", "Preference")
    batch = []
    for row in old.objects.order_by("pk").iterator(chunk_size=_CHUNK):
        batch.append(new(user_id=row.user_id, email_mode=row.email_mode, last_digest_at=row.last_digest_at))
        if len(batch) >= _CHUNK:
            new.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    if batch:
        new.objects.bulk_create(batch, ignore_conflicts=True)


def backwards(apps: Any, schema_editor: Any) -> None:
    old = apps.get_model("consultations", "CalendarSettings")
    new = apps.get_model("notifications", "Preference")
    for row in new.objects.order_by("pk").iterator(chunk_size=_CHUNK):
        mode = "daily" if row.email_mode == "weekly" else row.email_mode
        settings, _ = old.objects.get_or_create(user_id=row.user_id)
        settings.email_mode = mode
        settings.last_digest_at = row.last_digest_at
        settings.save(update_fields=["email_mode", "last_digest_at"])
    new.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_preference"),
        ("consultations", "0004_list_by_recency"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
