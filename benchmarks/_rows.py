"""Rows written by raw SQL, made from the model's own fields (a helper of the benchmarks, not a benchmark).

Benchmarks insert hundreds of thousands of rows with ``executemany`` (the ORM would take most of the build). A column
list written out by hand falls behind the model: a column added later, NOT NULL, fails the build with a bare
constraint error (``reports_report.withdrawal_reason`` did). ``model_insert`` writes every concrete column but an
automatic primary key, gives each column the benchmark does not choose the field's default (a callable default, such
as a uuid, called per row), converts every value as Django converts it when it saves, and stops with the column's
name when a NOT NULL column has no default and the benchmark gives no value. Use it after ``django.setup()``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import connection, models


def model_insert(model: type[models.Model], varying: Sequence[str],
                 constant: Mapping[str, Any] | None = None) -> tuple[str, Callable[..., tuple[Any, ...]]]:
    """The INSERT statement (``%s`` placeholders, for a Django cursor) of ``model``'s table and a function making one
    row of it from the ``varying`` values, given in that order. Names are attribute names (``label_id``)."""
    constant = dict(constant or {})
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]
    names = {f.attname for f in fields}
    unknown = (set(constant) | set(varying)) - names
    if unknown:
        raise SystemExit(f"a benchmark gives values for columns that {model.__name__} lacks: {sorted(unknown)}")
    given = set(constant) | set(varying)
    missing = [f.attname for f in fields if f.attname not in given and not f.null and f.get_default() is None]
    if missing:
        raise SystemExit(f"a benchmark must give a value for the NOT NULL column(s) {missing} of "
                         f"{model._meta.db_table}: they have no default")

    def prep(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
        return lambda value: field.get_db_prep_save(value, connection)

    convert = {f.attname: prep(f) for f in fields}
    fixed = {f.attname: convert[f.attname](constant[f.attname] if f.attname in constant else f.get_default())
             for f in fields if f.attname not in varying and (f.attname in constant or not callable(f.default))}
    per_row = {f.attname: f for f in fields if f.attname not in varying and f.attname not in fixed}
    position = {name: i for i, name in enumerate(varying)}
    columns = [f.attname for f in fields]

    def make_row(*values: Any) -> tuple[Any, ...]:
        return tuple(convert[c](values[position[c]]) if c in position
                     else fixed[c] if c in fixed else convert[c](per_row[c].get_default()) for c in columns)

    sql = (f"INSERT INTO {model._meta.db_table} ({', '.join(connection.ops.quote_name(f.column) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    return sql, make_row
