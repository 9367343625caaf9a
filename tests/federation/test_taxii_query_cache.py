"""The compiled SQL the TAXII reads keep per process is keyed by everything that went into it: a reader never gets
another reader's query, a label created after the query was kept is seen at once by those who may see it (and by
nobody else), a changed clearance takes effect on the next request, and paging over a larger store stays exact."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from kizuna.directory.services import create_token
from kizuna.federation.taxii.collections import collections
from tests.conftest import make_label
from tests.threats.test_queries_fixtures import put

pytestmark = pytest.mark.django_db

TAXII = "application/taxii+json;version=2.1"
EVERYTHING = collections()[0].id
SHARED = make_label(releasable_to=["NATO", "IP4"])


def ids(user: Any, limit: int = 1000) -> list[str]:
    auth = f"Bearer {create_token(user)[1]}"
    seen: list[str] = []
    params: dict[str, str] = {"limit": str(limit)}
    while True:
        body = Client().get(f"/taxii2/kizuna/collections/{EVERYTHING}/objects/", params, HTTP_ACCEPT=TAXII,
                            HTTP_AUTHORIZATION=auth).json()
        seen.extend(o["id"] for o in body.get("objects", []))
        if not body["more"]:
            return seen
        params = {"limit": str(limit), "next": body["next"]}


def test_a_new_label_is_seen_at_once_by_those_who_may(jpn_user: Any, kor_user: Any) -> None:
    first = put("indicator", SHARED).stix_id
    assert ids(jpn_user) == [first] and ids(kor_user) == [first]  # both queries are kept now
    jpn = put("malware", make_label(releasable_to=["JPN"])).stix_id
    kor = put("malware", make_label(releasable_to=["KOR"])).stix_id
    assert ids(jpn_user) == [first, jpn]
    assert ids(kor_user) == [first, kor]


def test_a_changed_subject_gets_its_own_query(jpn_user: Any) -> None:
    restricted = make_label(releasable_to=["JPN"], classification="RESTRICTED")
    plain = put("indicator", SHARED).stix_id
    secret = put("indicator", restricted).stix_id
    jpn_user.clearances = {"NATO": "UNCLASSIFIED"}
    jpn_user.save()
    assert ids(jpn_user) == [plain]
    jpn_user.clearances = {"NATO": "RESTRICTED"}
    jpn_user.save()
    assert ids(jpn_user) == [plain, secret]


def test_paging_across_hidden_runs_returns_each_visible_object_once(jpn_user: Any, kor_user: Any) -> None:
    # Runs of hidden objects longer than a page between visible ones: the range walk must widen and go on.
    hidden = make_label(releasable_to=["KOR"])
    expected: list[str] = []
    for block in range(4):
        expected.extend(put("indicator", SHARED).stix_id for _ in range(3))
        for _ in range(7 + block):
            put("indicator", hidden)
    assert ids(jpn_user, limit=2) == expected
    assert ids(jpn_user, limit=1000) == expected
    assert len(ids(kor_user, limit=5)) == 12 + 7 + 8 + 9 + 10
