"""The TAXII 2.1 server read by real clients over HTTP: the OASIS ``taxii2-client`` and ``stix2``'s
``TAXIICollectionSource`` against pytest-django's live server. Paging reaches every visible object once; a Korean user
never receives a Japan-only object, by any endpoint."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from stix2 import Filter, TAXIICollectionSource
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from kizuna.directory.services import create_token
from kizuna.federation.taxii.collections import collections
from tests.conftest import PASSWORD, make_label
from tests.threats.test_queries_fixtures import put, relate

pytestmark = pytest.mark.django_db(transaction=True)

EVERYTHING = collections()[0].id
SHARED = make_label(releasable_to=["NATO", "IP4"])
JPN_ONLY = make_label(releasable_to=["JPN"])


class BearerAuth(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: Any) -> Any:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def collection_url(live_server: Any, cid: str = EVERYTHING) -> str:
    return f"{live_server.url}/taxii2/kizuna/collections/{cid}/"


@pytest.fixture
def store(jpn_user: Any, kor_user: Any) -> dict[str, Any]:
    shared = [put("indicator", SHARED) for _ in range(23)]
    secret = [put("malware", JPN_ONLY) for _ in range(5)]
    # A shared relationship to a Japan-only object: hidden from the Korean reader by the relationship rule.
    rel = relate(shared[0], secret[0], SHARED)
    return {"shared": [o.stix_id for o in shared], "secret": [o.stix_id for o in secret], "rel": rel.stix_id}


def test_taxii2client_discovers_the_api_root_and_every_collection(live_server: Any, store: Any) -> None:
    server = Server(f"{live_server.url}/taxii2/", user="minjun", password=PASSWORD)
    assert server.title == "Kizuna TAXII 2.1 server"
    assert len(server.api_roots) == 1
    root: ApiRoot = server.api_roots[0]
    assert root.url.endswith("/taxii2/kizuna/")
    assert "application/taxii+json;version=2.1" in root.versions
    titles = {c.title for c in root.collections}
    assert titles == {"Everything", "Cyber", "Disinformation", "Maritime", "Strategic", "Reports", "Best practice"}
    assert all(c.can_read for c in root.collections)
    # A contributor may post to the collection of everything only (the domain follows from the object).
    assert {c.title for c in root.collections if c.can_write} == {"Everything"}


def test_paging_with_next_reaches_every_visible_object_exactly_once(live_server: Any, store: Any) -> None:
    coll = Collection(collection_url(live_server), user="hanako", password=PASSWORD)
    seen: list[str] = []
    pages = 0
    for envelope in as_pages(coll.get_objects, per_request=4):
        pages += 1
        seen.extend(o["id"] for o in envelope.get("objects", []))
    expected = set(store["shared"]) | set(store["secret"]) | {store["rel"]}
    assert len(seen) == len(expected) == 29
    assert set(seen) == expected
    assert pages == 8  # 29 objects in pages of 4


def test_korean_user_never_receives_a_japan_only_object(live_server: Any, store: Any) -> None:
    coll = Collection(collection_url(live_server), user="minjun", password=PASSWORD)
    seen = [o["id"] for env in as_pages(coll.get_objects, per_request=5) for o in env.get("objects", [])]
    assert set(seen) == set(store["shared"])  # neither the Japan-only malware nor the relationship to it
    manifest = [r["id"] for env in as_pages(coll.get_manifest, per_request=5) for r in env.get("objects", [])]
    assert set(manifest) == set(store["shared"])
    for hidden in [store["secret"][0], store["rel"], "malware--00000000-0000-4000-8000-00000000dead"]:
        for call in (coll.get_object, coll.object_versions):
            with pytest.raises(requests.HTTPError) as err:
                call(hidden)
            assert err.value.response.status_code == 404
            assert err.value.response.json()["title"] == "Not found"


def test_japanese_user_reads_the_japan_only_object_by_id_and_its_versions(live_server: Any, store: Any) -> None:
    coll = Collection(collection_url(live_server), user="hanako", password=PASSWORD)
    envelope = coll.get_object(store["secret"][0])
    assert [o["id"] for o in envelope["objects"]] == [store["secret"][0]]
    assert coll.object_versions(store["secret"][0])["versions"] == ["2026-02-01T00:00:00.000Z"]


def test_stix2_taxii_data_source_reads_with_a_bearer_token(live_server: Any, store: Any, kor_user: Any) -> None:
    _, token = create_token(kor_user)
    coll = Collection(collection_url(live_server), auth=BearerAuth(token))
    source = TAXIICollectionSource(coll)
    indicators = source.query([Filter("type", "=", "indicator")])
    assert {o.id for o in indicators} == set(store["shared"])
    assert source.get(store["shared"][3]).id == store["shared"][3]
    assert source.get(store["secret"][0]) is None


def test_label_marking_travels_with_each_object(live_server: Any, store: Any) -> None:
    from kizuna.threats.markings import label_marking_id

    coll = Collection(collection_url(live_server), user="minjun", password=PASSWORD)
    obj = coll.get_object(store["shared"][0])["objects"][0]
    assert label_marking_id(SHARED) in obj["object_marking_refs"]
