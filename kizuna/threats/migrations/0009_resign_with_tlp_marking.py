"""Served objects now name the standard TLP 2.0 marking of their label's TLP beside the Kizuna label marking (issue 13),
and this node signs an object over its served form (``kizuna.federation.outbound``). A signature kept from before was
made over the form without the TLP marking and would not verify: clear them all, so that ``federation.sign`` (the
worker's periodic job, or ``kizuna node sign``) signs each object again, and serving signs on the fly meanwhile."""

from typing import Any

from django.db import migrations


def clear_signatures(apps: Any, schema_editor: Any) -> None:
    StixObject = apps.get_model("threats", "StixObject")
    StixObject.objects.filter(signature__isnull=False).update(signature=None, signed_label=None)


class Migration(migrations.Migration):

    dependencies = [
        ("threats", "0008_list_by_recency"),
    ]

    operations = [
        migrations.RunPython(clear_signatures, migrations.RunPython.noop),
    ]
