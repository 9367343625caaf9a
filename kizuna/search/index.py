"""Writing the search entries: one ``SearchEntry`` and one text in the trigram index (``TEXT_INDEX``) per searchable
record, kept in step with the records.

How they stay in step: ``post_save`` and ``post_delete`` receivers on every model the registry declares searchable
(``connect``). Every write of a module goes through its ``do_*`` services inside ``transaction.atomic``, and Django
sends these signals from inside ``save()``/``delete()``, so the entry is written in the writer's own transaction: a
rolled-back write leaves no entry, and a committed one is searchable at once (no lag). Writes that send no signal
(``bulk_create``, ``QuerySet.update``) must call ``index_records`` themselves; ``kizuna search reindex`` (``rebuild``)
rebuilds every entry from the records and is idempotent. A record that stops being searchable (withdrawn, deleted,
an agenda unpublished) loses its entry in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, time
from typing import Any

from django.apps import apps
from django.db import connection, models, transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from kizuna.core import registry
from kizuna.core.bulk import sequence_ids
from kizuna.core.registry import Searchable
from kizuna.core.textsearch import TrigramIndex, copy_text
from kizuna.search.models import SearchEntry

logger = logging.getLogger("kizuna.search")

TEXT_INDEX = TrigramIndex("search_entrytext")
MAX_TEXT = 100_000  # characters of a record's text indexed: a search box finds words, not the 500th page
_CHUNK = 1000


def searchable_models() -> dict[type[models.Model], Searchable]:
    """The model class of every searchable record type."""
    return {apps.get_model(rt.model): s for rt, s in registry.searchable_types()}


def _title(obj: Any, spec: Searchable) -> str:
    value = spec.title(obj) if callable(spec.title) else getattr(obj, spec.title, "")
    return str(value or "").replace("\x00", "")[:300]


def _nation(obj: Any, spec: Searchable) -> str:
    if spec.nation is not None:
        return spec.nation(obj)[:32]
    originator = getattr(obj, "originator", None)
    if originator is None:
        return ""
    return str(originator.nation_id or ("NATO" if originator.is_nato_body else ""))


def _date(obj: Any, spec: Searchable) -> datetime:
    value = getattr(obj, spec.date_field, None)
    if isinstance(value, datetime):
        return value
    if value is not None:  # a date: its start, UTC
        return datetime.combine(value, time.min, tzinfo=UTC)
    return timezone.now()


def text_of(obj: Any, spec: Searchable) -> str:
    """The text a record is found by: its title and fields (or the type's ``text``), lower-cased, without NUL."""
    if spec.text is not None:
        body = spec.text(obj)
    else:
        body = "\n".join(str(getattr(obj, f, "") or "") for f in spec.fields)
    return f"{_title(obj, spec)}\n{body}"[:MAX_TEXT].lower().replace("\x00", "")


def _entry(obj: Any, spec: Searchable) -> SearchEntry:
    title = _title(obj, spec)
    return SearchEntry(kind=spec.key, record_id=obj.pk, label_id=obj.label_id, date=_date(obj, spec),
                       nation=_nation(obj, spec), area=(spec.area(obj) if spec.area else "")[:40],
                       title=title, title_key=title.lower())


_COPY_FROM = 50  # entries from which PostgreSQL is given COPY rather than INSERT


def _insert_entries(entries: list[SearchEntry]) -> list[int]:
    """Insert these entries; their keys, in order. On PostgreSQL a batch goes by COPY, its keys taken first from the
    table's sequence: Django's bulk_create made and sent 9 parameters a row, about half the index's share of a bulk
    import (measured, docs/performance.md)."""
    if connection.vendor != "postgresql" or len(entries) < _COPY_FROM:
        made = SearchEntry.objects.bulk_create(entries)
        if made and made[0].pk is None:  # a database that does not return keys from bulk_create
            by_record = dict(SearchEntry.objects.filter(kind=made[0].kind, record_id__in=[e.record_id for e in made])
                             .values_list("record_id", "pk"))
            return [by_record[e.record_id] for e in made]
        return [e.pk for e in made]
    table = connection.ops.quote_name(SearchEntry._meta.db_table)
    keys = sequence_ids(SearchEntry._meta.db_table, len(entries))
    with connection.cursor() as cursor:
        columns = "id, kind, record_id, label_id, date, nation, area, title, title_key"
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for start in range(0, len(entries), 100):
                copy.write("".join([
                    f"{key}\t{copy_text(e.kind)}\t{int(e.record_id)}\t{int(e.label_id)}\t{e.date.isoformat()}\t"
                    f"{copy_text(e.nation)}\t{copy_text(e.area)}\t{copy_text(e.title)}\t{copy_text(e.title_key)}\n"
                    for key, e in zip(keys[start : start + 100], entries[start : start + 100], strict=True)]))
    return keys


def remove(kind: str, record_ids: Iterable[int]) -> None:
    """Take these records of one type out of the index (absent ones are ignored); the caller's transaction."""
    ids = list(record_ids)
    for start in range(0, len(ids), _CHUNK):
        entries = SearchEntry.objects.filter(kind=kind, record_id__in=ids[start : start + _CHUNK])
        keys = list(entries.values_list("pk", flat=True))
        if keys:
            TEXT_INDEX.delete(keys)
            SearchEntry.objects.filter(pk__in=keys).delete()


def index_records(spec: Searchable, objects: Sequence[Any], *, fresh: bool = False) -> int:
    """(Re)write the entries of these records of one type, in the caller's transaction: the active ones indexed,
    the others removed. Returns how many are indexed. Batched: a bulk import calls it once per batch, with
    ``fresh=True`` for records it has just created (no entry to remove first)."""
    with transaction.atomic():
        if not fresh:
            remove(spec.key, [o.pk for o in objects])
        active = [o for o in objects if spec.active is None or spec.active(o)]
        keys = _insert_entries([_entry(o, spec) for o in active])
        TEXT_INDEX.insert([(key, text_of(o, spec)) for key, o in zip(keys, active, strict=True)])
    return len(active)


def _saved(sender: type[models.Model], instance: Any, raw: bool = False, **kwargs: Any) -> None:
    spec = searchable_models().get(sender)
    if spec is None or raw:  # raw: loaddata; `kizuna search reindex` covers fixtures
        return
    index_records(spec, [instance])
    if spec.dependants is not None:
        specs = searchable_models()
        for dependant in spec.dependants(instance):
            dependant_spec = specs.get(type(dependant))
            if dependant_spec is not None:
                index_records(dependant_spec, [dependant])


def _deleted(sender: type[models.Model], instance: Any, **kwargs: Any) -> None:
    spec = searchable_models().get(sender)
    if spec is not None:
        remove(spec.key, [instance.pk])


def connect() -> None:
    """Hook every searchable model's saves and deletes (from ``SearchConfig.ready``, after the modules registered:
    the receivers look the model up on each call, so a type registered later is covered too)."""
    post_save.connect(_saved, dispatch_uid="kizuna.search.saved")
    post_delete.connect(_deleted, dispatch_uid="kizuna.search.deleted")


def rebuild(kinds: Iterable[str] | None = None) -> dict[str, int]:
    """Rebuild the entries of every searchable type (or those named) from the records: idempotent. Each type in one
    transaction, read ``_CHUNK`` records at a time. Returns the number of entries per type."""
    wanted = set(kinds) if kinds is not None else None
    counts: dict[str, int] = {}
    for model, spec in searchable_models().items():
        if wanted is not None and spec.key not in wanted:
            continue
        with transaction.atomic():
            keys = list(SearchEntry.objects.filter(kind=spec.key).values_list("pk", flat=True))
            TEXT_INDEX.delete(keys)
            SearchEntry.objects.filter(kind=spec.key).delete()
            total, last = 0, 0
            base = model._default_manager.select_related(*spec.select_related).order_by("pk")
            while True:
                rows = list(base.filter(pk__gt=last)[:_CHUNK])
                if not rows:
                    break
                last = rows[-1].pk
                total += index_records(spec, rows, fresh=True)
            counts[spec.key] = total
    return counts


def load_demo(users: dict[str, Any]) -> int:
    """The demo's last step: rebuild the index, so that ``make run`` starts with every demo record searchable (the
    signals already indexed them; this also covers records written without signals)."""
    rebuild()
    return 0
