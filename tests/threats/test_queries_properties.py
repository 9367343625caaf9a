"""Property: over random stores (objects, versions, relationships and sightings under random labels, ends that exist,
are hidden or are missing), ``visible_objects`` and the exported bundle hold exactly what the pure-Python rule allows:
``may_see`` on the object's current version, and for a relationship or sighting, on each end it names too."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kizuna.core.access import registry
from kizuna.directory.subjects import subject_for
from kizuna.labels import Label, may_see
from kizuna.stix.definitions import KIZUNA_IDENTITY_ID
from kizuna.threats.exporter import iter_bundle
from kizuna.threats.markings import KIZUNA_LABEL_EXTENSION_ID
from kizuna.threats.models import StixObject
from kizuna.threats.queries import visible_objects
from tests.conftest import make_label
from tests.threats.test_queries_fixtures import put

pytestmark = pytest.mark.django_db

RELEASABLE = (["JPN"], ["KOR"], ["IP4"], ["NATO", "IP4"], ["JPN", "KOR"], ["NZL"])
COMMUNITIES = ([], ["CYBER"], ["MARITIME"], ["CYBER", "SPACE"])


@st.composite
def labels(draw: st.DrawFn) -> Label:
    return make_label(
        releasable_to=draw(st.sampled_from(RELEASABLE)),
        communities=draw(st.sampled_from(COMMUNITIES)) or None,
        classification=draw(st.sampled_from(["UNCLASSIFIED", "RESTRICTED"])),
        tlp=draw(st.sampled_from(["CLEAR", "GREEN", "AMBER"])),
    )


@st.composite
def stores(draw: st.DrawFn) -> dict[str, Any]:
    """Plain objects (some with an older version under another label, some revoked), then relationships and
    sightings whose ends are drawn from those objects, each other, or ids that do not exist."""
    n = draw(st.integers(min_value=1, max_value=6))
    objects = [
        {"label": draw(labels()), "old_label": draw(st.none() | labels()), "revoked": draw(st.booleans())}
        for _ in range(n)
    ]
    m = draw(st.integers(min_value=0, max_value=6))
    links = []
    for i in range(m):
        end = st.integers(min_value=-1, max_value=n + i - 1)  # -1 = a missing object; >= n = an earlier link
        links.append({"label": draw(labels()), "kind": draw(st.sampled_from(["relationship", "sighting"])),
                      "source": draw(end), "target": draw(end)})
    return {"objects": objects, "links": links}


@pytest.fixture
def nzl_cyber_user(make_user: Any) -> Any:
    return make_user("kiwi", "NZL", "NZL-NCSC", communities=["CYBER"])


PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY_SETTINGS
@given(store=stores())
def test_visible_objects_and_export_agree_with_may_see_and_the_relationship_rule(
    store: dict[str, Any], jpn_user: Any, kor_user: Any, nzl_cyber_user: Any
) -> None:
    StixObject.objects.all().delete()
    ids: list[str] = []
    labels_of: dict[str, Label] = {}
    for spec in store["objects"]:
        if spec["old_label"] is not None:
            old = put("malware", spec["old_label"], modified="2026-01-01T00:00:00.000Z", is_current=False)
            obj = put("malware", spec["label"], stix_id=old.stix_id, revoked=spec["revoked"])
        else:
            obj = put("malware", spec["label"], revoked=spec["revoked"])
        ids.append(obj.stix_id)
        labels_of[obj.stix_id] = spec["label"]
    ends: dict[str, tuple[str, str]] = {}
    for spec in store["links"]:
        def ref(index: int) -> str:
            return ids[index] if index >= 0 else "malware--00000000-0000-4000-8000-0000000000ff"

        if spec["kind"] == "relationship":
            obj = put("relationship", spec["label"], source_ref=ref(spec["source"]), target_ref=ref(spec["target"]))
            ends[obj.stix_id] = (ref(spec["source"]), ref(spec["target"]))
        else:
            obj = put("sighting", spec["label"], sighting_of_ref=ref(spec["source"]))
            ends[obj.stix_id] = (ref(spec["source"]), "")
        ids.append(obj.stix_id)
        labels_of[obj.stix_id] = spec["label"]

    readers = [jpn_user, kor_user, nzl_cyber_user]
    for reader in readers:
        subject = subject_for(reader)
        alone = {i for i, lbl in labels_of.items() if may_see(subject, lbl, registry())}
        # An end must be a visible current plain object; a link (relationship, sighting) never counts as an end.
        expected: set[str] = set()
        for stix_id in ids:
            if stix_id not in alone:
                continue
            if stix_id in ends and not all(e == "" or (e in alone and e not in ends) for e in ends[stix_id]):
                continue
            expected.add(stix_id)
        got = set(visible_objects(subject, include_revoked=True).values_list("stix_id", flat=True))
        assert got == expected
        assert visible_objects(subject, include_revoked=True).count() == len(expected)
        bundle = json.loads("".join(iter_bundle(subject)))
        exported = {o["id"] for o in bundle["objects"]
                    if o["type"] in ("malware", "relationship", "sighting")}
        assert exported == expected
        assert KIZUNA_IDENTITY_ID in {o["id"] for o in bundle["objects"]}
        assert KIZUNA_LABEL_EXTENSION_ID in {o["id"] for o in bundle["objects"]}
