"""Property: over random policies, labels and subjects, the database filter `Model.objects.visible_to(subject)`
returns exactly the records whose label the pure-Python `may_see` allows — before and after new labels arrive
(the per-subject cache), through keyset paging, and for labels that no loaded policy can evaluate (deny)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kizuna.core import access
from kizuna.core.models import LabelRecord, label_id_for
from kizuna.core.paging import keyset_page
from kizuna.labels import Label, LabelError, PolicyRegistry, Subject, may_see
from kizuna.labels.decision import display
from kizuna.reports.models import Report
from tests.properties.strategies import registries, valid_labels, worlds

DB_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@contextmanager
def node_with(registry: PolicyRegistry, maximum: dict[str, str]) -> Iterator[None]:
    """Run as a node whose policies are ``registry`` and whose maximum classifications are ``maximum``; start and
    finish with empty tables and empty caches, because all examples share one test transaction."""
    Report.objects.all().delete()
    LabelRecord.objects.all().delete()
    access.clear_caches()
    try:
        with mock.patch.object(access, "registry", lambda: registry), override_settings(KIZUNA_MAX_CLASSIFICATION=maximum):
            yield
    finally:
        Report.objects.all().delete()
        LabelRecord.objects.all().delete()
        access.clear_caches()


def _store(label: Label, registry: PolicyRegistry, author: Any, index: int) -> tuple[Report, Label] | None:
    """A record with this label. Labels the node refuses (invalid, or above its maximum) are written straight into
    the label table, as if left by a policy that has since been unloaded: they must still be denied to everyone."""
    try:
        record = access.intern_label(label)
    except LabelError:
        pk = label_id_for(label)
        record = LabelRecord.objects.filter(pk=pk).first() or LabelRecord.objects.create(
            id=pk, key=label.key(), policy=label.policy, classification=label.classification,
            display=display(label, registry)[:1000],
        )
    report = Report.objects.create(title=f"T{index:04d}", label=record, originator=author.organisation, author=author)
    return report, label


def _expected(subject: Subject, stored: list[tuple[Report, Label]], registry: PolicyRegistry) -> set[int]:
    return {report.pk for report, label in stored if may_see(subject, label, registry)}


def _paged(qs: Any, limit: int) -> list[int]:
    seen: list[int] = []
    cursor: str | None = None
    while True:
        page = keyset_page(qs, cursor, limit)
        seen.extend(r.pk for r in page.items)
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


def _assert_agree(people: list[Subject], stored: list[tuple[Report, Label]], registry: PolicyRegistry, limit: int) -> None:
    for subject in people:
        expected = _expected(subject, stored, registry)
        got = list(Report.objects.visible_to(subject).values_list("pk", flat=True))
        assert set(got) == expected, (subject, [(r.pk, lab.key()) for r, lab in stored])
        assert len(got) == len(expected)
        # The same set with the decision taken beforehand for some labels (those of the first half of the records).
        known = Report.objects.filter(pk__in=[r.pk for r, _lab in stored[: len(stored) // 2]]).values_list(
            "label_id", flat=True)
        hinted = Report.objects.filter(access.visible_q_known(subject, known))
        assert set(hinted.values_list("pk", flat=True)) == expected
        paged = _paged(Report.objects.visible_to(subject), limit)
        assert sorted(paged) == sorted(expected), "keyset paging must show each visible record exactly once"
        allowed_ids = {label_id_for(lab) for _, lab in stored if may_see(subject, lab, registry)}
        assert access.visible_label_ids(subject) == allowed_ids


@DB_SETTINGS
@given(world=worlds(), data=st.data())
def test_database_filter_agrees_with_may_see(jpn_user: Any, world: Any, data: st.DataObject) -> None:
    registry, first, second, people = world
    # The node's maximum per policy: a random level of its ladder (some labels are then refused and denied).
    maximum = {
        p.identifier: data.draw(st.sampled_from([c.name for c in p.classifications]), label=f"max {p.identifier}")
        for p in registry
    }
    limit = data.draw(st.integers(min_value=1, max_value=4), label="page size")
    with node_with(registry, maximum):
        stored = [s for i, lab in enumerate(first) if (s := _store(lab, registry, jpn_user, i))]
        _assert_agree(people, stored, registry, limit)
        # A second wave of labels after every subject's decision is cached: the cache must pick them up.
        stored += [s for i, lab in enumerate(second, start=100) if (s := _store(lab, registry, jpn_user, i))]
        _assert_agree(people, stored, registry, limit)
        # Repeating the queries (now all from the cache) changes nothing.
        _assert_agree(list(reversed(people)), stored, registry, limit)


@DB_SETTINGS
@given(registry=registries(), data=st.data())
def test_node_refuses_exactly_the_labels_above_its_maximum(db: Any, registry: PolicyRegistry, data: st.DataObject) -> None:
    label = data.draw(valid_labels(registry), label="label")
    policy = registry.require(label.policy)
    maximum = data.draw(st.sampled_from([c.name for c in policy.classifications]), label="maximum")
    with node_with(registry, {label.policy: maximum}):
        above = policy.rank(label.classification) > policy.rank(maximum)
        try:
            access.intern_label(label)
            refused = False
        except LabelError as exc:
            refused = True
            assert "may not hold" in str(exc)
        assert refused == above
        assert LabelRecord.objects.filter(pk=label_id_for(label)).exists() == (not above)


@DB_SETTINGS
@given(world=worlds())
def test_interning_is_idempotent_and_content_addressed(db: Any, world: Any) -> None:
    registry, first, second, _ = world
    top = {p.identifier: p.classifications[-1].name for p in registry}
    with node_with(registry, top):
        ids: dict[str, int] = {}
        for label in [*first, *second, *first]:
            try:
                record = access.intern_label(label)
            except LabelError:
                continue
            assert record.pk == label_id_for(label)
            assert ids.setdefault(label.key(), record.pk) == record.pk
            assert Label.from_api_key(record.key) == label
        assert LabelRecord.objects.count() == len(ids) == len(set(ids.values()))
