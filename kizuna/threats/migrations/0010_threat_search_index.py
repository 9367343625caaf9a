"""The threat search (issue 13, point 2): the trigram substring index of the current versions' text
(``store.SEARCH_INDEX``: an FTS5 table on SQLite, a ``pg_trgm`` GIN index on PostgreSQL), and an ``ip-range`` row
beside each IP address or network value (``prepare.ip_range_key``) for search by containment.

Both are filled here for the objects a node already holds, from each current version's stored JSON text, exactly
as the store fills them for new objects (``prepare.observable_values`` and ``prepare.search_text``)."""

import json
from typing import Any

from django.db import migrations

from kizuna.core.textsearch import TrigramIndex
from kizuna.threats.prepare import IP_RANGE, display_name, observable_values, search_text

INDEX = TrigramIndex("threats_searchtext")
_CHUNK = 2000


def create_and_fill(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        for statement in INDEX.create_sql(vendor):
            cursor.execute(statement)
    fill(apps)


def fill(apps: Any) -> None:
    """Index every current version (a node's objects stored before this migration), 2,000 at a time."""
    StixObject = apps.get_model("threats", "StixObject")
    ObservableValue = apps.get_model("threats", "ObservableValue")
    last = 0
    while True:
        rows = list(StixObject.objects.filter(is_current=True, pk__gt=last).order_by("pk")
                    .values_list("pk", "data")[:_CHUNK])
        if not rows:
            break
        last = rows[-1][0]
        texts: list[tuple[int, str]] = []
        ranges: list[Any] = []
        for pk, data in rows:
            try:
                obj = json.loads(data)
            except ValueError:
                continue
            if not isinstance(obj, dict):
                continue
            values = observable_values(obj)
            ranges.extend(ObservableValue(obj_id=pk, kind=kind, value=value) for kind, value in values
                          if kind == IP_RANGE)
            text = search_text(obj, display_name(obj), values)
            if text:
                texts.append((pk, text))
        INDEX.insert(texts)
        ObservableValue.objects.bulk_create(ranges)


def drop(apps: Any, schema_editor: Any) -> None:
    apps.get_model("threats", "ObservableValue").objects.filter(kind=IP_RANGE).delete()
    with schema_editor.connection.cursor() as cursor:
        for statement in INDEX.drop_sql(schema_editor.connection.vendor):
            cursor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ("threats", "0009_resign_with_tlp_marking"),
    ]

    operations = [
        migrations.RunPython(create_and_fill, drop),
    ]
