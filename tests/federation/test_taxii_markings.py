"""The definitions behind what served objects reference, by id over TAXII: the Kizuna label marking-definition of a
label the reader may see (404 for any other label, like a hidden object), the label and signature
extension-definitions and Kizuna's identity. Every marking and extension an object listing names resolves by id for
that reader."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from kizuna.directory.services import create_token
from kizuna.federation.signing import SIGNATURE_EXTENSION_ID
from kizuna.federation.taxii.collections import collections
from kizuna.stix.definitions import EPOCH, KIZUNA_IDENTITY_ID, kizuna_identity
from kizuna.threats.markings import (
    KIZUNA_LABEL_EXTENSION_ID,
    TLP2_BY_ID,
    label_extension_definition,
    label_marking,
    label_marking_id,
    tlp2_marking,
)
from tests.conftest import make_label
from tests.threats.test_queries_fixtures import put, relate

pytestmark = pytest.mark.django_db

TAXII = "application/taxii+json;version=2.1"
EVERYTHING = collections()[0].id
CYBER = next(c.id for c in collections() if c.title == "Cyber")
SHARED = make_label(releasable_to=["NATO", "IP4"])
JPN_ONLY = make_label(releasable_to=["JPN"])


def bearer(user: Any) -> str:
    return f"Bearer {create_token(user)[1]}"


def get(path: str, auth: str, **params: Any) -> Any:
    return Client().get(path, params, HTTP_ACCEPT=TAXII, HTTP_AUTHORIZATION=auth)


def by_id(stix_id: str, auth: str, cid: str = EVERYTHING, **params: Any) -> Any:
    return get(f"/taxii2/kizuna/collections/{cid}/objects/{stix_id}/", auth, **params)


def listing(auth: str) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    params: dict[str, str] = {"limit": "3"}
    while True:
        body = get(f"/taxii2/kizuna/collections/{EVERYTHING}/objects/", auth, **params).json()
        objects.extend(body.get("objects", []))
        if not body["more"]:
            return objects
        params = {"limit": "3", "next": body["next"]}


@pytest.fixture
def store(jpn_user: Any, kor_user: Any) -> dict[str, Any]:
    shared = [put("indicator", SHARED) for _ in range(4)]
    secret = [put("malware", JPN_ONLY) for _ in range(2)]
    relate(shared[0], shared[1], SHARED)
    return {"shared": shared, "secret": secret}


def test_the_marking_of_a_visible_label_is_served_by_id(store: Any, jpn_user: Any) -> None:
    auth = bearer(jpn_user)
    for label in (SHARED, JPN_ONLY):
        response = by_id(label_marking_id(label), auth)
        assert response.status_code == 200
        assert response["Content-Type"] == TAXII
        body = response.json()
        assert body["more"] is False
        assert body["objects"] == [label_marking(label)]
        assert response["X-TAXII-Date-Added-First"] == response["X-TAXII-Date-Added-Last"]
        versions = get(f"/taxii2/kizuna/collections/{EVERYTHING}/objects/{label_marking_id(label)}/versions/", auth)
        assert versions.status_code == 200 and versions.json()["versions"] == [EPOCH]


def test_the_marking_of_a_label_the_reader_may_not_see_is_404(store: Any, kor_user: Any, jpn_user: Any) -> None:
    auth = bearer(kor_user)
    hidden = label_marking_id(JPN_ONLY)
    for response in (by_id(hidden, auth),
                     get(f"/taxii2/kizuna/collections/{EVERYTHING}/objects/{hidden}/versions/", auth)):
        assert response.status_code == 404
        assert response.json()["http_status"] == "404"
        assert "JPN" not in response.content.decode()
    # The same answer as for a marking no label of this node has, and as for a hidden object.
    unknown = by_id(label_marking_id(make_label(releasable_to=["FRA"])), auth)
    assert unknown.status_code == 404 and unknown.json() == by_id(hidden, auth).json()
    assert by_id(store["secret"][0].stix_id, auth).json() == by_id(hidden, auth).json()
    # The Korean reader does get the marking of a label it may see.
    assert by_id(label_marking_id(SHARED), auth).json()["objects"] == [label_marking(SHARED)]


def test_identity_and_extension_definitions_are_served_by_id(store: Any, kor_user: Any) -> None:
    auth = bearer(kor_user)
    assert by_id(KIZUNA_IDENTITY_ID, auth).json()["objects"] == [kizuna_identity()]
    assert by_id(KIZUNA_LABEL_EXTENSION_ID, auth).json()["objects"] == [label_extension_definition()]
    signature = by_id(SIGNATURE_EXTENSION_ID, auth).json()["objects"]
    assert [o["type"] for o in signature] == ["extension-definition"]
    # Objects of no domain are only in the collection of everything.
    assert by_id(KIZUNA_IDENTITY_ID, auth, CYBER).status_code == 404
    assert by_id(label_marking_id(SHARED), auth, CYBER).status_code == 404


def test_filters_apply_to_definitions_served_by_id(store: Any, jpn_user: Any) -> None:
    auth = bearer(jpn_user)
    mid = label_marking_id(SHARED)
    assert by_id(mid, auth, **{"match[type]": "marking-definition"}).status_code == 200
    assert by_id(mid, auth, **{"match[type]": "indicator"}).status_code == 404
    assert by_id(mid, auth, **{"match[version]": EPOCH}).status_code == 200
    assert by_id(mid, auth, **{"match[version]": "2027-01-01T00:00:00.000Z"}).status_code == 404
    assert by_id(mid, auth, **{"match[spec_version]": "2.0"}).status_code == 404
    assert by_id(mid, auth, added_after="2025-12-31T00:00:00Z").status_code == 200
    assert by_id(mid, auth, added_after=EPOCH).status_code == 404


@pytest.mark.parametrize("reader", ["jpn_user", "kor_user"])
def test_every_marking_and_extension_a_listing_names_resolves_by_id(store: Any, reader: str,
                                                                   request: pytest.FixtureRequest) -> None:
    auth = bearer(request.getfixturevalue(reader))
    objects = listing(auth)
    assert len(objects) == (7 if reader == "jpn_user" else 5)
    named: set[str] = set()
    for obj in objects:
        assert obj.get("object_marking_refs"), obj["id"]
        named.update(obj["object_marking_refs"])
        named.update(k for k in obj.get("extensions", {}) if k.startswith("extension-definition--"))
    assert label_marking_id(SHARED) in named
    assert (label_marking_id(JPN_ONLY) in named) == (reader == "jpn_user")
    for stix_id in sorted(named):
        response = by_id(stix_id, auth)
        assert response.status_code == 200, stix_id
        served = response.json()["objects"]
        assert [o["id"] for o in served] == [stix_id]
        if stix_id in TLP2_BY_ID:  # the standard TLP 2.0 marking of the label's TLP, named beside the label's
            assert served[0] == tlp2_marking(TLP2_BY_ID[stix_id])
        elif stix_id.startswith("marking-definition--"):
            assert served[0]["extensions"][KIZUNA_LABEL_EXTENSION_ID]["label"]
            assert served[0]["created_by_ref"] == KIZUNA_IDENTITY_ID
    assert named & set(TLP2_BY_ID), "every served object names its label's TLP 2.0 marking"
    assert by_id(KIZUNA_IDENTITY_ID, auth).status_code == 200  # created_by_ref of the definitions
