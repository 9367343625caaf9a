"""The analyst pages of the threat exchange obey the label rules: overview counts, cyber tabs and search, object
detail (properties, raw JSON, versions, relationships, "also reported by"), import jobs and export — a reader of
another nation meets 404s and smaller counts, never a hint.

Objects are inserted as ``StixObject`` rows directly, so these tests depend on the store's columns only.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from kizuna.core.access import intern_label
from kizuna.core.models import AuditEntry
from kizuna.labels import Label
from kizuna.threats.models import ImportJob, ImportStatus, ObservableValue, StixObject
from tests.conftest import make_label
from tests.threats.test_queries_fixtures import index_text
from tests.web.helpers import audit_page

pytestmark = pytest.mark.django_db

REL_JPN = {"releasable_to": ["JPN"]}
REL_KOR = {"releasable_to": ["KOR"]}
REL_BOTH = {"releasable_to": ["JPN", "KOR"]}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def sid(kind: str) -> str:
    return f"{kind}--{uuid.uuid4()}"


def put(
    owner: Any,
    stix_type: str,
    label: Label,
    *,
    stix_id: str | None = None,
    name: str = "",
    data: dict[str, Any] | None = None,
    source_ref: str = "",
    target_ref: str = "",
    modified: str = "2026-03-01T00:00:00.000Z",
    values: tuple[tuple[str, str], ...] = (),
    is_current: bool = True,
) -> StixObject:
    """Store one object version as the importer would: a row, its JSON text, its observable values and its text in the
    threat search's index."""
    stix_id = stix_id or sid(stix_type)
    body: dict[str, Any] = {"type": stix_type, "spec_version": "2.1", "id": stix_id, "created": modified,
                            "modified": modified}
    if name and stix_type not in ("relationship", "sighting"):
        body["name"] = name
    body.update(data or {})
    obj = StixObject.objects.create(
        stix_id=stix_id, type=stix_type, created=modified, modified=modified, is_current=is_current,
        label=intern_label(label), originator=owner.organisation, name=name, data=json.dumps(body),
        source_ref=source_ref, target_ref=target_ref,
    )
    for kind, value in values:
        ObservableValue.objects.create(obj=obj, kind=kind, value=value)
    if is_current:
        index_text(obj, body, list(values))
    return obj


def relate(owner: Any, source: StixObject | str, target: StixObject | str, label: Label,
           kind: str = "indicates") -> StixObject:
    src = source if isinstance(source, str) else source.stix_id
    tgt = target if isinstance(target, str) else target.stix_id
    return put(owner, "relationship", label, name=kind, source_ref=src, target_ref=tgt,
               data={"relationship_type": kind, "source_ref": src, "target_ref": tgt})


def sight(owner: Any, target: StixObject, label: Label, count: int = 1) -> StixObject:
    return put(owner, "sighting", label, source_ref=target.stix_id,
               data={"sighting_of_ref": target.stix_id, "count": count})


def body_of(response: Any) -> str:
    return response.content.decode()


# --- overview -------------------------------------------------------------------------------------------------------


def test_overview_counts_only_objects_the_reader_may_see(jpn_user: Any, kor_user: Any) -> None:
    put(jpn_user, "indicator", make_label(**REL_JPN), name="jp-1")
    put(jpn_user, "indicator", make_label(**REL_BOTH), name="both-1")
    put(kor_user, "indicator", make_label(**REL_KOR), name="kr-1")
    put(kor_user, "malware", make_label(**REL_KOR), name="Korean-only malware")

    jp = client_for(jpn_user).get("/threats/")
    assert jp.status_code == 200
    body = body_of(jp)
    assert 'data-testid="count-indicator">2<' in body
    assert 'data-testid="count-total">2<' in body
    assert "count-malware" not in body and "Korean-only malware" not in body
    assert "jp-1" in body and "both-1" in body and "kr-1" not in body

    kr = body_of(client_for(kor_user).get("/threats/"))
    assert 'data-testid="count-indicator">2<' in kr  # kr-1 and both-1
    assert 'data-testid="count-malware">1<' in kr
    assert "jp-1" not in kr


def test_overview_links_every_area_and_page(jpn_user: Any) -> None:
    body = body_of(client_for(jpn_user).get("/threats/"))
    for href in ("/threats/cyber/", "/threats/disinformation/", "/threats/maritime/", "/threats/strategic/",
                 "/threats/import/", "/threats/export/", "/threats/watch/", "/inbox/"):
        assert f'href="{href}"' in body, href
    # The inbox is the navigation's one entry: the threat tabs link to no inbox of their own.
    assert 'href="/threats/inbox/"' not in body


def test_overview_relationship_to_invisible_object_is_not_counted(jpn_user: Any, kor_user: Any) -> None:
    mine = put(jpn_user, "indicator", make_label(**REL_BOTH), name="shared")
    hidden = put(kor_user, "threat-actor", make_label(**REL_KOR), name="Hidden actor")
    relate(kor_user, mine, hidden, make_label(**REL_BOTH))
    body = body_of(client_for(jpn_user).get("/threats/"))
    assert "count-relationship" not in body
    assert 'data-testid="count-total">1<' in body


def test_overview_counts_and_lists_threat_information_not_kizuna_records_or_definitions(jpn_user: Any) -> None:
    label = make_label(**REL_JPN)
    put(jpn_user, "indicator", label, name="real indicator")
    for kind in ("kizuna-meeting", "kizuna-agenda-item", "kizuna-action", "kizuna-minutes", "kizuna-report"):
        put(jpn_user, kind, label, name=f"internal {kind}")
    put(jpn_user, "extension-definition", label, name="some extension")
    put(jpn_user, "marking-definition", label, name="some marking")

    body = body_of(client_for(jpn_user).get("/threats/"))
    assert 'data-testid="count-indicator">1<' in body
    assert 'data-testid="count-total">1<' in body
    for kind in ("kizuna-meeting", "kizuna-agenda-item", "kizuna-action", "kizuna-minutes", "kizuna-report",
                 "extension-definition", "marking-definition"):
        assert f"count-{kind}" not in body, kind
    assert "real indicator" in body and "internal kizuna" not in body and "some extension" not in body


def test_nav_has_a_threats_link(jpn_user: Any) -> None:
    body = body_of(client_for(jpn_user).get("/reports/"))
    assert 'data-testid="nav-threats"' in body and 'href="/threats/"' in body


# --- cyber ----------------------------------------------------------------------------------------------------------


def test_cyber_tab_lists_only_visible_objects_of_its_type(jpn_user: Any, kor_user: Any) -> None:
    put(jpn_user, "malware", make_label(**REL_JPN), name="JP malware")
    put(kor_user, "malware", make_label(**REL_KOR), name="KR malware")
    put(jpn_user, "indicator", make_label(**REL_JPN), name="JP indicator")
    response = client_for(jpn_user).get("/threats/cyber/", {"tab": "malware"})
    body = body_of(response)
    assert response.status_code == 200
    assert "JP malware" in body
    assert "KR malware" not in body
    assert "JP indicator" not in body
    assert AuditEntry.objects.filter(action="list", target_type="stix").exists()


def test_cyber_tab_counts_are_over_visible_objects(jpn_user: Any, kor_user: Any) -> None:
    for _ in range(3):
        put(kor_user, "vulnerability", make_label(**REL_KOR), name="CVE-KR")
    put(jpn_user, "vulnerability", make_label(**REL_JPN), name="CVE-JP")
    body = body_of(client_for(jpn_user).get("/threats/cyber/", {"tab": "vulnerabilities"}))
    assert '<span class="tab-count">1</span>' in body
    assert '<span class="tab-count">3</span>' not in body and '<span class="tab-count">4</span>' not in body


def test_search_by_value_finds_only_visible_objects(jpn_user: Any, kor_user: Any) -> None:
    put(jpn_user, "indicator", make_label(**REL_JPN), name="JP C2", values=(("ipv4-addr", "198.51.100.7"),))
    put(kor_user, "indicator", make_label(**REL_KOR), name="KR C2", values=(("ipv4-addr", "198.51.100.7"),))
    put(jpn_user, "indicator", make_label(**REL_JPN), name="Other", values=(("ipv4-addr", "203.0.113.1"),))
    body = body_of(client_for(jpn_user).get("/threats/cyber/", {"q": "198.51.100.7"}))
    assert "JP C2" in body
    assert "KR C2" not in body and "Other" not in body
    kr = body_of(client_for(kor_user).get("/threats/cyber/", {"q": "203.0.113.1"}))
    assert "Other" not in kr and "No objects match." in kr


def test_cyber_list_pages_with_keyset_cursors(jpn_user: Any) -> None:
    for i in range(30):
        put(jpn_user, "indicator", make_label(**REL_JPN), name=f"ind-{i:02d}")
    client = client_for(jpn_user)
    first = body_of(client.get("/threats/cyber/", {"tab": "indicators"}))
    assert first.count("/threats/objects/indicator--") == 25
    assert 'data-testid="next-page"' in first
    next_url = first.split('rel="next" data-testid="next-page"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = body_of(client.get("/threats/cyber/" + next_url.replace("&amp;", "&")))
    assert second.count("/threats/objects/indicator--") == 5
    assert 'data-testid="next-page"' not in second


def test_broken_cursor_is_a_readable_error(jpn_user: Any) -> None:
    response = client_for(jpn_user).get("/threats/cyber/", {"cursor": "not-a-cursor"})
    assert response.status_code == 400
    assert "start again from the first page" in body_of(response)


# --- object detail --------------------------------------------------------------------------------------------------


def test_object_detail_is_404_for_invisible_and_missing_objects(jpn_user: Any, kor_user: Any) -> None:
    hidden = put(kor_user, "malware", make_label(**REL_KOR), name="KR malware")
    client = client_for(jpn_user)
    assert client.get(f"/threats/objects/{hidden.stix_id}/").status_code == 404
    assert client.get(f"/threats/objects/malware--{uuid.uuid4()}/").status_code == 404
    assert client.post(f"/threats/objects/{hidden.stix_id}/seen/").status_code == 404
    assert client_for(kor_user).get(f"/threats/objects/{hidden.stix_id}/").status_code == 200


def test_relationship_with_an_invisible_end_is_404_and_not_listed(jpn_user: Any, kor_user: Any) -> None:
    mine = put(jpn_user, "indicator", make_label(**REL_BOTH), name="shared indicator")
    hidden = put(kor_user, "threat-actor", make_label(**REL_KOR), name="Hidden actor")
    rel = relate(kor_user, mine, hidden, make_label(**REL_BOTH))
    client = client_for(jpn_user)
    assert client.get(f"/threats/objects/{rel.stix_id}/").status_code == 404
    body = body_of(client.get(f"/threats/objects/{mine.stix_id}/"))
    assert rel.stix_id not in body and "Hidden actor" not in body and hidden.stix_id not in body
    assert "No relationships you may see." in body
    kr = body_of(client_for(kor_user).get(f"/threats/objects/{mine.stix_id}/"))
    assert "Hidden actor" in kr and rel.stix_id in kr


def test_object_detail_shows_properties_label_audience_and_escaped_json(jpn_user: Any) -> None:
    obj = put(jpn_user, "indicator", make_label(communities=["CYBER"], **REL_JPN), name="Evil <b>C2</b>",
              data={"pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix",
                    "valid_from": "2026-03-01T00:00:00Z", "description": "<script>alert(1)</script>",
                    "indicator_types": ["malicious-activity"], "kill_chain_phases": [
                        {"kill_chain_name": "mitre-attack", "phase_name": "command-and-control"}]})
    response = client_for(jpn_user).get(f"/threats/objects/{obj.stix_id}/")
    body = body_of(response)
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "Evil &lt;b&gt;C2&lt;/b&gt;" in body
    assert 'data-testid="raw-json"' in body
    assert "[ipv4-addr:value = &#x27;198.51.100.7&#x27;]" in body
    assert "malicious-activity" in body and "command-and-control" in body
    properties = body.split('id="properties"')[1].split("</section>")[0]
    assert "<li>malicious-activity</li>" in properties
    assert "(&#x27;key&#x27;" not in properties  # a property is rendered as its value, never as the row's dict
    assert "NATO UNCLASSIFIED REL TO JPN // CYBER // TLP:AMBER" in body
    assert "Visible to people of Japan" in body
    assert 'data-testid="originator">Japan Ministry of Defense' in body or jpn_user.organisation.name in body
    page = audit_page(body)
    assert page.violations == []
    assert page.banners and "REL TO JPN" in body.split('data-testid="banner-top">')[1].split("<")[0]
    assert AuditEntry.objects.filter(action="read", target_type="stix", target_ids=str(obj.pk)).exists()


def test_detail_and_lists_show_who_shared_an_object_and_who_created_it(jpn_user: Any, kor_user: Any) -> None:
    label = make_label(**REL_BOTH)
    mitre = put(jpn_user, "identity", label, name="The MITRE Corporation - DHS Support Team",
                data={"identity_class": "organization"})
    indicator = put(jpn_user, "indicator", label, name="Poison Ivy C2",
                    data={"created_by_ref": mitre.stix_id, "pattern": "[ipv4-addr:value = '198.51.100.7']",
                          "pattern_type": "stix", "valid_from": "2026-03-01T00:00:00Z"})
    client = client_for(jpn_user)
    detail = body_of(client.get(f"/threats/objects/{indicator.stix_id}/"))
    assert f'data-testid="originator">{jpn_user.organisation.name}<' in detail
    created_by = detail.split('data-testid="created-by">', 1)[1].split("</dd>", 1)[0]
    assert "The MITRE Corporation - DHS Support Team" in created_by and mitre.stix_id in created_by
    listing = body_of(client.get("/threats/cyber/"))
    assert "created by" in listing and "The MITRE Corporation - DHS Support Team" in listing

    # An author the reader may not see is shown by its id only, never named or linked.
    hidden = put(kor_user, "identity", make_label(**REL_KOR), name="Hidden author",
                 data={"identity_class": "organization"})
    other = put(jpn_user, "malware", label, name="Other", data={"is_family": True, "created_by_ref": hidden.stix_id})
    detail = body_of(client.get(f"/threats/objects/{other.stix_id}/"))
    created_by = detail.split('data-testid="created-by">', 1)[1].split("</dd>", 1)[0]
    assert hidden.stix_id in created_by and "Hidden author" not in detail and "href" not in created_by
    # Nothing stated: said so.
    plain = put(jpn_user, "malware", label, name="Plain", data={"is_family": True})
    detail = body_of(client.get(f"/threats/objects/{plain.stix_id}/"))
    assert "not stated" in detail.split('data-testid="created-by">', 1)[1].split("</dd>", 1)[0]


def test_the_banner_counts_the_label_of_the_creator_it_names(jpn_user: Any) -> None:
    author = put(jpn_user, "identity", make_label(releasable_to=["JPN"], classification="RESTRICTED"),
                 name="Restricted author", data={"identity_class": "organization"})
    obj = put(jpn_user, "malware", make_label(**REL_BOTH), name="Shared malware",
              data={"is_family": True, "created_by_ref": author.stix_id})
    for url in (f"/threats/objects/{obj.stix_id}/", "/threats/cyber/?tab=malware", "/threats/"):
        body = body_of(client_for(jpn_user).get(url))
        assert "Restricted author" in body, url
        assert "NATO RESTRICTED" in body.split('data-testid="banner-top">')[1].split("<")[0], url


def test_references_to_invisible_objects_are_not_linked_or_named(jpn_user: Any, kor_user: Any) -> None:
    hidden = put(kor_user, "identity", make_label(**REL_KOR), name="Secret Identity")
    visible = put(jpn_user, "identity", make_label(**REL_JPN), name="Known Identity")
    obj = put(jpn_user, "malware", make_label(**REL_JPN), name="m",
              data={"created_by_ref": visible.stix_id, "object_refs": [hidden.stix_id], "is_family": True})
    body = body_of(client_for(jpn_user).get(f"/threats/objects/{obj.stix_id}/"))
    assert f'href="/threats/objects/{visible.stix_id}/"' in body and "Known Identity" in body
    assert f'href="/threats/objects/{hidden.stix_id}/"' not in body
    assert "Secret Identity" not in body


def test_versions_list_only_visible_versions(jpn_user: Any) -> None:
    sid_ = sid("malware")
    put(jpn_user, "malware", make_label(releasable_to=["JPN"], tlp="RED", recipients=["org:NATO-IS"]),
        stix_id=sid_, name="old", modified="2026-01-01T00:00:00.000Z", is_current=False)
    put(jpn_user, "malware", make_label(**REL_JPN), stix_id=sid_, name="v2", modified="2026-02-01T00:00:00.000Z",
        is_current=False)
    put(jpn_user, "malware", make_label(**REL_JPN), stix_id=sid_, name="v3", modified="2026-03-01T00:00:00.000Z")
    body = body_of(client_for(jpn_user).get(f"/threats/objects/{sid_}/"))
    versions = body.split('data-testid="versions"')[1].split("</table>")[0]
    assert 'datetime="2026-02-01T00:00:00Z"' in versions and 'datetime="2026-03-01T00:00:00Z"' in versions
    assert "2026-01-01" not in versions


def test_also_reported_by_names_only_visible_objects_of_other_originators(
        jpn_user: Any, kor_user: Any, make_user: Any) -> None:
    nzl = make_user("aroha", "NZL", "NZL-NCSC")
    value = (("domain-name", "evil.example"),)
    mine = put(jpn_user, "indicator", make_label(releasable_to=["JPN", "KOR", "NZL"]), name="JP view",
               values=value)
    put(kor_user, "indicator", make_label(**REL_BOTH), name="KR view", values=value)
    put(nzl, "indicator", make_label(releasable_to=["NZL"]), name="NZ view", values=value)
    body = body_of(client_for(jpn_user).get(f"/threats/objects/{mine.stix_id}/"))
    table = body.split('data-testid="also-reported"')[1].split("</table>")[0]
    assert "KR view" in table and kor_user.organisation.name in table
    assert "NZ view" not in table and nzl.organisation.name not in table


# --- import -----------------------------------------------------------------------------------------------------------


def job_for(user: Any, **fields: Any) -> ImportJob:
    return ImportJob.objects.create(user=user, source="bundle.json", default_label_key=make_label(**REL_JPN).key(),
                                    **fields)


def test_import_job_is_visible_only_to_its_owner(jpn_user: Any, kor_user: Any, make_user: Any) -> None:
    job = job_for(jpn_user, status=ImportStatus.RUNNING, total_bytes=1000, read_bytes=250, accepted=12)
    colleague = make_user("taro", "JPN", "JPN-MOD", role="coordinator")
    for other in (kor_user, colleague):
        client = client_for(other)
        assert client.get(f"/threats/import/{job.pk}/").status_code == 404
        assert client.get(f"/threats/import/{job.pk}/progress/").status_code == 404
        assert "bundle.json" not in body_of(client.get("/threats/import/"))
    owner = client_for(jpn_user).get(f"/threats/import/{job.pk}/")
    assert owner.status_code == 200
    assert client_for(jpn_user).get(f"/threats/import/{job.pk + 999}/").status_code == 404


def test_running_job_polls_its_progress_and_a_finished_one_stops(jpn_user: Any) -> None:
    job = job_for(jpn_user, status=ImportStatus.RUNNING, total_bytes=1000, read_bytes=250, accepted=12)
    client = client_for(jpn_user)
    page = body_of(client.get(f"/threats/import/{job.pk}/"))
    assert f'hx-get="/threats/import/{job.pk}/progress/"' in page and 'hx-trigger="every 1s"' in page
    assert '<progress max="100" value="25"' in page
    assert "NATO UNCLASSIFIED REL TO JPN // TLP:AMBER" in page
    assert audit_page(page).violations == []

    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.DONE, read_bytes=1000, accepted=40, unchanged=3, rejected=2,
        rejected_by_reason={"invalid pattern": 2},
        errors=[{"index": 4, "id": "indicator--x", "reason": "invalid pattern: unexpected token"}])
    fragment = body_of(client.get(f"/threats/import/{job.pk}/progress/"))
    assert "hx-trigger" not in fragment
    assert 'data-testid="accepted">40<' in fragment and 'data-testid="unchanged">3<' in fragment
    assert "invalid pattern: unexpected token" in fragment and "indicator--x" in fragment


def test_import_form_saves_the_upload_and_starts_a_job(jpn_user: Any, monkeypatch: Any, settings: Any,
                                                       tmp_path: Path) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kizuna.threats import services

    settings.DATA_DIR = tmp_path
    calls: list[dict[str, Any]] = []

    def fake_start(user: Any, path: Path, source: str, default_label: Label, fmt: str = "stix",
                   remove_when_done: bool = False) -> ImportJob:
        calls.append({"path": path, "source": source, "label": default_label, "fmt": fmt,
                      "content": Path(path).read_bytes(), "remove_when_done": remove_when_done})
        return job_for(user)

    monkeypatch.setattr(services, "start_import_job", fake_start)
    upload = SimpleUploadedFile("event.json", b'{"Event": {}}', content_type="application/json")
    response = client_for(jpn_user).post("/threats/import/", {
        "bundle": upload, "fmt": "misp", "label_policy": "NATO", "label_preset": "custom",
        "label_classification": "UNCLASSIFIED", "label_releasable_to": ["JPN", "KOR"], "label_tlp": "GREEN",
        "label_recipients": "",
    })
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert response["Location"] == f"/threats/import/{job.pk}/"
    assert calls[0]["fmt"] == "misp" and calls[0]["source"] == "event.json"
    assert calls[0]["content"] == b'{"Event": {}}'
    assert calls[0]["label"] == make_label(releasable_to=["JPN", "KOR"], tlp="GREEN")
    assert Path(calls[0]["path"]).parent == tmp_path / "imports"
    assert calls[0]["remove_when_done"]  # the upload is the job's: removed when it ends


def test_import_page_renders_the_label_picker(jpn_user: Any) -> None:
    body = body_of(client_for(jpn_user).get("/threats/import/"))
    assert 'name="label_classification"' in body and 'name="bundle"' in body
    assert audit_page(body).violations == []


def test_viewer_may_not_import(make_user: Any) -> None:
    viewer = make_user("kenji", "JPN", "JPN-MOD", role="viewer")
    assert client_for(viewer).get("/threats/import/").status_code == 403


# --- export -----------------------------------------------------------------------------------------------------------


def test_export_downloads_a_bundle_of_visible_objects_only(jpn_user: Any, kor_user: Any) -> None:
    mine = put(jpn_user, "malware", make_label(**REL_JPN), name="JP malware", data={"is_family": True})
    theirs = put(kor_user, "malware", make_label(**REL_KOR), name="KR malware", data={"is_family": True})
    client = client_for(jpn_user)
    page = body_of(client.get("/threats/export/"))
    assert 'value="malware"' in page
    response = client.get("/threats/export/", {"download": "1", "types": ["malware"]})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Disposition"].startswith("attachment;")
    bundle = json.loads(b"".join(response.streaming_content))  # type: ignore[arg-type]
    ids = {o["id"] for o in bundle["objects"]}
    assert mine.stix_id in ids and theirs.stix_id not in ids
    assert AuditEntry.objects.filter(action="export", actor=jpn_user.username).exists()


def test_export_offers_only_types_the_reader_may_see(jpn_user: Any, kor_user: Any) -> None:
    put(kor_user, "threat-actor", make_label(**REL_KOR), name="KR actor")
    page = body_of(client_for(jpn_user).get("/threats/export/"))
    assert 'value="threat-actor"' not in page
    response = client_for(jpn_user).get("/threats/export/", {"download": "1", "types": ["threat-actor"]})
    assert response.status_code == 400


def test_export_offers_kizuna_records_only_on_request(jpn_user: Any) -> None:
    label = make_label(**REL_JPN)
    malware = put(jpn_user, "malware", label, name="JP malware", data={"is_family": True})
    meeting = put(jpn_user, "kizuna-meeting", label, name="Staff talks")
    report = put(jpn_user, "kizuna-report", label, name="Quarterly report")
    put(jpn_user, "extension-definition", label, name="some extension")
    client = client_for(jpn_user)
    page = body_of(client.get("/threats/export/"))
    assert 'value="malware"' in page
    for kind in ("kizuna-meeting", "kizuna-report", "extension-definition"):
        assert f'value="{kind}"' not in page, kind
    assert 'name="include_records"' in page

    def exported(**params: Any) -> set[str]:
        response = client.get("/threats/export/", {"download": "1", **params})
        assert response.status_code == 200
        return {o["id"] for o in json.loads(b"".join(response.streaming_content))["objects"]}  # type: ignore[arg-type]

    everything = exported()
    assert malware.stix_id in everything
    assert meeting.stix_id not in everything and report.stix_id not in everything
    on_request = exported(include_records="on")
    assert {malware.stix_id, meeting.stix_id, report.stix_id} <= on_request
    chosen = exported(types=["malware"], include_records="on")
    assert {malware.stix_id, meeting.stix_id, report.stix_id} <= chosen
    assert exported(types=["malware"]) & {meeting.stix_id, report.stix_id} == set()
    response = client.get("/threats/export/", {"download": "1", "types": ["kizuna-meeting"]})
    assert response.status_code == 400  # not offered as a type of its own


# --- pages in general ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/threats/", "/threats/cyber/", "/threats/import/", "/threats/export/",
                                 "/threats/watch/", "/threats/inbox/"])
def test_pages_have_no_inline_script_or_style(jpn_user: Any, url: str) -> None:
    put(jpn_user, "indicator", make_label(**REL_JPN), name="x")
    response = client_for(jpn_user).get(url)
    assert response.status_code == 200
    assert audit_page(body_of(response)).violations == []


def test_pages_need_sign_in() -> None:
    response = Client().get("/threats/cyber/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_threat_pages_render_in_japanese(jpn_user: Any) -> None:
    from django.conf import settings

    obj = put(jpn_user, "indicator", make_label(**REL_JPN), name="x")
    client = client_for(jpn_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    overview = body_of(client.get("/threats/"))
    assert '<html lang="ja">' in overview
    for text in ("脅威情報共有", "閲覧できる情報（種類別）", "ウォッチフィルター", "取り込み", "書き出し"):
        assert text in overview, text
    detail = body_of(client.get(f"/threats/objects/{obj.stix_id}/"))
    for text in ("国別の目撃情報", "当方でも確認", "他組織からの報告", "プロパティ"):
        assert text in detail, text
    assert "Sightings by nation" not in detail
