"""PostgreSQL: the entries' primary key index carries each entry's date and label (``INCLUDE``), so that a search
that reads a word's matches from the trigram index checks each match's date range and label from the key index
alone, without reading the entry's row (``kizuna.search.query._newest``, the index read): measured at 1,000,000
entries, a word in 1% of them went from 111 ms to 35 ms (docs/performance.md). No extra index is written on each
insert: the key index only gets wider. SQLite reads a row by its key in one step anyway: nothing to do there."""

from __future__ import annotations

from typing import Any

from django.db import migrations

TABLE = "search_searchentry"
CONSTRAINT = "search_searchentry_pkey"


def covering(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {CONSTRAINT}, "
                              f"ADD CONSTRAINT {CONSTRAINT} PRIMARY KEY (id) INCLUDE (date, label_id)")


def plain(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {CONSTRAINT}, "
                              f"ADD CONSTRAINT {CONSTRAINT} PRIMARY KEY (id)")


class Migration(migrations.Migration):
    dependencies = [("search", "0003_entry_walk_index")]

    operations = [migrations.RunPython(covering, plain)]
