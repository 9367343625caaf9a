"""Existence is a read (issue 10, cases 1, 2, 4 and 5): a write that names a stored record the writer may not see
answers exactly as one that names a random id — same status, body, counts and side effects the writer can observe.

A stored id of which the writer may see no version line is stored as a line of its own (a fork, see
``kizuna.threats.store``): the writer reads back its own object, the hidden one is untouched, and a reader who may see
both lines is shown one current version per id (the oldest line's)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.http import Http404
from django.test import Client

from kizuna.core.models import label_id_for
from kizuna.directory.subjects import subject_for
from kizuna.federation import sync
from kizuna.threats import queries
from kizuna.threats import services as stix_services
from kizuna.threats.markings import label_marking, label_marking_id
from kizuna.threats.models import StixObject
from tests.api.conftest import Api
from tests.conftest import make_label
from tests.federation.test_sync_bad_peers import bad_peer  # noqa: F401 - the fixture
from tests.federation.test_taxii_errors import TAXII, basic, objects_url
from tests.threats.test_views import client_for

pytestmark = pytest.mark.django_db

T0 = "2026-03-01T00:00:00.000Z"
T1 = "2026-03-02T00:00:00.000Z"
KOR_ONLY = make_label(releasable_to=["KOR"])
JPN_ONLY = make_label(releasable_to=["JPN"])
JPN_RESTRICTED = make_label(releasable_to=["JPN"], communities=["MARITIME"], classification="RESTRICTED")


def indicator(stix_id: str | None = None, modified: str = T0, **extra: Any) -> dict[str, Any]:
    return {"type": "indicator", "spec_version": "2.1", "id": stix_id or f"indicator--{uuid.uuid4()}",
            "created": T0, "modified": modified, "name": "Bad address", "pattern": "[ipv4-addr:value = '192.0.2.1']",
            "pattern_type": "stix", "valid_from": T0, **extra}


def store(user: Any, obj: dict[str, Any], label: Any) -> None:
    summary = stix_services.do_import_objects(user, [obj], default_label=label, source="test")
    assert summary.accepted == 1, summary.errors


def post_bundle(client: Api, *objects: dict[str, Any], label: Any = JPN_ONLY) -> Any:
    body = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(objects)}
    return client.post("stix/bundles?label=" + json.dumps(label.as_api()), raw=json.dumps(body))


def post_taxii(username: str, *objects: dict[str, Any], label: Any = JPN_ONLY) -> Any:
    return Client().post(objects_url(), data=json.dumps({"objects": list(objects)}), content_type=TAXII,
                         HTTP_ACCEPT=TAXII, HTTP_AUTHORIZATION=basic(username),
                         HTTP_X_KIZUNA_DEFAULT_LABEL=json.dumps(label.as_api()))


def same_but_ids(first: Any, second: Any, first_id: str, second_id: str) -> None:
    """The two answers are equal once the id each one names is replaced by a placeholder."""
    a = json.dumps(first, sort_keys=True).replace(first_id, "ID")
    b = json.dumps(second, sort_keys=True).replace(second_id, "ID")
    assert a == b


def taxii_status(response: Any) -> dict[str, Any]:
    assert response.status_code == 202, response.content
    body: dict[str, Any] = response.json()
    body.pop("id"), body.pop("request_timestamp")
    return body


def read_back(client: Api, stix_id: str) -> tuple[int, Any]:
    response = client.get(f"stix/objects/{stix_id}")
    if response.status_code != 200:
        return response.status_code, None
    body = response.json()
    return 200, {"object": body["object"], "label": body["label"], "revoked": body["revoked"]}


# --- case 2: import answers ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("modified", [T1, T0], ids=["later-modified", "same-modified"])
def test_bundle_import_of_a_hidden_id_answers_as_a_random_id(jpn_user: Any, kor_user: Any, api_for: Any,
                                                            modified: str) -> None:
    hidden = indicator()
    store(kor_user, hidden, KOR_ONLY)
    random_id = f"indicator--{uuid.uuid4()}"
    client = api_for(jpn_user)
    on_hidden = post_bundle(client, indicator(hidden["id"], modified))
    on_random = post_bundle(client, indicator(random_id, modified))
    assert on_hidden.status_code == on_random.status_code == 200
    same_but_ids(on_hidden.json(), on_random.json(), hidden["id"], random_id)
    assert on_hidden.json()["accepted"] == 1 and on_hidden.json()["unchanged"] == 0
    # Side effects the writer sees: its own object, read back alike; the hidden one is untouched.
    same_but_ids(read_back(client, hidden["id"]), read_back(client, random_id), hidden["id"], random_id)
    versions = client.get(f"stix/objects/{hidden['id']}/versions").json()
    assert [v["modified"] for v in versions] == [modified]
    status, minjun_view = read_back(api_for(kor_user), hidden["id"])
    assert status == 200 and minjun_view["object"]["modified"] == T0
    assert StixObject.objects.filter(stix_id=hidden["id"], line=0, is_current=True).count() == 1
    # A second import of the same object is unchanged for the writer, like any object it stored itself.
    again = post_bundle(client, indicator(hidden["id"], modified)).json()
    assert (again["accepted"], again["unchanged"]) == (0, 1)


@pytest.mark.parametrize("modified", [T1, T0], ids=["later-modified", "same-modified"])
def test_taxii_post_of_a_hidden_id_answers_as_a_random_id(jpn_user: Any, kor_user: Any, api_for: Any,
                                                          modified: str) -> None:
    hidden = indicator()
    store(kor_user, hidden, KOR_ONLY)
    random_id = f"indicator--{uuid.uuid4()}"
    on_hidden = taxii_status(post_taxii("hanako", indicator(hidden["id"], modified)))
    on_random = taxii_status(post_taxii("hanako", indicator(random_id, modified)))
    same_but_ids(on_hidden, on_random, hidden["id"], random_id)
    assert (on_hidden["success_count"], on_hidden["failure_count"]) == (1, 0)
    client = api_for(jpn_user)
    same_but_ids(read_back(client, hidden["id"]), read_back(client, random_id), hidden["id"], random_id)
    assert read_back(client, hidden["id"])[1]["object"]["modified"] == modified


def test_a_visible_id_still_answers_with_the_originator_rule(jpn_user: Any, kor_user: Any, api_for: Any) -> None:
    shared = make_label(releasable_to=["JPN", "KOR"])
    visible = indicator()
    store(kor_user, visible, shared)
    answer = post_bundle(api_for(jpn_user), indicator(visible["id"], T1), label=shared).json()
    assert answer["rejected"] == 1 and answer["errors"][0]["reason"].startswith("only the originator")
    same = post_bundle(api_for(jpn_user), indicator(visible["id"], T0), label=shared).json()
    assert (same["accepted"], same["unchanged"]) == (0, 1)


# --- case 4: stored marking-definitions ---------------------------------------------------------------------------

def test_a_hidden_marking_definition_is_an_unknown_marking(jpn_user: Any, kor_user: Any, api_for: Any) -> None:
    marking = label_marking(KOR_ONLY)
    store(kor_user, marking, KOR_ONLY)
    hidden_ref = label_marking_id(KOR_ONLY)
    assert StixObject.objects.filter(stix_id=hidden_ref).exists()
    random_ref = f"marking-definition--{uuid.uuid4()}"
    client = api_for(jpn_user)
    obj = indicator()
    on_hidden = post_bundle(client, {**obj, "object_marking_refs": [hidden_ref]})
    on_random = post_bundle(client, {**obj, "object_marking_refs": [random_ref]})
    assert on_hidden.status_code == on_random.status_code == 200
    same_but_ids(on_hidden.json(), on_random.json(), hidden_ref, random_ref)
    assert on_hidden.json()["errors"][0]["reason"].startswith("unknown marking")
    assert read_back(client, obj["id"]) == (404, None)


# --- case 1: "Seen it too" ------------------------------------------------------------------------------------------

def test_seen_it_too_treats_a_hidden_previous_sighting_as_none(jpn_user: Any, make_user: Any) -> None:
    taro = make_user("taro", "JPN", "JPN-MOD", clearance="UNCLASSIFIED")
    malware = [{"type": "malware", "spec_version": "2.1", "id": f"malware--{uuid.uuid4()}", "created": T0,
                "modified": T0, "name": f"M{i}", "is_family": True} for i in (1, 2)]
    for m in malware:
        store(jpn_user, m, JPN_ONLY)
    secret = {"type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}", "created": T0,
              "modified": T0, "count": 7, "sighting_of_ref": malware[0]["id"], "description": "the secret"}
    store(jpn_user, secret, JPN_RESTRICTED)
    # M1 has a sighting of JPN-MOD that taro may not see; M2 has none.
    answers = [client_for(taro).post(f"/threats/objects/{m['id']}/seen/") for m in malware]
    assert [a.status_code for a in answers] == [302, 302]
    where = [a["Location"].replace(m["id"], "M") for a, m in zip(answers, malware, strict=True)]
    assert where[0] == where[1]
    mine = [StixObject.objects.get(type="sighting", source_ref=m["id"], originator=taro.organisation,
                                   label_id=label_id_for(JPN_ONLY)) for m in malware]
    shapes = []
    for row in mine:
        data = json.loads(row.data)
        assert data["id"] != secret["id"] and "the secret" not in row.data
        shapes.append((data["count"], data["description"], row.label_id, row.is_current))
    assert shapes[0] == shapes[1] == (1, "Seen it too: " + taro.organisation.name, label_id_for(JPN_ONLY), True)
    hidden = StixObject.objects.get(stix_id=secret["id"])
    assert hidden.is_current and hidden.modified == T0 and json.loads(hidden.data)["count"] == 7
    # taro still cannot read the secret sighting.
    with pytest.raises(Http404):
        queries.get_object_or_404(subject_for(taro), secret["id"])


# --- case 5: authority per user and label ---------------------------------------------------------------------------

def test_a_colleague_who_may_not_see_an_object_forks_it_instead_of_revoking_it(jpn_user: Any, make_user: Any,
                                                                               api_for: Any) -> None:
    taro = make_user("taro", "JPN", "JPN-MOD", clearance="UNCLASSIFIED")
    original = indicator()
    store(jpn_user, original, JPN_RESTRICTED)
    random_id = f"indicator--{uuid.uuid4()}"
    taro_api = api_for(taro)
    on_hidden = post_bundle(taro_api, indicator(original["id"], T1, revoked=True), label=JPN_ONLY)
    on_random = post_bundle(taro_api, indicator(random_id, T1, revoked=True), label=JPN_ONLY)
    same_but_ids(on_hidden.json(), on_random.json(), original["id"], random_id)
    # hanako (who may see both lines) still reads her version as current; taro reads his.
    status, hers = read_back(api_for(jpn_user), original["id"])
    assert status == 200 and hers["object"]["modified"] == T0 and not hers["revoked"]
    status, his = read_back(taro_api, original["id"])
    assert status == 200 and his["object"]["modified"] == T1 and his["revoked"]
    rows = StixObject.objects.filter(stix_id=original["id"]).order_by("line")
    assert [(r.line == 0, r.is_current, r.forked) for r in rows] == [(True, True, True), (False, True, True)]
    # taro's next version goes to his own line; hanako's next version to hers.
    later = post_bundle(taro_api, indicator(original["id"], "2026-03-03T00:00:00.000Z", revoked=True),
                        label=JPN_ONLY).json()
    assert later["accepted"] == 1
    mine = post_bundle(api_for(jpn_user), indicator(original["id"], "2026-03-04T00:00:00.000Z"),
                       label=JPN_RESTRICTED).json()
    assert mine["accepted"] == 1, mine
    assert StixObject.objects.filter(stix_id=original["id"], is_current=True).count() == 2
    assert read_back(api_for(jpn_user), original["id"])[1]["object"]["modified"] == "2026-03-04T00:00:00.000Z"
    assert read_back(taro_api, original["id"])[1]["object"]["modified"] == "2026-03-03T00:00:00.000Z"


def test_a_reader_of_both_lines_sees_one_current_version_per_id(jpn_user: Any, make_user: Any, api_for: Any) -> None:
    taro = make_user("taro", "JPN", "JPN-MOD", clearance="UNCLASSIFIED")
    original = indicator()
    store(jpn_user, original, JPN_RESTRICTED)
    post_bundle(api_for(taro), indicator(original["id"], T1, name="taro's"), label=JPN_ONLY)
    client = api_for(jpn_user)
    listed = [item["id"] for item in client.get("stix/objects?limit=100").json()["items"]]
    assert listed.count(original["id"]) == 1
    subject = subject_for(jpn_user)
    assert queries.visible_objects(subject).filter(stix_id=original["id"]).count() == 1
    assert queries.get_object_or_404(subject, original["id"]).modified == T0
    assert [v.modified for v in queries.object_versions(subject, original["id"])] == [T0]
    # TAXII: one object for the id, the version line hanako is shown.
    response = Client().get(objects_url(), {"match[id]": original["id"], "match[version]": "all"},
                            HTTP_ACCEPT=TAXII, HTTP_AUTHORIZATION=basic("hanako"))
    assert response.status_code == 200
    assert [o["modified"] for o in response.json()["objects"]] == [T0]
    taro_taxii = Client().get(objects_url(), {"match[id]": original["id"]}, HTTP_ACCEPT=TAXII,
                              HTTP_AUTHORIZATION=basic("taro"))
    assert [o["name"] for o in taro_taxii.json()["objects"]] == ["taro's"]


def test_the_systems_relabel_of_a_consultation_form_supersedes_its_own_line(kor_user: Any) -> None:
    """Forms of local records are stored by the system (``consultations.services.sharing._store``): a relabel to a label whose
    publisher may not see the old one still supersedes the record's line, rather than leaving the old version
    current for the old label's readers beside a fork."""
    from kizuna.consultations.services.sharing import _store

    restricted = make_label(releasable_to=["KOR"], classification="RESTRICTED")
    obj = indicator()
    assert _store(dict(obj), restricted, kor_user.organisation_id, None)
    assert _store(indicator(obj["id"], T1, name="downgraded"), KOR_ONLY, kor_user.organisation_id, None)
    rows = StixObject.objects.filter(stix_id=obj["id"]).order_by("modified")
    assert [(r.modified, r.is_current, r.line, r.forked) for r in rows] == [(T0, False, 0, False), (T1, True, 0, False)]


# --- federation: a peer is a subject like a person ------------------------------------------------------------------

def test_sync_stores_a_peers_object_whose_id_it_may_not_see_as_a_new_line(bad_peer: Any, kor_user: Any,  # noqa: F811
                                                                          api_for: Any) -> None:
    behaviour, peer = bad_peer
    same, later = behaviour.objects[0], behaviour.objects[1]
    # minjun holds both ids under a label the peer (JPN, RESTRICTED) may not see: one with the peer's modified, one
    # with an earlier one. Both answer as missing ones: stored, not counted unchanged, not quarantined.
    store(kor_user, indicator(same["id"], same["modified"]), KOR_ONLY)
    store(kor_user, indicator(later["id"], "2026-02-01T00:00:00.000Z", created="2026-01-01T00:00:00.000Z"), KOR_ONLY)
    [result] = sync.sync_peer(peer, page_limit=10, timeout=5)
    assert result.ok, result.error
    assert (result.received, result.unchanged, result.quarantined) == (len(behaviour.objects), 0, 0)
    for obj in (same, later):
        rows = {r.originator_id: r for r in StixObject.objects.filter(stix_id=obj["id"], is_current=True)}
        assert set(rows) == {kor_user.organisation_id, peer.organisation_id}
        assert rows[kor_user.organisation_id].line == 0 and rows[peer.organisation_id].line != 0
        # minjun still reads his own version.
        assert read_back(api_for(kor_user), obj["id"])[1]["object"]["name"] == "Bad address"
