"""At most one current version per (stix_id, line), as a partial unique index (issue 12). Lines left with several
current versions by concurrent imports before it keep only the latest (by ``modified`` as an instant, then the
newest row); the others stop being current and lose their observable values, as ``store._supersede`` does."""

from typing import Any

from django.db import migrations, models


def keep_one_current(apps: Any, schema_editor: Any) -> None:
    from kizuna.threats.validate import timestamp_key

    stix = apps.get_model("threats", "StixObject")
    values = apps.get_model("threats", "ObservableValue")
    duplicated = (stix.objects.filter(is_current=True).values("stix_id", "line")
                  .annotate(n=models.Count("id")).filter(n__gt=1))
    for group in duplicated.iterator():
        rows = list(stix.objects.filter(stix_id=group["stix_id"], line=group["line"], is_current=True)
                    .values_list("pk", "modified"))
        best = max(rows, key=lambda r: (timestamp_key(r[1]), r[0]))
        stale = [pk for pk, _ in rows if pk != best[0]]
        stix.objects.filter(pk__in=stale).update(is_current=False)
        values.objects.filter(obj_id__in=stale).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('threats', '0005_version_lines'),
    ]

    operations = [
        migrations.RunPython(keep_one_current, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='stixobject',
            constraint=models.UniqueConstraint(condition=models.Q(('is_current', True)), fields=('stix_id', 'line'),
                                               name='stix_one_current'),
        ),
    ]
