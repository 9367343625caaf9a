"""What this node serves to peers: its own objects signed over their served form (label marking included), received
objects exactly as received; and the fast canonical form equals RFC 8785 wherever the client uses it."""

from __future__ import annotations

import json
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.core.access import intern_label
from kizuna.federation import outbound, peers, services, signing
from kizuna.federation.client import TaxiiClient
from kizuna.labels import TLP
from kizuna.threats.markings import TLP2_IDS, label_marking_id
from kizuna.threats.models import StixObject
from tests.conftest import make_label
from tests.federation.test_sync_medallion import RemoteNode, indicator
from tests.threats.test_queries_fixtures import put

SHARED = make_label(releasable_to=["NATO", "IP4"])
JPN_ONLY = make_label(releasable_to=["JPN"])


def served(rows: Any) -> list[dict[str, Any]]:
    values = list(rows.order_by("pk").values_list("pk", *outbound.SERVED_COLUMNS))
    return json.loads("[" + outbound.envelope_text(values) + "]")


@pytest.mark.django_db
def test_own_objects_are_served_with_their_label_marking_and_a_signature_that_verifies(jpn_user: Any) -> None:
    obj = put("indicator", SHARED)
    assert outbound.sign_pending() >= 1
    row = StixObject.objects.filter(pk=obj.pk)
    assert row.get().signature is not None and row.get().signed_label == row.get().label_id

    [out] = served(row)

    assert label_marking_id(SHARED) in out["object_marking_refs"]
    result = signing.verify_object(out, services.public_keys(), plain=True)
    assert result.ok and result.node == services.node_identity().stix_id
    # Changing the label marking on the way breaks the signature: no relay can lower a label.
    out["object_marking_refs"] = [label_marking_id(JPN_ONLY)]
    assert not signing.verify_object(out, services.public_keys()).ok


@pytest.mark.django_db
def test_served_objects_name_the_tlp2_marking_of_their_label_under_the_signature(jpn_user: Any) -> None:
    """Issue 13: MISP, OpenCTI and any TAXII client read the TLP from the standard marking; it is signed with the
    rest, on the fast path (signed ahead) and on the fly (a row with markings of its own) alike."""
    green = make_label(releasable_to=["NATO", "IP4"], tlp="GREEN")
    signed_ahead = put("indicator", green)
    with_own = put("malware", SHARED, object_marking_refs=[TLP2_IDS[TLP.CLEAR]])
    assert outbound.sign_pending() >= 2
    out = {o["id"]: o for o in served(StixObject.objects.filter(pk__in=[signed_ahead.pk, with_own.pk]))}

    assert out[signed_ahead.stix_id]["object_marking_refs"] == [label_marking_id(green), TLP2_IDS[TLP.GREEN]]
    assert out[with_own.stix_id]["object_marking_refs"] == [TLP2_IDS[TLP.CLEAR], label_marking_id(SHARED),
                                                           TLP2_IDS[TLP.AMBER]]
    for obj in out.values():
        assert signing.verify_object(obj, services.public_keys()).ok
    lowered = dict(out[signed_ahead.stix_id], object_marking_refs=[label_marking_id(green), TLP2_IDS[TLP.CLEAR]])
    assert not signing.verify_object(lowered, services.public_keys()).ok  # the TLP is signed too


@pytest.mark.django_db
def test_signatures_made_before_the_tlp_marking_are_cleared_by_the_migration(jpn_user: Any) -> None:
    import importlib

    from django.apps import apps

    migration = importlib.import_module("kizuna.threats.migrations.0009_resign_with_tlp_marking")
    obj = put("indicator", SHARED)
    outbound.sign_pending()
    migration.clear_signatures(apps, None)
    assert StixObject.objects.get(pk=obj.pk).signature is None
    assert outbound.pending().filter(pk=obj.pk).exists()


@pytest.mark.django_db
def test_an_object_relabelled_after_signing_is_signed_again_under_its_new_label(jpn_user: Any) -> None:
    obj = put("indicator", SHARED)
    outbound.sign_pending()
    StixObject.objects.filter(pk=obj.pk).update(label_id=intern_label(JPN_ONLY).pk)

    [on_the_fly] = served(StixObject.objects.filter(pk=obj.pk))  # not re-signed yet: signed while serving
    assert label_marking_id(JPN_ONLY) in on_the_fly["object_marking_refs"]
    assert signing.verify_object(on_the_fly, services.public_keys()).ok
    assert outbound.pending().filter(pk=obj.pk).exists()
    assert outbound.sign_pending() == 1
    [stored] = served(StixObject.objects.filter(pk=obj.pk))
    assert stored == on_the_fly  # Ed25519 is deterministic: the same bytes either way


@pytest.mark.django_db
def test_unsigned_rows_are_signed_on_the_fly_and_objects_with_extensions_keep_them(jpn_user: Any) -> None:
    obj = put("indicator", SHARED)
    data = json.loads(obj.data)
    data["extensions"] = {"extension-definition--00000000-0000-4000-8000-000000000001": {
        "extension_type": "property-extension", "note": "kept"}}
    StixObject.objects.filter(pk=obj.pk).update(data=json.dumps(data, separators=(",", ":")))

    [out] = served(StixObject.objects.filter(pk=obj.pk))

    assert out["extensions"]["extension-definition--00000000-0000-4000-8000-000000000001"]["note"] == "kept"
    assert signing.verify_object(out, services.public_keys()).ok


@pytest.mark.django_db
def test_objects_received_from_a_peer_are_relayed_exactly_as_received(make_user: Any) -> None:
    make_user("hanako")
    node = RemoteNode()
    peer = peers.add_peer("jpn", node.id, nations=["JPN"], public_keys=[node.public_b64], actor="test")
    original = node.sign(indicator(1, label_marking_id(SHARED)))
    text = json.dumps(original, separators=(",", ":"))
    obj = put("indicator", SHARED)
    StixObject.objects.filter(pk=obj.pk).update(data=text, originator_id=peer.organisation_id,
                                                stix_id=original["id"])
    assert outbound.sign_pending() == 0  # nothing of another node's is signed here

    [out] = served(StixObject.objects.filter(pk=obj.pk))

    assert out == original
    assert signing.verify_object(out, {node.kid: node.raw}).ok


_plain_value = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.text(alphabet=st.characters(max_codepoint=0xFFFF, blacklist_categories=("Cs",))),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.text(alphabet=st.characters(max_codepoint=0xFFFF, blacklist_categories=("Cs",)), max_size=8),
        inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=8, alphabet=st.characters(max_codepoint=0xFFFF,
                                                                   blacklist_categories=("Cs",))),
                       _plain_value, max_size=6))
def test_the_fast_canonical_form_is_rfc8785_for_every_plain_object(obj: dict[str, Any]) -> None:
    assert signing.canonical(obj, plain=True) == rfc8785.dumps(obj)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=6), _plain_value | st.floats(allow_nan=False, allow_infinity=False)
                       | st.integers() | st.text(), max_size=6))
def test_the_client_marks_a_page_plain_only_when_the_fast_form_is_exact(obj: dict[str, Any]) -> None:
    client = TaxiiClient("http://127.0.0.1:1/root/", "")
    try:
        body = json.dumps({"more": False, "objects": [obj]}, ensure_ascii=False).encode("utf-8", "surrogatepass")
    except (UnicodeEncodeError, ValueError):
        return
    try:
        page = client.parse_page(body, {}, None)
    except Exception:
        return
    if page.plain:
        try:
            expected = rfc8785.dumps(page.objects[0])
        except rfc8785.CanonicalizationError:
            return
        assert signing.canonical(page.objects[0], plain=True) == expected
