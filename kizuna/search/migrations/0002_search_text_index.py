"""The trigram index of the entries' text (``kizuna.search.index.TEXT_INDEX``): an FTS5 table with the trigram
tokenizer on SQLite, a ``pg_trgm`` GIN index on PostgreSQL (``kizuna.core.textsearch``). Entries are written by the
modules' saves from now on; migration 0004 (and ``kizuna search reindex``) fills it for records stored before."""

from typing import Any

from django.db import migrations

from kizuna.core.textsearch import TrigramIndex

INDEX = TrigramIndex("search_entrytext")


def create(apps: Any, schema_editor: Any) -> None:
    with schema_editor.connection.cursor() as cursor:
        for statement in INDEX.create_sql(schema_editor.connection.vendor):
            cursor.execute(statement)


def drop(apps: Any, schema_editor: Any) -> None:
    with schema_editor.connection.cursor() as cursor:
        for statement in INDEX.drop_sql(schema_editor.connection.vendor):
            cursor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
