"""The subject of a request is computed once and passed down with the request's user: creating a report through the
API reads the nation groups of the caller once (it read them four times), and a change to the user's entitlements
makes the subject anew."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from kizuna.directory.subjects import subject_for


def _group_reads(queries: CaptureQueriesContext) -> int:
    return sum(1 for q in queries.captured_queries if "directory_nationgroup" in q["sql"])


def test_a_report_post_computes_the_subject_once(jpn_user: Any, api_for: Any) -> None:
    api = api_for(jpn_user)
    body = {"title": "Port visit", "label": {"policy": "NATO", "classification": "UNCLASSIFIED",
                                             "categories": {"releasable_to": ["JPN"]}}}
    with CaptureQueriesContext(connection) as queries:
        response = api.post("reports", body)
    assert response.status_code == 201, response.json()
    assert _group_reads(queries) == 1


def test_the_subject_follows_a_change_of_the_users_entitlements(jpn_user: Any) -> None:
    before = subject_for(jpn_user)
    assert subject_for(jpn_user) is before
    jpn_user.clearances = {"NATO": "SECRET"}
    after = subject_for(jpn_user)
    assert after is not before and after.clearances == {"NATO": "SECRET"}
    jpn_user.nation_id = "KOR"
    assert "KOR" in subject_for(jpn_user).nations
