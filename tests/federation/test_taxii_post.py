"""Writing through TAXII: the OASIS client and stix2's TAXII sink POST objects to the collection of everything; they
are imported by the threat store's service under the caller's default label, and the status resource says what
happened (readable by its poster only). Wrong media type 415, bad envelopes 400, viewers and domain collections 403."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import requests
from django.test import Client
from stix2 import Indicator, TAXIICollectionSink
from taxii2client.v21 import Collection

from kizuna.core.access import label_of
from kizuna.federation.taxii.collections import collections
from kizuna.threats.models import StixObject
from tests.conftest import PASSWORD, make_label
from tests.federation.test_taxii_errors import TAXII, assert_taxii_error, basic, objects_url

EVERYTHING = collections()[0].id
CYBER = collections()[1].id
JPN_ONLY = make_label(releasable_to=["JPN"])
LABEL_JSON = json.dumps(JPN_ONLY.as_api())


class LabelHeader(requests.auth.HTTPBasicAuth):
    """Basic credentials plus the default label header, as a TAXII client configured for Kizuna would send."""

    def __call__(self, request: Any) -> Any:
        request.headers["X-Kizuna-Default-Label"] = LABEL_JSON
        return super().__call__(request)


def indicator(**extra: Any) -> dict[str, Any]:
    sid = f"indicator--{uuid.uuid4()}"
    return {"type": "indicator", "spec_version": "2.1", "id": sid, "created": "2026-02-01T00:00:00.000Z",
            "modified": "2026-02-01T00:00:00.000Z", "pattern": "[ipv4-addr:value = '203.0.113.9']",
            "pattern_type": "stix", "valid_from": "2026-02-01T00:00:00Z", **extra}


def post(body: Any, user: str = "hanako", cid: str = EVERYTHING, label: str | None = LABEL_JSON) -> Any:
    headers = {"HTTP_ACCEPT": TAXII, "HTTP_AUTHORIZATION": basic(user)}
    if label is not None:
        headers["HTTP_X_KIZUNA_DEFAULT_LABEL"] = label
    text = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return Client().post(objects_url(cid), data=text, content_type=TAXII, **headers)


@pytest.mark.django_db(transaction=True)
def test_taxii2client_adds_objects_and_reads_the_status(live_server: Any, jpn_user: Any, kor_user: Any) -> None:
    url = f"{live_server.url}/taxii2/kizuna/collections/{EVERYTHING}/"
    coll = Collection(url, auth=LabelHeader("hanako", PASSWORD))
    assert coll.can_write
    good, bad = indicator(), {"type": "indicator", "id": "indicator--nonsense"}
    status = coll.add_objects(json.dumps({"objects": [good, bad]}), wait_for_completion=True)
    assert status.status == "complete"
    assert (status.total_count, status.success_count, status.failure_count) == (2, 1, 1)
    assert status.failures[0]["id"] == "indicator--nonsense"
    stored = StixObject.objects.get(stix_id=good["id"])
    assert label_of(stored.label).key() == JPN_ONLY.key()
    # The Korean reader may not see it (stored under the default label, Japan only), nor read the status.
    korean = Collection(url, user="minjun", password=PASSWORD)
    with pytest.raises(requests.HTTPError):
        korean.get_object(good["id"])
    response = requests.get(f"{live_server.url}/taxii2/kizuna/status/{status.id}/", auth=("minjun", PASSWORD),
                            headers={"Accept": TAXII}, timeout=10)
    assert response.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_stix2_taxii_sink_writes_an_object(live_server: Any, jpn_user: Any) -> None:
    url = f"{live_server.url}/taxii2/kizuna/collections/{EVERYTHING}/"
    sink = TAXIICollectionSink(Collection(url, auth=LabelHeader("hanako", PASSWORD)))
    obj = Indicator(pattern="[domain-name:value = 'example.org']", pattern_type="stix")
    sink.add(obj)
    assert StixObject.objects.filter(stix_id=obj.id).exists()


@pytest.mark.django_db
def test_post_with_a_wrong_content_type_is_415(jpn_user: Any) -> None:
    response = Client().post(objects_url(), data="{}", content_type="application/json", HTTP_ACCEPT=TAXII,
                             HTTP_AUTHORIZATION=basic("hanako"))
    assert_taxii_error(response, 415)
    assert not StixObject.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["not json", {"objects": []}, {"objects": ["x"]}, [1, 2]])
def test_bad_envelopes_are_400(jpn_user: Any, body: Any) -> None:
    assert_taxii_error(post(body), 400)


@pytest.mark.django_db
def test_a_body_that_is_not_json_is_named_in_the_error(jpn_user: Any) -> None:
    body = assert_taxii_error(post(b"\x89PNG\r\n\x1a\n\x00\x00"), 400)
    assert body["description"].startswith("The body is not JSON (it is a PNG image)"), body
    assert "envelope" in body["description"]


@pytest.mark.django_db
def test_missing_default_label_is_400_and_nothing_is_stored(jpn_user: Any) -> None:
    body = assert_taxii_error(post({"objects": [indicator()]}, label=None), 400)
    assert "label" in body["description"]
    assert not StixObject.objects.exists()


@pytest.mark.django_db
def test_viewers_and_domain_collections_may_not_write(jpn_user: Any, make_user: Any) -> None:
    make_user("kenji", "JPN", "JPN-MOD", role="viewer")
    assert_taxii_error(post({"objects": [indicator()]}, user="kenji"), 403)
    assert_taxii_error(post({"objects": [indicator()]}, cid=CYBER), 403)
    assert not StixObject.objects.exists()


@pytest.mark.django_db
def test_a_label_the_poster_could_not_see_is_refused(jpn_user: Any) -> None:
    korea_only = json.dumps(make_label(releasable_to=["KOR"]).as_api())
    body = assert_taxii_error(post({"objects": [indicator()]}, label=korea_only), 400)
    assert "could not see" in body["description"]
    assert not StixObject.objects.exists()
