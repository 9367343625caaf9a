"""Reports travel as STIX objects: each report gets its own uuid (the base of its STIX id; existing rows each get a
fresh one), a withdrawal reason, and ``stix_id`` for reports received from a peer."""

import uuid

from django.db import migrations, models


def fill_uuids(apps, schema_editor):  # type: ignore[no-untyped-def]
    Report = apps.get_model("reports", "Report")
    for pk in Report.objects.filter(uuid__isnull=True).values_list("pk", flat=True).iterator():
        Report.objects.filter(pk=pk).update(uuid=uuid.uuid4())


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0002_report_label_list"),
    ]

    operations = [
        migrations.AddField(
            model_name="report",
            name="withdrawal_reason",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="report",
            name="stix_id",
            field=models.CharField(blank=True, editable=False, max_length=128, null=True, unique=True),
        ),
        # A callable default would give every existing row the same value: add nullable, fill, then constrain.
        migrations.AddField(
            model_name="report",
            name="uuid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(fill_uuids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="report",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
