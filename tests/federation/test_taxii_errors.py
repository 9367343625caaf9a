"""The TAXII 2.1 server's checks and filters, through Django's test client: credentials (401 with a challenge, no
session cookie), media types (406, 415), TAXII error messages for bad filters, match[version], added_after and the
date-added headers, the domain collections and the audit of reads."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.test import Client

from kizuna.core.models import AuditEntry
from kizuna.directory.services import create_token, revoke_token
from kizuna.federation.taxii.collections import by_id, collections
from kizuna.federation.taxii.reads import decode_cursor, encode_cursor
from kizuna.threats.geo.stix import MARITIME_EXTENSION_ID
from kizuna.threats.models import StixObject
from tests.conftest import PASSWORD, make_label
from tests.threats.test_queries_fixtures import put

pytestmark = pytest.mark.django_db

TAXII = "application/taxii+json;version=2.1"
EVERYTHING = collections()[0].id
CYBER = next(c.id for c in collections() if c.title == "Cyber")
MARITIME = next(c.id for c in collections() if c.title == "Maritime")
SHARED = make_label(releasable_to=["NATO", "IP4"])
JPN_ONLY = make_label(releasable_to=["JPN"])


def basic(username: str, password: str = PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def get(path: str, auth: str | None = None, accept: str = TAXII, **params: Any) -> Any:
    headers: dict[str, str] = {"HTTP_ACCEPT": accept}
    if auth:
        headers["HTTP_AUTHORIZATION"] = auth
    return Client().get(path, params, **headers)


def objects_url(cid: str = EVERYTHING) -> str:
    return f"/taxii2/kizuna/collections/{cid}/objects/"


def assert_taxii_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response["Content-Type"] == TAXII
    body: dict[str, Any] = response.json()
    assert body["http_status"] == str(status)
    assert body["title"]
    assert "Traceback" not in json.dumps(body)
    return body


def test_no_credential_is_401_with_a_challenge(jpn_user: Any) -> None:
    response = get("/taxii2/")
    assert_taxii_error(response, 401)
    assert "Bearer" in response["WWW-Authenticate"] and "Basic" in response["WWW-Authenticate"]


def test_wrong_password_and_revoked_token_are_401(jpn_user: Any) -> None:
    assert_taxii_error(get("/taxii2/", basic("hanako", "wrong")), 401)
    token, secret = create_token(jpn_user)
    assert get("/taxii2/", f"Bearer {secret}").status_code == 200
    revoke_token(token, "hanako")
    assert_taxii_error(get("/taxii2/", f"Bearer {secret}"), 401)


def test_session_cookie_is_not_a_credential(jpn_user: Any) -> None:
    client = Client()
    client.force_login(jpn_user)
    assert_taxii_error(client.get("/taxii2/", HTTP_ACCEPT=TAXII), 401)


def test_accept_that_excludes_taxii_is_406(jpn_user: Any) -> None:
    assert_taxii_error(get("/taxii2/", basic("hanako"), accept="application/json"), 406)
    assert_taxii_error(get("/taxii2/", basic("hanako"), accept="application/taxii+json;version=2.0"), 406)
    assert get("/taxii2/", basic("hanako"), accept="application/taxii+json").status_code == 200
    assert get("/taxii2/", basic("hanako"), accept="*/*").status_code == 200


@pytest.mark.parametrize("params", [
    {"limit": "many"}, {"limit": "0"}, {"added_after": "yesterday"}, {"next": "not-a-cursor"},
    {"match[version]": "newest"}, {"match[type]": "Bad Type!"},
    # TAXII 2.1 timestamps are STIX timestamps: UTC with a trailing Z; an offset or no zone is not guessed.
    {"added_after": "2026-01-31T09:00:00+09:00"}, {"added_after": "2026-01-31T00:00:00"},
    {"match[version]": "2026-01-31T00:00:00.000+00:00"},
])
def test_bad_filters_are_taxii_400_errors(jpn_user: Any, params: dict[str, str]) -> None:
    body = assert_taxii_error(get(objects_url(), basic("hanako"), **params), 400)
    assert body["title"] == "Bad filter"


def test_unknown_api_root_and_collection_are_404(jpn_user: Any) -> None:
    assert_taxii_error(get("/taxii2/other/", basic("hanako")), 404)
    assert_taxii_error(get(objects_url("6b697a75-6e61-4000-8000-0000000000ff"), basic("hanako")), 404)


def test_cursor_round_trip_is_stateless() -> None:
    from datetime import UTC, datetime

    stamp = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    assert decode_cursor(encode_cursor(stamp, 42)) == (stamp, 42)


def test_match_version_first_last_all_and_timestamp(jpn_user: Any) -> None:
    sid = "malware--0b7e0f43-7d1b-4a3e-9e57-5d6f1c0e0001"
    put("malware", SHARED, stix_id=sid, modified="2026-01-01T00:00:00.000Z", is_current=False)
    put("malware", SHARED, stix_id=sid, modified="2026-02-01T00:00:00.000Z", is_current=False)
    put("malware", SHARED, stix_id=sid, modified="2026-03-01T00:00:00.000Z")

    def modified(**params: str) -> list[str]:
        response = get(objects_url(), basic("hanako"), **{"match[id]": sid, **params})
        assert response.status_code == 200
        return [json.loads(json.dumps(o))["modified"] for o in response.json()["objects"]]

    assert modified() == ["2026-03-01T00:00:00.000Z"]
    assert modified(**{"match[version]": "first"}) == ["2026-01-01T00:00:00.000Z"]
    assert len(modified(**{"match[version]": "all"})) == 3
    assert modified(**{"match[version]": "2026-02-01T00:00:00Z"}) == ["2026-02-01T00:00:00.000Z"]
    assert modified(**{"match[version]": "first,last"}) == ["2026-01-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"]
    versions = get(f"/taxii2/kizuna/collections/{EVERYTHING}/objects/{sid}/versions/", basic("hanako")).json()
    assert versions["versions"] == ["2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z",
                                    "2026-03-01T00:00:00.000Z"]


def test_older_version_under_a_label_the_reader_may_not_see_is_not_served(kor_user: Any) -> None:
    sid = "malware--0b7e0f43-7d1b-4a3e-9e57-5d6f1c0e0002"
    put("malware", JPN_ONLY, stix_id=sid, modified="2026-01-01T00:00:00.000Z", is_current=False)
    put("malware", SHARED, stix_id=sid, modified="2026-02-01T00:00:00.000Z")
    url = f"/taxii2/kizuna/collections/{EVERYTHING}/objects/{sid}/versions/"
    assert get(url, basic("minjun")).json()["versions"] == ["2026-02-01T00:00:00.000Z"]
    body = get(objects_url(), basic("minjun"), **{"match[version]": "all"}).json()
    assert [o["modified"] for o in body["objects"]] == ["2026-02-01T00:00:00.000Z"]


def test_added_after_and_date_added_headers(jpn_user: Any) -> None:
    first = put("indicator", SHARED)
    second = put("indicator", SHARED)
    response = get(objects_url(), basic("hanako"))
    head, tail = response["X-TAXII-Date-Added-First"], response["X-TAXII-Date-Added-Last"]
    assert head <= tail
    later = get(objects_url(), basic("hanako"), added_after=head)
    ids = [o["id"] for o in later.json()["objects"]]
    assert first.stix_id not in ids
    assert (second.stix_id in ids) == (second.created_at > first.created_at)


def test_limit_is_capped_and_more_and_next_are_given(jpn_user: Any) -> None:
    for _ in range(3):
        put("indicator", SHARED)
    body = get(objects_url(), basic("hanako"), limit="2").json()
    assert body["more"] is True and len(body["objects"]) == 2 and body["next"]
    rest = get(objects_url(), basic("hanako"), limit="2", next=body["next"]).json()
    assert rest["more"] is False and "next" not in rest and len(rest["objects"]) == 1
    assert len(get(objects_url(), basic("hanako"), limit="999999").json()["objects"]) == 3


def test_domain_collections_hold_their_own_objects(jpn_user: Any) -> None:
    indicator = put("indicator", SHARED)
    incident = put("incident", SHARED, extensions={MARITIME_EXTENSION_ID: {"extension_type": "property-extension",
                                                                           "kind": "piracy"}})
    identity = put("identity", SHARED)

    def ids(cid: str) -> set[str]:
        return {o["id"] for o in get(objects_url(cid), basic("hanako")).json()["objects"]}

    assert ids(CYBER) == {indicator.stix_id}
    assert ids(MARITIME) == {incident.stix_id}
    assert ids(EVERYTHING) == {indicator.stix_id, incident.stix_id, identity.stix_id}
    # By id, an object outside the collection is 404 there.
    assert get(f"{objects_url(CYBER)}{incident.stix_id}/", basic("hanako")).status_code == 404
    assert len(by_id()) == len(collections()) >= 6  # Everything, Cyber, Disinformation, Maritime, Strategic, Reports ...


def test_manifest_lists_versions_and_dates(jpn_user: Any) -> None:
    obj = put("indicator", SHARED)
    body = get(f"/taxii2/kizuna/collections/{EVERYTHING}/manifest/", basic("hanako")).json()
    assert body["objects"] == [{"id": obj.stix_id, "date_added": body["objects"][0]["date_added"],
                                "version": obj.modified, "media_type": "application/stix+json;version=2.1"}]


def test_reads_are_audited_with_the_ids_served(jpn_user: Any) -> None:
    obj = put("indicator", SHARED)
    before = AuditEntry.objects.count()
    get(objects_url(), basic("hanako"))
    entry = AuditEntry.objects.order_by("-id").first()
    assert AuditEntry.objects.count() == before + 1
    assert entry is not None and entry.actor == "hanako" and entry.action == "taxii.read"
    assert obj.stix_id in entry.target_ids
    assert StixObject.objects.count() == 1


def test_account_with_a_second_factor_cannot_use_basic_but_can_use_a_token(jpn_user: Any) -> None:
    from kizuna.web import totp

    device = totp.start_enrolment(jpn_user)
    device.confirmed = True
    device.save()
    assert_taxii_error(get("/taxii2/", basic("hanako")), 401)
    _, secret = create_token(jpn_user)
    assert get("/taxii2/", f"Bearer {secret}").status_code == 200


def test_repeated_wrong_passwords_lock_basic_out(jpn_user: Any, settings: Any) -> None:
    settings.KIZUNA_LOGIN_MAX_FAILURES = 2
    for _ in range(2):
        assert_taxii_error(get("/taxii2/", basic("hanako", "wrong")), 401)
    assert_taxii_error(get("/taxii2/", basic("hanako")), 401)  # even the right password, until the window passes
