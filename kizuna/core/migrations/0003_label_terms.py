"""The label decision in SQL (issue 12): each label row gets the attributes the decision reads — TLP, soundness,
its marking id — and its category values and TLP:RED recipients as ``LabelTerm`` rows, derived from its key."""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

from kizuna.core.models import parse_sound
from kizuna.labels.stixid import label_marking_id


def derive(apps: Any, schema_editor: Any) -> None:
    """Fill the new columns and terms of every existing label from its key (a key that does not parse, or does not
    hash to its id, stays unsound: visible to no one, as before)."""
    record_model = apps.get_model("core", "LabelRecord")
    term_model = apps.get_model("core", "LabelTerm")
    db = schema_editor.connection.alias
    for record in record_model.objects.using(db).order_by("pk").iterator(chunk_size=2000):
        label = parse_sound(record.pk, record.key)
        if label is None:
            continue
        record_model.objects.using(db).filter(pk=record.pk).update(
            sound=True, tlp=label.tlp.value, marking=label_marking_id(label),
            policy=label.policy, classification=label.classification)
        terms = [term_model(label_id=record.pk, kind="c", category=name, value=value)
                 for name, values in label.categories for value in values]
        terms += [term_model(label_id=record.pk, kind="r", category="", value=r) for r in label.recipients]
        term_model.objects.using(db).bulk_create(terms)


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0002_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='labelrecord',
            name='marking',
            field=models.CharField(blank=True, db_index=True, max_length=80),
        ),
        migrations.AddField(
            model_name='labelrecord',
            name='sound',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='labelrecord',
            name='tlp',
            field=models.CharField(default='', max_length=16),
        ),
        migrations.CreateModel(
            name='LabelTerm',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(max_length=1)),
                ('category', models.TextField(blank=True)),
                ('value', models.TextField()),
                ('label', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='core.labelrecord')),
            ],
            options={
                'db_table': 'kizuna_label_term',
                'constraints': [models.UniqueConstraint(fields=('label', 'kind', 'category', 'value'), name='label_term_unique')],
            },
        ),
        migrations.RunPython(derive, migrations.RunPython.noop),
    ]
