"""Migration ``search/0005_fill_index``: on a node that held records before the search existed, the upgrade fills the
index (no ``kizuna search reindex`` needed); on a new node, or an index already holding entries, it does nothing; a
database error in the rebuild leaves the upgrade passing and says to reindex; reversing it does nothing."""

from __future__ import annotations

import importlib
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor

from kizuna.directory.subjects import subject_for
from kizuna.search import find
from kizuna.search.index import TEXT_INDEX
from kizuna.search.models import SearchEntry

pytestmark = pytest.mark.django_db

migration = importlib.import_module("kizuna.search.migrations.0005_fill_index")


def _historical_apps() -> Any:
    return MigrationExecutor(connection).loader.project_state(("search", "0005_fill_index")).apps


def _run() -> None:
    migration.fill(_historical_apps(), SimpleNamespace(connection=connection))


def _empty_the_index() -> None:
    """As on a node upgraded from before the search: records, no entries."""
    TEXT_INDEX.delete(list(SearchEntry.objects.values_list("pk", flat=True)))
    SearchEntry.objects.all().delete()


def _entries() -> set[tuple[str, int, int, str]]:
    return set(SearchEntry.objects.values_list("kind", "record_id", "label_id", "title"))


def test_an_upgraded_node_is_searchable_at_once(korean: Any, corpus: Any) -> None:
    before = _entries()
    assert {k for k, *_ in before} == {"report", "term"}
    _empty_the_index()
    assert find(subject_for(korean), "사이버 방어", threats=False).total == 0
    _run()
    assert _entries() == before
    titles = {h.title for h in find(subject_for(korean), "사이버 방어", threats=False).hits}
    assert "Cyber defence exercise in Tokyo" in titles
    assert "Japanese-only cyber defence assessment" not in titles  # the label rule as ever


def test_nothing_is_done_on_a_new_node_or_an_index_with_entries(corpus: Any) -> None:
    SearchEntry.objects.filter(kind="report").delete()  # entries remain (the terms'): not an upgrade's empty index
    _run()
    assert not SearchEntry.objects.filter(kind="report").exists()
    _empty_the_index()
    for model in ("reports.Report", "glossary.Term"):
        _historical_apps().get_model(model).objects.all().delete()
    _run()
    assert not SearchEntry.objects.exists()


def test_a_database_error_does_not_fail_the_upgrade(corpus: Any, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    _empty_the_index()

    def broken() -> None:
        SearchEntry.objects.create(kind="report", record_id=1, label_id=corpus["en"].label_id,
                                   date=corpus["en"].created_at, title="half", title_key="half")
        raise DatabaseError("no such column: reports_report.new_field")

    monkeypatch.setattr("kizuna.search.index.rebuild", broken)
    _run()
    assert "run `kizuna search reindex`" in capsys.readouterr().err
    assert not SearchEntry.objects.exists()  # rolled back to the savepoint; the connection still usable


def test_it_is_the_latest_search_migration_and_reverses_as_a_no_op() -> None:
    loader = MigrationExecutor(connection).loader
    assert ("search", "0005_fill_index") in loader.graph.leaf_nodes()
    operation = loader.get_migration("search", "0005_fill_index").operations[0]
    assert operation.reversible and operation.reverse_code is operation.noop
