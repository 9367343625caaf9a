"""Each endpoint of /api/v1/reports does its job, keeps the contract's JSON shape, and audits reads with the client
address. Every response here is also checked against the OpenAPI document by the ``Api`` client."""

from __future__ import annotations

from typing import Any

from kizuna.core.models import AuditEntry, Version
from kizuna.reports.models import Attachment, Comment, Report
from tests.api.conftest import label_api

REPORT_KEYS = {
    "id", "title", "summary", "body", "body_html", "kind", "focus_areas", "status", "label", "label_display",
    "originator", "author", "version", "created_at", "updated_at", "attachments",
}


def test_create_report_returns_201_and_the_full_report(jpn_user: Any, api_for: Any) -> None:
    api = api_for(jpn_user)
    response = api.post("reports", {
        "title": "Typhoon season lessons",
        "summary": "What worked",
        "body": "# Findings\n\n<script>alert(1)</script> **bold** [x](javascript:alert(1))",
        "kind": "best_practice",
        "focus_areas": ["hadr", "maritime"],
        "label": label_api(releasable_to=["NATO", "IP4"], communities=["HADR"]),
    })
    assert response.status_code == 201, response.content
    data = response.json()
    assert set(data) == REPORT_KEYS
    assert data["title"] == "Typhoon season lessons"
    assert data["kind"] == "best_practice"
    assert data["focus_areas"] == ["hadr", "maritime"]
    assert data["status"] == "active"
    assert data["label"] == {
        "policy": "NATO", "classification": "UNCLASSIFIED",
        "categories": {"communities": ["HADR"], "releasable_to": ["IP4", "NATO"]}, "tlp": "AMBER", "recipients": [],
    }
    assert data["label_display"] == "NATO UNCLASSIFIED REL TO NATO, IP4 // HADR // TLP:AMBER"
    assert data["originator"] == {"code": "JPN-MOD", "name": jpn_user.organisation.name}
    assert data["author"] == "hanako"
    assert data["version"] == 1
    assert "<script" not in data["body_html"]
    assert 'href="javascript' not in data["body_html"]
    assert "<strong>bold</strong>" in data["body_html"]
    assert Report.objects.filter(pk=data["id"], title="Typhoon season lessons").exists()


def test_read_report_returns_it_and_audits_the_read_with_address(jpn_user: Any, api_for: Any, report_of: Any) -> None:
    report = report_of(jpn_user)
    response = api_for(jpn_user).get(f"reports/{report.pk}", REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 200
    assert response.json()["id"] == report.pk
    entry = AuditEntry.objects.filter(action="read", actor="hanako").latest("id")
    assert entry.target_ids == str(report.pk)
    assert entry.address == "203.0.113.7"
    assert entry.label_id == report.label_id


def test_list_returns_items_and_next_cursor_without_a_count(jpn_user: Any, api_for: Any, report_of: Any) -> None:
    first = report_of(jpn_user, title="one")
    second = report_of(jpn_user, title="two")
    response = api_for(jpn_user).get("reports")
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"items", "next_cursor"}
    assert [item["id"] for item in data["items"]] == [second.pk, first.pk]
    assert data["next_cursor"] is None
    assert all(set(item) == REPORT_KEYS for item in data["items"])
    entry = AuditEntry.objects.filter(action="list", actor="hanako").latest("id")
    assert entry.target_ids == f"{second.pk},{first.pk}"


def test_list_filters_by_text_kind_focus_area_and_originator(
    jpn_user: Any, kor_user: Any, api_for: Any, report_of: Any
) -> None:
    api = api_for(jpn_user)
    ip4 = label_api(releasable_to=["IP4"])
    cyber = api.post("reports", {"title": "Ransomware wave", "focus_areas": ["cyber"], "label": ip4}).json()
    paper = api.post("reports", {"title": "Port security", "kind": "best_practice", "focus_areas": ["maritime"],
                                 "label": label_api(releasable_to=["IP4"])}).json()
    korean = report_of(kor_user, title="Korean view", releasable_to=["IP4"])

    def ids(query: str) -> list[int]:
        response = api.get(f"reports?{query}")
        assert response.status_code == 200
        return [item["id"] for item in response.json()["items"]]

    assert ids("q=ransom") == [cyber["id"]]
    assert ids("kind=best_practice") == [paper["id"]]
    assert ids("focus_area=maritime") == [paper["id"]]
    assert ids("originator=KOR-MND") == [korean.pk]


def test_patch_changes_only_the_fields_sent_and_adds_a_version(jpn_user: Any, api_for: Any, report_of: Any) -> None:
    report = report_of(jpn_user, title="Draft")
    Report.objects.filter(pk=report.pk).update(summary="keep me")
    response = api_for(jpn_user).patch(f"reports/{report.pk}", {"title": "Final"})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["title"] == "Final"
    assert data["summary"] == "keep me"
    assert data["version"] == 2
    assert Version.objects.filter(object_id=report.pk).count() == 2


def test_patch_of_the_body_shows_the_new_html(jpn_user: Any, api_for: Any, report_of: Any) -> None:
    report = report_of(jpn_user)
    api = api_for(jpn_user)
    assert api.patch(f"reports/{report.pk}", {"body": "*first*"}).json()["body_html"] == "<p><em>first</em></p>\n"
    response = api.patch(f"reports/{report.pk}", {"body": "**second**"})
    assert response.json()["body_html"] == "<p><strong>second</strong></p>\n"
    assert api.get(f"reports/{report.pk}").json()["body_html"] == "<p><strong>second</strong></p>\n"


def test_patch_relabels_through_the_service(jpn_user: Any, api_for: Any, report_of: Any) -> None:
    report = report_of(jpn_user, releasable_to=["JPN"])
    response = api_for(jpn_user).patch(f"reports/{report.pk}", {"label": label_api(releasable_to=["IP4"], tlp="GREEN")})
    assert response.status_code == 200, response.content
    assert response.json()["label"]["categories"] == {"releasable_to": ["IP4"]}
    assert response.json()["label"]["tlp"] == "GREEN"


def test_patch_by_another_organisation_is_refused_with_400(
    jpn_user: Any, make_user: Any, api_for: Any, report_of: Any
) -> None:
    report = report_of(jpn_user, releasable_to=["JPN"])
    nisc = make_user("ken", "JPN", "JPN-NISC")
    response = api_for(nisc).patch(f"reports/{report.pk}", {"title": "Mine now"})
    assert response.status_code == 400
    assert "originating organisation" in response.json()["message"]
    assert Report.objects.get(pk=report.pk).title == "Port visit"


def test_coordinator_of_same_nation_may_relabel(jpn_user: Any, make_user: Any, api_for: Any, report_of: Any) -> None:
    report = report_of(jpn_user, releasable_to=["JPN"])
    coordinator = make_user("sato", "JPN", "JPN-MOFA", role="coordinator")
    response = api_for(coordinator).patch(f"reports/{report.pk}", {"label": label_api(releasable_to=["JPN", "AUS"])})
    assert response.status_code == 200, response.content
    assert response.json()["label"]["categories"]["releasable_to"] == ["AUS", "JPN"]


def test_patch_with_null_field_is_a_400(jpn_user: Any, api_for: Any, report_of: Any) -> None:
    report = report_of(jpn_user)
    response = api_for(jpn_user).patch(f"reports/{report.pk}", {"title": None})
    assert response.status_code == 400
    assert response.json() == {"message": "title cannot be null; leave it out to keep its value", "field": "title"}


def test_delete_withdraws_the_report(jpn_user: Any, api_for: Any, report_of: Any) -> None:
    report = report_of(jpn_user)
    api = api_for(jpn_user)
    response = api.delete(f"reports/{report.pk}")
    assert response.status_code == 204
    assert response.content == b""
    assert Report.objects.get(pk=report.pk).status == "withdrawn"
    assert api.get(f"reports/{report.pk}").json()["status"] == "withdrawn"
    assert api.get("reports").json()["items"] == []
    assert [i["id"] for i in api.get("reports?status=withdrawn").json()["items"]] == [report.pk]
    assert [i["id"] for i in api.get("reports?status=all").json()["items"]] == [report.pk]


def test_versions_show_only_those_the_caller_may_see(jpn_user: Any, kor_user: Any, api_for: Any, report_of: Any) -> None:
    report = report_of(jpn_user, releasable_to=["JPN"])
    api_for(jpn_user).patch(f"reports/{report.pk}", {"label": label_api(releasable_to=["IP4"])})
    own = api_for(jpn_user).get(f"reports/{report.pk}/versions")
    assert [v["number"] for v in own.json()] == [1, 2]
    korean = api_for(kor_user).get(f"reports/{report.pk}/versions")
    assert korean.status_code == 200
    assert [v["number"] for v in korean.json()] == [2]  # version 1 was REL TO JPN only
    assert korean.json()[0]["label"]["categories"] == {"releasable_to": ["IP4"]}
    assert AuditEntry.objects.filter(action="read.versions", actor="minjun").exists()


def test_comments_can_be_added_and_listed(jpn_user: Any, kor_user: Any, api_for: Any, report_of: Any) -> None:
    report = report_of(jpn_user, releasable_to=["IP4"])
    created = api_for(kor_user).post(f"reports/{report.pk}/comments", {"body": "Agreed, *see annex*"})
    assert created.status_code == 201, created.content
    assert created.json()["author"] == "minjun"
    assert "<em>see annex</em>" in created.json()["body_html"]
    listed = api_for(jpn_user).get(f"reports/{report.pk}/comments")
    assert [c["body"] for c in listed.json()] == ["Agreed, *see annex*"]
    assert AuditEntry.objects.filter(action="read.comments", actor="hanako").exists()


def test_empty_comment_is_a_400(jpn_user: Any, api_for: Any, report_of: Any) -> None:
    report = report_of(jpn_user)
    response = api_for(jpn_user).post(f"reports/{report.pk}/comments", {"body": "  "})
    assert response.status_code == 400
    assert response.json()["field"] == "body"
    assert not Comment.objects.exists()


def test_attachment_upload_and_download_through_the_label_check(
    jpn_user: Any, kor_user: Any, api_for: Any, report_of: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    report = report_of(jpn_user, releasable_to=["JPN"])
    api = api_for(jpn_user)
    uploaded = api.upload(f"reports/{report.pk}/attachments", "notes.txt", "港湾 visit notes\n".encode())
    assert uploaded.status_code == 201, uploaded.content
    att = uploaded.json()
    assert att["filename"] == "notes.txt" and att["content_type"] == "text/plain"
    assert att["url"] == f"/api/v1/reports/{report.pk}/attachments/{att['id']}"
    assert [a["id"] for a in api.get(f"reports/{report.pk}").json()["attachments"]] == [att["id"]]

    download = api.get(att["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == "港湾 visit notes\n".encode()
    assert "attachment" in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"
    assert AuditEntry.objects.filter(action="download", actor="hanako").exists()

    assert api_for(kor_user).get(att["url"]).status_code == 404
    assert api.get(f"reports/{report.pk}/attachments/{att['id'] + 1000}").status_code == 404


def test_attachment_of_a_refused_type_is_a_400_and_nothing_is_kept(
    jpn_user: Any, api_for: Any, report_of: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    report = report_of(jpn_user)
    response = api_for(jpn_user).upload(f"reports/{report.pk}/attachments", "tool.exe", b"MZ\x90\x00")
    assert response.status_code == 400
    assert response.json()["field"] == "file"
    assert not Attachment.objects.exists()
    assert list(tmp_path.iterdir()) == []


def test_me_describes_the_token_holder(jpn_user: Any, api_for: Any) -> None:
    response = api_for(jpn_user).get("me")
    assert response.status_code == 200
    assert response.json() == {
        "username": "hanako",
        "nation": "JPN",
        "organisation": {"code": "JPN-MOD", "name": jpn_user.organisation.name},
        "clearances": {"NATO": "RESTRICTED"},
        "communities": ["CYBER", "HADR", "MARITIME", "SPACE"],
        "role": "contributor",
    }
