"""A bulk path's batch (``index_records`` with ``fresh=True``, as an import calls it): every entry and its text are
written under the same key — on PostgreSQL by COPY with keys taken from the sequence, beside entries written one by
one by the signals — and the records are found at once."""

from __future__ import annotations

from typing import Any

import pytest

from kizuna.core.registry import searchable_types
from kizuna.directory.subjects import subject_for
from kizuna.reports.models import Report
from kizuna.search import find
from kizuna.search.index import TEXT_INDEX, index_records
from kizuna.search.models import SearchEntry
from tests.search.conftest import SHARED, report

pytestmark = pytest.mark.django_db


def test_a_bulk_batch_is_indexed_under_matching_keys(coordinator: Any) -> None:
    from kizuna.core.access import intern_label

    before = report(coordinator, "Harbour survey before the batch")  # an entry written by the signals
    label = intern_label(SHARED)
    made = Report.objects.bulk_create([
        Report(title=f"Tab\there survey {i} \\ backslash", summary="", body="", label=label,
               originator=coordinator.organisation, author=coordinator)
        for i in range(60)])
    spec = next(s for rt, s in searchable_types() if rt.model == "reports.Report")
    assert index_records(spec, made, fresh=True) == 60
    after = report(coordinator, "Harbour survey after the batch")  # the sequence goes on after the batch
    entries = SearchEntry.objects.filter(kind="report")
    assert entries.count() == 62 and len({e.pk for e in entries}) == 62
    for entry in entries.filter(record_id__in=[m.pk for m in made]):
        assert entry.pk in set(SearchEntry.objects.filter(pk__in=TEXT_INDEX.matching(f"survey {entry.title.split()[3]} \\"))
                               .values_list("pk", flat=True))
        assert entry.title.startswith("Tab\there survey") and entry.label_id == label.pk
    found = find(subject_for(coordinator), "survey", sort="date", limit=100, threats=False)
    assert {h.record_id for h in found.hits} == {before.pk, after.pk, *(m.pk for m in made)}
    assert found.hits[0].record_id == after.pk


def test_on_postgresql_the_key_index_carries_each_entrys_date_and_label() -> None:
    """Migration search/0004: an index read checks a match's date and label from the key index alone."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's covering key index; SQLite reads a row by its key in one step")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_indexdef('search_searchentry_pkey'::regclass)")
        definition = cursor.fetchone()[0]
    assert definition.endswith("(id) INCLUDE (date, label_id)")
