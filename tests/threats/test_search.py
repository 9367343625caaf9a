"""The threat search (issue 13, point 2; ``kizuna.threats.search``): substring of name, description and values, parent
domains, IP containment both ways (IPv4 and IPv6), any hash of a file — on the cyber page and the API alike — and
never a hint about what the reader may not see.

Objects go through the real importer (``do_import_objects``/``do_import_bundle``), so the store writes the search
text and the ip-range keys as it does for every import. The first test is the issue's own list; it failed on
2d43070 (main before this work): only ``hugesoft.org`` found anything on the page.
"""

from __future__ import annotations

import importlib
import json
import re
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test import Client

from kizuna.directory.subjects import subject_for
from kizuna.threats import search
from kizuna.threats.models import ObservableValue, StixObject
from kizuna.threats.services import do_import_bundle, do_import_objects
from kizuna.threats.store import SEARCH_INDEX
from tests.conftest import make_label
from tests.threats.test_import_fixtures import T0, T1, current, indicator

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "data" / "stix21-examples"
NATO_IP4 = make_label(releasable_to=["NATO", "IP4"])
JPN_ONLY = make_label(releasable_to=["JPN"])
KOR_ONLY = make_label(releasable_to=["KOR"])

HUGESOFT_INDICATOR = "indicator--3f3ff9f1-bb4e-4392-89e5-1991179042ba"  # [domain-name:value = 'hugesoft.org']
HTRAN_58_246 = "indicator--da1d061b-2bc9-467a-b16f-8d14f468e1f0"  # [ipv4-addr:value = '58.246.0.0/15']
APT1_SET = "intrusion-set--da1065ce-972c-4605-8755-9cd1074e3b5a"
APT1_REPORT = "report--e33ffe07-2f4c-48d8-b0af-ee2619d765cf"
POISON_IVY = "malware--591f0cb7-d66f-4e14-a8e6-5927b597f920"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_ids(user: Any, query: str, **params: str) -> list[str]:
    """The STIX ids the cyber page lists for ``query``, in order."""
    response = client_for(user).get("/threats/cyber/", {"q": query, **params})
    assert response.status_code == 200, response.status_code
    hrefs = re.findall(r'href="/threats/objects/([a-z0-9-]+--[0-9a-f-]{36})/"', response.content.decode())
    return [stix_id for stix_id in hrefs if not stix_id.startswith("identity--")]  # "created by" links aside


def found(user: Any, query: str, types: list[str] | None = None) -> set[str]:
    return set(search.search(subject_for(user), query, types=types).objects.values_list("stix_id", flat=True))


def import_examples(user: Any, *names: str, label: Any = NATO_IP4) -> None:
    for name in names:
        with (EXAMPLES / name).open("rb") as stream:
            summary = do_import_bundle(user, stream, name, label)
        assert summary.accepted > 0 and summary.rejected == 0, summary.errors[:3]


def sco(kind: str, **props: Any) -> dict[str, Any]:
    return {"type": kind, "spec_version": "2.1", "id": f"{kind}--{uuid.uuid4()}", **props}


def named(kind: str, name: str, **props: Any) -> dict[str, Any]:
    return {"type": kind, "spec_version": "2.1", "id": f"{kind}--{uuid.uuid4()}", "created": T0, "modified": T0,
            "name": name, **props}


# --- the issue's searches --------------------------------------------------------------------------------------------


def test_the_issue_13_searches_find_what_analysts_expect_on_the_cyber_page(jpn_user: Any) -> None:
    import_examples(jpn_user, "apt1.json", "poisonivy.json")
    assert HUGESOFT_INDICATOR in page_ids(jpn_user, "hugesoft.org")
    assert HUGESOFT_INDICATOR in page_ids(jpn_user, "hugesoft")  # substring of a value
    assert HUGESOFT_INDICATOR in page_ids(jpn_user, "www.hugesoft.org")  # a parent domain
    assert HUGESOFT_INDICATOR in page_ids(jpn_user, "HugeSoft")  # case-insensitive
    assert POISON_IVY in page_ids(jpn_user, "Poison Ivy")  # a name
    assert APT1_SET in page_ids(jpn_user, "APT1")
    assert page_ids(jpn_user, "58.246.1.2") == [HTRAN_58_246]  # in 58.246.0.0/15, and nothing else
    body = client_for(jpn_user).get("/threats/cyber/", {"q": "58.246.1.2"}).content.decode()
    assert "in network 58.246.0.0/15" in body  # why it matched
    body = client_for(jpn_user).get("/threats/cyber/", {"q": "www.hugesoft.org"}).content.decode()
    assert "in domain hugesoft.org" in body


def test_the_api_q_and_value_are_the_same_search(jpn_user: Any, api_for: Any) -> None:
    import_examples(jpn_user, "apt1.json")
    client = api_for(jpn_user)

    def ids(query: str) -> set[str]:
        response = client.get(f"stix/objects?{query}&limit=200")
        assert response.status_code == 200
        return {o["id"] for o in response.json()["items"]}

    apt1 = ids("q=APT1")
    assert {APT1_SET, APT1_REPORT} <= apt1  # by name
    assert "malware--" in " ".join(apt1)  # HTRAN's description mentions APT1
    assert ids("value=58.246.1.2") == ids("q=58.246.1.2") == {HTRAN_58_246}
    assert ids("q=hugesoft&type=indicator") == {HUGESOFT_INDICATOR}
    assert ids("q=hugesoft&type=malware") == set()
    assert ids("q=HTRAN&value=58.246.0.0/15") == {HTRAN_58_246}  # both: what both find


# --- each kind of match ------------------------------------------------------------------------------------------


def test_substring_search_covers_name_description_aliases_and_values(jpn_user: Any) -> None:
    actor = named("threat-actor", "Comment Crew", threat_actor_types=["nation-state"], aliases=["Byzantine Candor"],
                  description="Operates a relay network from 東京都内")
    url = sco("url", value="https://files.example.net/payload.bin")
    assert do_import_objects(jpn_user, [actor, url], NATO_IP4).accepted == 2
    assert found(jpn_user, "ment cre") == {actor["id"]}
    assert found(jpn_user, "byzantine") == {actor["id"]}
    assert found(jpn_user, "京都内") == {actor["id"]}  # trigrams need no word boundaries
    assert found(jpn_user, "payload.b") == {url["id"]}
    assert found(jpn_user, "nothing like this") == set()


def test_a_domain_finds_objects_carrying_its_parent_domains_and_a_parent_finds_subdomains(jpn_user: Any) -> None:
    parent = sco("domain-name", value="hugesoft.org")
    child = sco("domain-name", value="mail.hugesoft.org")
    other = sco("domain-name", value="notsoft.org")
    assert do_import_objects(jpn_user, [parent, child, other], NATO_IP4).accepted == 3
    assert found(jpn_user, "www.mail.hugesoft.org") == {parent["id"], child["id"]}
    assert found(jpn_user, "https://www.hugesoft.org/login") == {parent["id"]}  # a URL's host
    assert found(jpn_user, "admin@hugesoft.org") == {parent["id"]}  # an e-mail address's domain
    assert found(jpn_user, "hugesoft.org") == {parent["id"], child["id"]}  # itself, and by substring


def test_an_address_finds_the_networks_that_contain_it_ipv4_and_ipv6(jpn_user: Any) -> None:
    wide = indicator(pattern="[ipv4-addr:value = '58.246.0.0/15']")
    narrow = sco("ipv4-addr", value="58.246.1.0/24")
    elsewhere = sco("ipv4-addr", value="58.248.0.0/15")
    v6 = indicator(pattern="[ipv6-addr:value = '2001:db8:abcd::/48']")
    assert do_import_objects(jpn_user, [wide, narrow, elsewhere, v6], NATO_IP4).accepted == 4
    assert found(jpn_user, "58.246.1.2") == {wide["id"], narrow["id"]}
    assert found(jpn_user, "58.247.255.255") == {wide["id"]}
    assert found(jpn_user, "2001:db8:abcd:12::7") == {v6["id"]}
    assert found(jpn_user, "2001:DB8:ABCD::1") == {v6["id"]}
    assert found(jpn_user, "2001:db8:abce::1") == set()


def test_a_network_finds_the_addresses_and_subnets_inside_it(jpn_user: Any) -> None:
    inside = sco("ipv4-addr", value="58.246.200.7")
    subnet = indicator(pattern="[ipv4-addr:value = '58.247.0.0/16']")
    outside = sco("ipv4-addr", value="58.248.0.1")
    v6_inside = sco("ipv6-addr", value="2001:db8:abcd:ff::1")
    assert do_import_objects(jpn_user, [inside, subnet, outside, v6_inside], NATO_IP4).accepted == 4
    assert found(jpn_user, "58.246.0.0/15") == {inside["id"], subnet["id"]}
    assert found(jpn_user, "58.246.1.0/15") == {inside["id"], subnet["id"]}  # host bits ignored, as ipaddress does
    assert found(jpn_user, "2001:db8:abcd::/48") == {v6_inside["id"]}
    # Too wide to list what is inside (a large part of the store); still finds the networks that contain it.
    assert found(jpn_user, "58.0.0.0/7") == set()


def test_any_hash_of_a_file_finds_it_and_the_indicators_of_its_other_hashes(jpn_user: Any) -> None:
    md5, sha1, sha256 = "a" * 32, "b" * 40, "c" * 64
    file = sco("file", name="dropper.exe", hashes={"MD5": md5, "SHA-1": sha1, "SHA-256": sha256})
    by_sha256 = indicator(pattern=f"[file:hashes.'SHA-256' = '{sha256}']")
    by_sha1 = indicator(pattern=f"[file:hashes.'SHA-1' = '{sha1}']")
    unrelated = indicator(pattern=f"[file:hashes.MD5 = '{'d' * 32}']")
    assert do_import_objects(jpn_user, [file, by_sha256, by_sha1, unrelated], NATO_IP4).accepted == 4
    everything = {file["id"], by_sha256["id"], by_sha1["id"]}
    assert found(jpn_user, md5) == everything
    assert found(jpn_user, md5.upper()) == everything
    assert found(jpn_user, sha1) == everything
    body = client_for(jpn_user).get("/threats/cyber/", {"q": md5, "tab": "all"}).content.decode()
    assert f"same file: SHA-256 {sha256}" in body


# --- labels: hidden means missing --------------------------------------------------------------------------------


def test_a_hidden_file_does_not_tell_which_hashes_belong_together(jpn_user: Any, kor_user: Any) -> None:
    md5, sha256 = "e" * 32, "f" * 64
    hidden_file = sco("file", hashes={"MD5": md5, "SHA-256": sha256})
    assert do_import_objects(kor_user, [hidden_file], KOR_ONLY).accepted == 1
    by_sha256 = indicator(pattern=f"[file:hashes.'SHA-256' = '{sha256}']")
    assert do_import_objects(jpn_user, [by_sha256], NATO_IP4).accepted == 1
    assert found(jpn_user, md5) == set()  # as if the Korean file were not stored
    assert found(kor_user, md5) == {hidden_file["id"], by_sha256["id"]}


def test_a_hidden_match_changes_nothing_on_the_page(jpn_user: Any, kor_user: Any) -> None:
    """25 visible matches fill a page exactly; a hidden match newer than all of them adds no row, no next page,
    no tab count and no position: the page is the same with and without it."""
    objects = [named("malware", f"Shadow loader {i:02d}", is_family=False) for i in range(25)]
    assert do_import_objects(jpn_user, objects, NATO_IP4).accepted == 25
    client = client_for(jpn_user)

    def page() -> tuple[list[str], list[str], bool, str]:
        body = client.get("/threats/cyber/", {"q": "shadow load"}).content.decode()
        ids = re.findall(r'href="/threats/objects/(malware--[0-9a-f-]{36})/"', body)
        counts = re.findall(r'<span class="tab-count">(\d+)</span>', body)
        return ids, counts, 'data-testid="next-page"' in body, body.split('data-testid="search-note">')[1][:200]

    before = page()
    hidden = named("malware", "Shadow loader (Korean eyes only)", is_family=False,
                   description="shadow loader", aliases=["shadow loader"])
    assert do_import_objects(kor_user, [hidden], KOR_ONLY).accepted == 1
    assert found(kor_user, "shadow load") >= {hidden["id"]}
    assert page() == before
    assert len(before[0]) == 25 and before[2] is False


@pytest.mark.parametrize("query", ["hugesoft", "58.246.1.2", "58.246.0.0/15", "hugesoft.org", "a" * 32])
def test_what_a_reader_finds_is_what_it_would_find_if_hidden_objects_were_missing(
        jpn_user: Any, kor_user: Any, query: str) -> None:
    """The same searches over a store with Korean-only twins of every object: the Japanese reader's answers are
    exactly the visible objects'."""
    def objects() -> list[dict[str, Any]]:
        return [indicator(pattern="[domain-name:value = 'www.hugesoft.org']"),
                indicator(pattern="[ipv4-addr:value = '58.246.0.0/16']"),
                sco("ipv4-addr", value="58.246.1.2"),
                sco("file", hashes={"MD5": "a" * 32, "SHA-256": "9" * 64})]
    visible = objects()
    assert do_import_objects(jpn_user, visible, NATO_IP4).accepted == 4
    expected = found(jpn_user, query)
    assert expected  # the query finds something visible
    assert do_import_objects(kor_user, objects(), KOR_ONLY).accepted == 4
    assert found(jpn_user, query) == expected
    assert len(found(kor_user, query)) >= 1


# --- versions, bad input, short text ------------------------------------------------------------------------------


def test_a_superseded_version_is_no_longer_found_by_its_old_text_or_network(jpn_user: Any) -> None:
    v1 = indicator(name="Old campaign name", pattern="[ipv4-addr:value = '192.0.2.0/24']", modified=T0)
    assert do_import_objects(jpn_user, [v1], NATO_IP4).accepted == 1
    assert found(jpn_user, "old campaign") == {v1["id"]}
    v2 = {**v1, "name": "Renamed campaign", "pattern": "[ipv4-addr:value = '198.51.100.0/24']", "modified": T1}
    assert do_import_objects(jpn_user, [v2], NATO_IP4).accepted == 1
    assert found(jpn_user, "old campaign") == set()
    assert found(jpn_user, "192.0.2.9") == set()
    assert found(jpn_user, "renamed") == found(jpn_user, "198.51.100.9") == {v1["id"]}
    keys = set(ObservableValue.objects.filter(kind="ip-range").values_list("obj_id", "value"))
    assert keys == {(current(v1["id"]).pk, "4:c6336400/24")}


@pytest.mark.parametrize("query", [
    "x" * 10_000, "%", "_", "%%%", "100%", "a_b", "'", '"', "\"hugesoft\" OR apt1", "*", "huge*", "NEAR(a b)",
    "1.2.3.4/99", "::/200", "2001:db8::/129", "ｈｕｇｅｓｏｆｔ", "🦠🦠🦠", "e\u0301\u0301\u0301", "\u202eevil", "[*]", "a\\b",
])
def test_bad_input_is_answered_cleanly(jpn_user: Any, api_for: Any, query: str) -> None:
    special = named("malware", "Loader 100% a_b [*] a\\b", is_family=False)
    assert do_import_objects(jpn_user, [special], NATO_IP4).accepted == 1
    result = found(jpn_user, query)
    assert result <= {special["id"]}
    response = client_for(jpn_user).get("/threats/cyber/", {"q": query})
    assert response.status_code in (200, 400)  # 400: the form's own limit (512 characters)
    assert api_for(jpn_user).get("stix/objects?" + urlencode({"q": query})).status_code == 200


def test_wildcards_and_quotes_are_searched_literally(jpn_user: Any) -> None:
    special = named("malware", "Loader 100% a_b [*] it's", is_family=False)
    plain = named("malware", "Loader 1000 aXb", is_family=False)
    assert do_import_objects(jpn_user, [special, plain], NATO_IP4).accepted == 2
    assert found(jpn_user, "100%") == {special["id"]}
    assert found(jpn_user, "a_b") == set()  # not three letters or digits in a row: exact value only
    assert found(jpn_user, "der 100% a_b") == {special["id"]}
    assert found(jpn_user, "100% a_b [*] it") == {special["id"]}
    assert found(jpn_user, "loader 1") == {special["id"], plain["id"]}


def test_short_text_is_an_exact_value_and_the_page_says_so(jpn_user: Any) -> None:
    c2 = named("malware", "C2 relay", is_family=False)
    short = sco("domain-name", value="c2")
    assert do_import_objects(jpn_user, [c2, short], NATO_IP4).accepted == 2
    assert found(jpn_user, "C2") == {short["id"]}
    body = client_for(jpn_user).get("/threats/cyber/", {"q": "C2"}).content.decode()
    assert "looked up as an exact value" in body


def test_the_search_box_says_what_it_searches(jpn_user: Any) -> None:
    body = client_for(jpn_user).get("/threats/cyber/").content.decode()
    assert "name, description, value, domain, address or network, hash" in body


# --- the index ----------------------------------------------------------------------------------------------------


def test_the_migration_fills_the_index_for_objects_stored_before_it(jpn_user: Any) -> None:
    import_examples(jpn_user, "apt1.json")
    # As on a node upgraded with objects already stored: no search text, no ip-range keys.
    SEARCH_INDEX.delete(StixObject.objects.values_list("pk", flat=True))
    ObservableValue.objects.filter(kind="ip-range").delete()
    assert found(jpn_user, "hugesoft") == set() and found(jpn_user, "58.246.1.2") == set()
    migration = importlib.import_module("kizuna.threats.migrations.0010_threat_search_index")
    migration.fill(django_apps)
    assert found(jpn_user, "hugesoft") == {HUGESOFT_INDICATOR}
    assert found(jpn_user, "58.246.1.2") == {HTRAN_58_246}


def test_the_text_of_an_object_is_lower_cased_and_holds_name_description_and_values(jpn_user: Any) -> None:
    ind = indicator(name="C2 of CAMPAIGN", pattern="[domain-name:value = 'Evil.Example']", description="Seen Twice")
    assert do_import_objects(jpn_user, [ind], NATO_IP4).accepted == 1
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT body FROM {SEARCH_INDEX.table} WHERE {SEARCH_INDEX.key} = %s",  # noqa: S608
                       [current(ind["id"]).pk])
        (body,) = cursor.fetchone()
    assert body.split("\n") == ["c2 of campaign", "seen twice", "evil.example"]


def test_match_reasons_name_the_property_that_matched(jpn_user: Any) -> None:
    import_examples(jpn_user, "poisonivy.json")
    result = search.search(subject_for(jpn_user), "Poison Ivy")
    rows = list(result.objects)
    why = {row.name: reasons for row, reasons in zip(rows, (search.match_reasons(result, rows)[r.pk] for r in rows),
                                                      strict=True)}
    assert why["Poison Ivy"] == ["name contains “Poison Ivy”"]
    assert why["Analyze with FireEye Calamine Toolset"] == ["description contains “Poison Ivy”"]
    body = client_for(jpn_user).get("/threats/cyber/", {"q": "Poison Ivy", "tab": "malware"}).content.decode()
    assert "name contains “Poison Ivy”" in body


def test_reasons_come_from_stored_json(jpn_user: Any) -> None:
    obj = named("malware", "Quiet", is_family=False, description="beacons to a.example")
    assert do_import_objects(jpn_user, [obj], NATO_IP4).accepted == 1
    result = search.search(subject_for(jpn_user), "beacons")
    rows = list(result.objects)
    assert search.match_reasons(result, rows) == {rows[0].pk: ["description contains “beacons”"]}
    assert json.loads(rows[0].data)["description"] == "beacons to a.example"
