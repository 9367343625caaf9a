"""The report pages obey the label rules: create through the form, list with filters and keyset pages, detail,
attachments, edit, withdraw — and a reader of another nation meets 404s and empty lists, never a hint."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kizuna.core.models import AuditEntry, Version
from kizuna.reports.models import Attachment, Report, ReportStatus
from kizuna.reports.services import ReportInput, do_add_attachment, do_create_report, do_withdraw_report
from tests.conftest import make_label

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _attachments_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "attachments"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Cyber exercise lessons",
        "summary": "What we learned",
        "body": "## Findings\n\n*Patch* faster.",
        "kind": "report",
        "focus_areas": ["cyber"],
        "label_policy": "NATO",
        "label_preset": "custom",
        "label_classification": "UNCLASSIFIED",
        "label_releasable_to": ["JPN"],
        "label_tlp": "AMBER",
        "label_recipients": "",
    }
    data.update(overrides)
    return data


def create(user: Any, title: str = "Port visit", **label_kwargs: Any) -> Report:
    return do_create_report(user, ReportInput(title=title, label=make_label(**label_kwargs)))


def test_report_created_through_the_form_appears_in_the_list(jpn_user: Any) -> None:
    client = client_for(jpn_user)
    response = client.post("/reports/new/", form_data())
    assert response.status_code == 302
    report = Report.objects.get(title="Cyber exercise lessons")
    assert response["Location"] == f"/reports/{report.pk}/"
    listing = client.get("/reports/")
    assert listing.status_code == 200
    assert "Cyber exercise lessons" in listing.content.decode()
    assert "NATO UNCLASSIFIED REL TO JPN // TLP:AMBER" in listing.content.decode()
    assert AuditEntry.objects.filter(action="list", target_ids=str(report.pk)).exists()


def test_new_report_page_renders_the_label_picker_with_presets(jpn_user: Any) -> None:
    response = client_for(jpn_user).get("/reports/new/")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="label_classification"' in body
    assert "NATO + IP4 (all partners)" in body
    assert "My nation only (JPN)" in body
    assert "You are included." in body


def test_preset_without_javascript_is_expanded_by_the_server(jpn_user: Any) -> None:
    response = client_for(jpn_user).post("/reports/new/", form_data(label_preset="nato_ip4"))
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.label.display == "NATO UNCLASSIFIED REL TO NATO, IP4 // TLP:AMBER"


def test_form_refuses_a_label_the_author_could_not_see(jpn_user: Any) -> None:
    response = client_for(jpn_user).post("/reports/new/", form_data(label_releasable_to=["KOR"]))
    assert response.status_code == 400
    assert "could not see an item with this label yourself" in response.content.decode()
    assert not Report.objects.exists()


def test_form_shows_missing_title_as_a_field_error(jpn_user: Any) -> None:
    response = client_for(jpn_user).post("/reports/new/", form_data(title=""))
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert not Report.objects.exists()


def test_attachment_uploaded_on_create_downloads_with_safe_headers(jpn_user: Any) -> None:
    client = client_for(jpn_user)
    upload = SimpleUploadedFile("notes.txt", b"hello partners\n", content_type="text/plain")
    response = client.post("/reports/new/", {**form_data(), "attachment": upload})
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    detail = client.get(response["Location"]).content.decode()
    url = f"/reports/{attachment.report_id}/attachments/{attachment.pk}/"
    assert url in detail
    download = client.get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"hello partners\n"  # type: ignore[attr-defined]
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert AuditEntry.objects.filter(action="download", target_ids=str(attachment.report_id)).exists()


def test_refused_attachment_on_create_leaves_no_report(jpn_user: Any) -> None:
    upload = SimpleUploadedFile("tool.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    response = client_for(jpn_user).post("/reports/new/", {**form_data(), "attachment": upload})
    assert response.status_code == 400
    assert "are not accepted" in response.content.decode()
    assert not Report.objects.exists()
    assert not Attachment.objects.exists()


def test_attachment_of_wrong_type_on_detail_page_is_a_form_error(jpn_user: Any) -> None:
    report = create(jpn_user, releasable_to=["JPN"])
    fake = SimpleUploadedFile("paper.pdf", b"not a pdf at all", content_type="application/pdf")
    response = client_for(jpn_user).post(f"/reports/{report.pk}/attachments/", {"attachment": fake})
    assert response.status_code == 400
    assert "does not look like a .pdf file" in response.content.decode()
    assert not Attachment.objects.exists()


def test_korean_user_gets_404_everywhere_on_a_japan_only_report(jpn_user: Any, kor_user: Any) -> None:
    report = create(jpn_user, title="Japan eyes only", releasable_to=["JPN"])
    attachment = do_add_attachment(jpn_user, report, "a.txt", io.BytesIO(b"secret text"))
    client = client_for(kor_user)
    base = f"/reports/{report.pk}"
    for url in (f"{base}/", f"{base}/edit/", f"{base}/withdraw/", f"{base}/attachments/{attachment.pk}/"):
        assert client.get(url).status_code == 404, url
    for url in (f"{base}/edit/", f"{base}/withdraw/", f"{base}/comments/", f"{base}/attachments/"):
        assert client.post(url, {"body": "x", "reason": "x"}).status_code == 404, url
    assert "Japan eyes only" not in client.get("/reports/").content.decode()
    search = client.get("/reports/", {"q": "Japan eyes", "status": "all"})
    assert search.status_code == 200
    assert "Japan eyes only" not in search.content.decode()
    assert Report.objects.get(pk=report.pk).status == ReportStatus.ACTIVE


def test_missing_report_is_the_same_404(jpn_user: Any) -> None:
    assert client_for(jpn_user).get("/reports/999999/").status_code == 404


def test_list_pages_follow_the_cursor_without_repeats(jpn_user: Any) -> None:
    for n in range(30):
        create(jpn_user, title=f"Report number {n:02d}", releasable_to=["JPN"])
    client = client_for(jpn_user)
    first = client.get("/reports/")
    assert first.status_code == 200
    titles_1 = {f"Report number {n:02d}" for n in range(30) if f"Report number {n:02d}<" in first.content.decode()}
    assert len(titles_1) == 25
    next_url = first.context["next_url"]
    assert next_url.startswith("?cursor=")
    second = client.get("/reports/" + next_url)
    titles_2 = {f"Report number {n:02d}" for n in range(30) if f"Report number {n:02d}<" in second.content.decode()}
    assert len(titles_2) == 5
    assert titles_1.isdisjoint(titles_2)
    assert second.context["next_url"] == ""
    assert "First page" in second.content.decode()


def test_forged_cursor_gives_a_clear_error_not_a_500(jpn_user: Any) -> None:
    response = client_for(jpn_user).get("/reports/", {"cursor": "not-a-cursor!!"})
    assert response.status_code == 400
    assert "the page cursor is not valid" in response.content.decode()


def test_unknown_filter_value_gives_a_clear_error(jpn_user: Any) -> None:
    response = client_for(jpn_user).get("/reports/", {"focus_area": "bogus", "status": "sideways"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_filters_narrow_the_list(jpn_user: Any) -> None:
    do_create_report(jpn_user, ReportInput(title="Maritime paper", label=make_label(releasable_to=["JPN"]),
                                           focus_areas=["maritime"], kind="best_practice"))
    create(jpn_user, title="Cyber note", releasable_to=["JPN"])
    body = client_for(jpn_user).get("/reports/", {"focus_area": "maritime", "kind": "best_practice"}).content.decode()
    assert "Maritime paper" in body
    assert "Cyber note" not in body


def test_markdown_script_is_stripped_from_the_body(jpn_user: Any) -> None:
    report = do_create_report(jpn_user, ReportInput(
        title="Sanitised", label=make_label(releasable_to=["JPN"]),
        body="**bold** <script>alert('x')</script> [x](javascript:alert(1))",
    ))
    body = client_for(jpn_user).get(f"/reports/{report.pk}/").content.decode()
    assert "<strong>bold</strong>" in body
    assert "<script>alert" not in body  # at most shown as text, never as an element
    assert 'href="javascript' not in body


def test_detail_shows_label_audience_history_and_edit_buttons(jpn_user: Any) -> None:
    report = create(jpn_user, releasable_to=["IP4"], communities=["CYBER"])
    response = client_for(jpn_user).get(f"/reports/{report.pk}/")
    body = response.content.decode()
    assert "NATO UNCLASSIFIED REL TO IP4 // CYBER // TLP:AMBER" in body
    assert "Japan" in body and "New Zealand" in body
    assert f"/reports/{report.pk}/edit/" in body
    assert "created" in body  # the first version's summary
    assert AuditEntry.objects.filter(action="read", target_ids=str(report.pk)).exists()


def test_reader_of_another_organisation_sees_no_edit_buttons_and_cannot_edit(jpn_user: Any, make_user: Any) -> None:
    report = create(jpn_user, releasable_to=["JPN"])
    other = make_user("ken", "JPN", "JPN-NISC")
    client = client_for(other)
    body = client.get(f"/reports/{report.pk}/").content.decode()
    assert f"/reports/{report.pk}/edit/" not in body
    response = client.post(f"/reports/{report.pk}/edit/", form_data(title="Hijacked"))
    assert response.status_code == 403
    assert Report.objects.get(pk=report.pk).title == "Port visit"


def test_edit_saves_a_new_version_and_relabels(jpn_user: Any) -> None:
    report = create(jpn_user, releasable_to=["JPN"])
    client = client_for(jpn_user)
    assert client.get(f"/reports/{report.pk}/edit/").status_code == 200
    response = client.post(f"/reports/{report.pk}/edit/", form_data(title="Port visit (rev.)",
                                                                   label_releasable_to=["IP4"]))
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.title == "Port visit (rev.)"
    assert report.version == 2
    assert report.label.display == "NATO UNCLASSIFIED REL TO IP4 // TLP:AMBER"
    assert Version.objects.filter(object_id=report.pk).count() == 2


def test_comment_is_added_and_shown(jpn_user: Any, make_user: Any) -> None:
    report = create(jpn_user, releasable_to=["JPN"])
    reader = make_user("taro", "JPN", "JPN-NISC", role="viewer")
    client = client_for(reader)
    assert client.post(f"/reports/{report.pk}/comments/", {"body": "Useful, thanks"}).status_code == 302
    assert "Useful, thanks" in client.get(f"/reports/{report.pk}/").content.decode()
    empty = client.post(f"/reports/{report.pk}/comments/", {"body": "  "})
    assert empty.status_code == 400


def test_withdrawn_report_appears_under_status_withdrawn_only(jpn_user: Any) -> None:
    report = create(jpn_user, title="Superseded plan", releasable_to=["JPN"])
    client = client_for(jpn_user)
    assert "Withdraw report" in client.get(f"/reports/{report.pk}/withdraw/").content.decode()
    response = client.post(f"/reports/{report.pk}/withdraw/", {"reason": "superseded"})
    assert response.status_code == 302
    assert "Superseded plan" not in client.get("/reports/").content.decode()
    assert "Superseded plan" in client.get("/reports/", {"status": "withdrawn"}).content.decode()
    assert "Superseded plan" in client.get("/reports/", {"status": "all"}).content.decode()
    detail = client.get(f"/reports/{report.pk}/").content.decode()
    assert 'data-testid="withdrawn-notice"' in detail
    assert f"/reports/{report.pk}/edit/" not in detail


def test_withdrawn_report_cannot_be_edited(jpn_user: Any) -> None:
    report = create(jpn_user, releasable_to=["JPN"])
    do_withdraw_report(jpn_user, report)
    response = client_for(jpn_user).post(f"/reports/{report.pk}/edit/", form_data(title="Changed"))
    assert response.status_code == 302
    assert Report.objects.get(pk=report.pk).title == "Port visit"


def test_viewer_cannot_open_the_new_report_form(make_user: Any) -> None:
    viewer = make_user("yuki", "JPN", "JPN-MOD", role="viewer")
    assert client_for(viewer).get("/reports/new/").status_code == 403


def test_anonymous_visitor_is_sent_to_login(jpn_user: Any) -> None:
    report = create(jpn_user, releasable_to=["JPN"])
    for url in ("/reports/", f"/reports/{report.pk}/", "/reports/new/", "/reports/label-preview/"):
        response = Client().get(url)
        assert response.status_code == 302, url
        assert "/login/" in response["Location"]
