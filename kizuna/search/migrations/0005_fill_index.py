"""Fill the search index on a node that held records before the search existed (issue 14): on upgrading, the entries
are built here, so an operator no longer has to run ``kizuna search reindex`` once. Nothing to do (a no-op) on a
new node, or when the index already holds entries; reversing it does nothing (the entries go with the tables when
0001 is reversed).

Why the rebuild uses the real models and the registry, not historical models: what a record is found by is declared
by its module (``registry.Searchable``: the text callables, ``active``, the title, area and nation callables, which
read the record's relations), and those callables need the real model classes and their methods; copying them here
would let the two drift. It is safe because:

- the dependencies below are the latest migrations, when this one was written, of every app whose models the
  rebuild reads (the searchable types and the organisations and labels they point at), so those tables have every
  column the real models map when this runs on an upgrade;
- whether there is anything to do is decided with historical models only (``exists()`` on each searchable type's
  table, and on the entries), so a new node reads no real model at all;
- should a later migration ever add a column to a searchable model that Django orders after this one, the real
  model would name a column not there yet: the rebuild then runs in a savepoint, is rolled back, and the migration
  says to run ``kizuna search reindex`` after the upgrade (as before this migration) instead of failing it.
"""

from __future__ import annotations

import sys
from typing import Any

from django.db import DatabaseError, migrations, transaction

from kizuna.core import registry


def _searchable_models(apps: Any) -> list[Any]:
    """The historical model of every searchable type this node's registry declares (those its apps define)."""
    found = []
    for record_type, _spec in registry.searchable_types():
        try:
            found.append(apps.get_model(record_type.model))
        except LookupError:  # an app whose tables are not in this migration state
            continue
    return found


def needs_filling(apps: Any) -> bool:
    """True when the index holds no entry while some searchable record exists (historical models only)."""
    if apps.get_model("search", "SearchEntry").objects.exists():
        return False
    return any(model.objects.exists() for model in _searchable_models(apps))


def fill(apps: Any, schema_editor: Any) -> None:
    """Build every entry with ``kizuna.search.index.rebuild`` (the same code as ``kizuna search reindex``) when the
    index is empty and records exist."""
    if not needs_filling(apps):
        return
    from kizuna.search.index import rebuild  # the real models and the registry: see the module's docstring

    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            counts = rebuild()
    except DatabaseError as exc:
        sys.stderr.write(f"\n  search: the index could not be filled here ({exc}); "
                         "run `kizuna search reindex` once the upgrade is done.\n")
        return
    sys.stdout.write("\n  search: " + ", ".join(f"{n} {kind}" for kind, n in counts.items() if n) + " indexed")


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0004_entry_key_covers_walk"),
        ("core", "0004_audit_sealed"),
        ("directory", "0003_organisation_names"),
        ("reports", "0003_report_stix"),
        ("practices", "0002_list_by_recency"),
        ("glossary", "0001_initial"),
        ("consultations", "0005_email_mode_moved_to_notifications"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
