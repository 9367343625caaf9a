"""The read side of the STIX store: the label rule, the relationship rule (hidden when either end is invisible or
missing), versions, search by value and "also reported by" — nothing a reader may not see, not even as a count."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404

from kizuna.directory.subjects import subject_for
from kizuna.threats.queries import (
    also_reported_by,
    get_object_or_404,
    object_versions,
    search_by_value,
    visible_ids,
    visible_objects,
)
from tests.conftest import make_label
from tests.threats.test_queries_fixtures import put, relate, sight

JPN_ONLY = make_label(releasable_to=["JPN"])
KOR_ONLY = make_label(releasable_to=["KOR"])
IP4 = make_label(releasable_to=["NATO", "IP4"])

pytestmark = pytest.mark.django_db


def ids(qs: Any) -> set[str]:
    return set(qs.values_list("stix_id", flat=True))


def test_korean_user_cannot_see_indicator_rel_to_japan(jpn_user: Any, kor_user: Any) -> None:
    shared = put("indicator", IP4)
    japanese = put("indicator", JPN_ONLY)
    assert ids(visible_objects(subject_for(jpn_user))) == {shared.stix_id, japanese.stix_id}
    assert ids(visible_objects(subject_for(kor_user))) == {shared.stix_id}


def test_only_current_versions_are_listed(jpn_user: Any) -> None:
    old = put("malware", IP4, modified="2026-02-01T00:00:00.000Z", is_current=False)
    put("malware", IP4, stix_id=old.stix_id, modified="2026-02-02T00:00:00.000Z")
    rows = list(visible_objects(subject_for(jpn_user)))
    assert [r.modified for r in rows] == ["2026-02-02T00:00:00.000Z"]


def test_relationship_is_visible_when_both_ends_and_itself_are(kor_user: Any) -> None:
    a, b = put("malware", IP4), put("threat-actor", IP4)
    rel = relate(b, a, IP4)
    assert rel.stix_id in ids(visible_objects(subject_for(kor_user)))


@pytest.mark.parametrize("hidden_end", ["source", "target"])
def test_relationship_is_hidden_when_one_end_is_invisible(kor_user: Any, jpn_user: Any, hidden_end: str) -> None:
    a = put("malware", JPN_ONLY if hidden_end == "source" else IP4)
    b = put("threat-actor", JPN_ONLY if hidden_end == "target" else IP4)
    rel = relate(a, b, IP4)
    assert rel.stix_id not in ids(visible_objects(subject_for(kor_user)))
    assert rel.stix_id in ids(visible_objects(subject_for(jpn_user)))
    with pytest.raises(Http404):
        get_object_or_404(subject_for(kor_user), rel.stix_id)


@pytest.mark.parametrize("missing_end", ["source", "target"])
def test_relationship_with_a_missing_end_is_hidden_from_everyone(jpn_user: Any, missing_end: str) -> None:
    present = put("malware", IP4)
    absent = "threat-actor--11111111-2222-4333-8444-555555555555"
    rel = relate(absent, present, IP4) if missing_end == "source" else relate(present, absent, IP4)
    assert rel.stix_id not in ids(visible_objects(subject_for(jpn_user)))


def test_relationship_to_an_end_visible_only_in_an_old_version_is_hidden(kor_user: Any) -> None:
    old = put("malware", IP4, modified="2026-02-01T00:00:00.000Z", is_current=False)
    put("malware", JPN_ONLY, stix_id=old.stix_id, modified="2026-02-02T00:00:00.000Z")
    rel = relate(old.stix_id, put("threat-actor", IP4), IP4)
    assert rel.stix_id not in ids(visible_objects(subject_for(kor_user)))


def test_a_relationship_or_sighting_never_counts_as_an_end(jpn_user: Any) -> None:
    rel = relate(put("malware", IP4), put("threat-actor", IP4), IP4)
    on_rel = relate(rel, put("malware", IP4), IP4)
    sighting_of_rel = sight(rel, IP4)
    got = ids(visible_objects(subject_for(jpn_user)))
    assert rel.stix_id in got
    assert on_rel.stix_id not in got and sighting_of_rel.stix_id not in got


def test_invisible_relationship_between_visible_ends_is_hidden(kor_user: Any) -> None:
    rel = relate(put("malware", IP4), put("threat-actor", IP4), JPN_ONLY)
    assert rel.stix_id not in ids(visible_objects(subject_for(kor_user)))


def test_sighting_of_an_invisible_object_is_hidden(kor_user: Any, jpn_user: Any) -> None:
    hidden = sight(put("indicator", JPN_ONLY), IP4)
    shown = sight(put("indicator", IP4), IP4)
    assert ids(visible_objects(subject_for(kor_user), types=["sighting"])) == {shown.stix_id}
    assert ids(visible_objects(subject_for(jpn_user), types=["sighting"])) == {shown.stix_id, hidden.stix_id}


def test_counts_reveal_nothing_about_hidden_objects_or_relationships(kor_user: Any) -> None:
    visible_malware = put("malware", IP4)
    before = visible_objects(subject_for(kor_user)).count()
    hidden = put("malware", JPN_ONLY)
    relate(visible_malware, hidden, IP4)
    relate(visible_malware, "malware--99999999-2222-4333-8444-555555555555", IP4)
    assert visible_objects(subject_for(kor_user)).count() == before
    assert visible_objects(subject_for(kor_user), types=["relationship"]).count() == 0


def test_revoked_objects_are_left_out_unless_asked_for(jpn_user: Any) -> None:
    revoked = put("malware", IP4, revoked=True)
    assert revoked.stix_id not in ids(visible_objects(subject_for(jpn_user)))
    assert revoked.stix_id in ids(visible_objects(subject_for(jpn_user), include_revoked=True))
    assert get_object_or_404(subject_for(jpn_user), revoked.stix_id).pk == revoked.pk


def test_relationship_to_a_revoked_end_stays_visible(jpn_user: Any) -> None:
    rel = relate(put("malware", IP4, revoked=True), put("threat-actor", IP4), IP4)
    assert rel.stix_id in ids(visible_objects(subject_for(jpn_user)))


def test_types_filter(jpn_user: Any) -> None:
    m = put("malware", IP4)
    put("indicator", IP4)
    assert ids(visible_objects(subject_for(jpn_user), types=["malware"])) == {m.stix_id}


def test_get_object_is_the_same_404_for_missing_and_invisible(kor_user: Any) -> None:
    hidden = put("malware", JPN_ONLY)
    for stix_id in (hidden.stix_id, "malware--00000000-0000-4000-8000-00000000dead"):
        with pytest.raises(Http404):
            get_object_or_404(subject_for(kor_user), stix_id)


def test_versions_are_filtered_by_each_versions_own_label(kor_user: Any, jpn_user: Any) -> None:
    first = put("malware", JPN_ONLY, modified="2026-02-01T00:00:00.000Z", is_current=False)
    put("malware", IP4, stix_id=first.stix_id, modified="2026-02-02T00:00:00.000Z")
    assert [v.modified for v in object_versions(subject_for(kor_user), first.stix_id)] == ["2026-02-02T00:00:00.000Z"]
    assert len(object_versions(subject_for(jpn_user), first.stix_id)) == 2


def test_versions_of_an_object_whose_current_version_is_invisible_are_404(kor_user: Any) -> None:
    first = put("malware", IP4, modified="2026-02-01T00:00:00.000Z", is_current=False)
    put("malware", JPN_ONLY, stix_id=first.stix_id, modified="2026-02-02T00:00:00.000Z")
    with pytest.raises(Http404):
        object_versions(subject_for(kor_user), first.stix_id)


def test_search_by_value_finds_only_visible_holders(kor_user: Any) -> None:
    shown = put("indicator", IP4, values=[("ipv4-addr", "198.51.100.7")])
    put("indicator", JPN_ONLY, values=[("ipv4-addr", "198.51.100.7")])
    put("indicator", IP4, values=[("ipv4-addr", "198.51.100.8")])
    assert ids(search_by_value(subject_for(kor_user), " 198.51.100.7 ")) == {shown.stix_id}
    assert not search_by_value(subject_for(kor_user), "").exists()


def test_search_by_value_matches_a_lower_case_indexed_hash_typed_in_upper_case(jpn_user: Any) -> None:
    shown = put("indicator", IP4, values=[("file:SHA-256", "ab" * 32)])
    assert ids(search_by_value(subject_for(jpn_user), "AB" * 32)) == {shown.stix_id}


def test_also_reported_by_lists_other_originators_the_reader_may_see(kor_user: Any) -> None:
    mine = put("indicator", IP4, "KOR-MND", values=[("domain-name", "evil.example")])
    put("indicator", IP4, "KOR-MND", values=[("domain-name", "evil.example")])  # same originator: not "also"
    japanese = put("indicator", IP4, "JPN-MOD", values=[("domain-name", "evil.example")])
    put("indicator", JPN_ONLY, "JPN-MOD", values=[("domain-name", "evil.example")])  # not visible to KOR
    put("indicator", IP4, "JPN-MOD", values=[("domain-name", "other.example")])
    found = also_reported_by(subject_for(kor_user), mine)
    assert [(f["object"].stix_id, f["originator"].code, f["kind"], f["value"]) for f in found] == [
        (japanese.stix_id, "JPN-MOD", "domain-name", "evil.example")
    ]


def test_also_reported_by_is_empty_without_observables(jpn_user: Any) -> None:
    assert also_reported_by(subject_for(jpn_user), put("malware", IP4)) == []


def test_visible_ids_names_only_visible_objects(kor_user: Any) -> None:
    a, b = put("malware", IP4), put("malware", JPN_ONLY)
    assert visible_ids(subject_for(kor_user), [a.stix_id, b.stix_id, "malware--nope"]) == {a.stix_id}
