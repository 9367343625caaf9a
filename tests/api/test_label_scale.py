"""The label decision costs the same whatever the number of labels on the node (issue 12): a request reads no label
row it does not need, the SQL of a list holds no list of label ids (it ran into SQLite's variable limit and
PostgreSQL's 65,535 bind parameters), and a list answers exactly as before once many labels arrive."""

from __future__ import annotations

import itertools
import re
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from kizuna.core.access import intern_label
from kizuna.directory.subjects import subject_for
from kizuna.labels import Label
from kizuna.reports.models import Report

NATIONS = ["BEL", "CAN", "DEU", "DNK", "ESP", "FRA", "GBR", "ITA", "NLD", "NOR", "POL", "USA"]


def _labels(count: int, *also: str) -> list[Label]:
    """``count`` distinct labels REL TO NATO plus three members (and ``also``), as federation makes them."""
    combos = itertools.islice(itertools.combinations(NATIONS, 3), count)
    return [Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["NATO", *c, *also]}, "AMBER") for c in combos]


def _list_sql(user: Any) -> tuple[str, tuple[Any, ...]]:
    sql, params = Report.objects.visible_to(subject_for(user)).order_by("-created_at")[:25].query.sql_with_params()
    return sql, tuple(params)


def test_the_list_query_does_not_grow_with_the_number_of_labels(jpn_user: Any, report_of: Any) -> None:
    report_of(jpn_user, "first")
    few_sql, few_params = _list_sql(jpn_user)
    for label in _labels(200, "JPN"):  # visible to the reader: an id list would grow by 200
        intern_label(label)
    many_sql, many_params = _list_sql(jpn_user)
    assert (many_sql, many_params) == (few_sql, few_params)
    assert len(many_params) < 30


# A read of the label table that names no label: every label id on the node (what each request did before).
_EVERY_LABEL = re.compile(r'FROM "kizuna_label"(?![^()]*WHERE)', re.IGNORECASE)


def test_a_list_request_reads_no_label_it_does_not_show(jpn_user: Any, report_of: Any, api_for: Any) -> None:
    for i, label in enumerate(_labels(150, "JPN")):
        Report.objects.create(title=f"r{i}", label=intern_label(label), originator=jpn_user.organisation,
                              author=jpn_user)
    api = api_for(jpn_user)
    assert api.get("reports?limit=5").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = api.get("reports?limit=5")
    assert response.status_code == 200
    assert len(response.json()["items"]) == 5
    whole_table = [q["sql"] for q in queries.captured_queries if _EVERY_LABEL.search(q["sql"])]
    assert whole_table == []


def test_many_labels_change_nothing_a_reader_sees(jpn_user: Any, kor_user: Any, report_of: Any) -> None:
    report_of(jpn_user, "ip4", releasable_to=["IP4"])
    report_of(jpn_user, "jpn only", releasable_to=["JPN"])
    for i, label in enumerate(_labels(120)):
        Report.objects.create(title=f"nato {i}", label=intern_label(label), originator=jpn_user.organisation,
                              author=jpn_user)
    for user, expected in ((jpn_user, {"ip4", "jpn only"}), (kor_user, {"ip4"})):
        titles = set(Report.objects.visible_to(subject_for(user)).values_list("title", flat=True))
        assert titles == expected  # neither JPN nor KOR is in a NATO-plus-three-members label
