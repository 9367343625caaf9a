"""Report pages: list (filters, keyset pages), detail, create, edit, withdraw, comments, attachments, label preview.

Views are thin: every read starts from ``visible_to`` (through ``queries.list_reports`` or
``services.get_report_or_404``, so a report the reader may not see is a 404 exactly like a missing one), every write
goes through ``services.do_*``, and a ``ServiceError`` becomes a form error. Each page notes the labels it shows for
the banner and audits the read.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kizuna.core import audit
from kizuna.core.access import label_display, label_of
from kizuna.core.errors import ServiceError
from kizuna.core.focus import FocusArea
from kizuna.core.markdown import render as render_markdown
from kizuna.core.models import LabelRecord
from kizuna.core.versions import history
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.reports import queries, services
from kizuna.reports.forms import (
    AttachmentForm,
    CommentForm,
    ReportCreateForm,
    ReportFilterForm,
    ReportForm,
    WithdrawForm,
    apply_service_error,
)
from kizuna.reports.models import Report, ReportStatus
from kizuna.web.banner import chip_class, note_document, note_labels
from kizuna.web.labelpicker import LabelPickerWidget, describe, preview_for
from kizuna.web.shortcuts import forbidden, signed_in_user

PAGE_SIZE = 25
_FILTER_KEYS = ("q", "focus_area", "kind", "status", "originator")
_FIELD_NAME = re.compile(r"^[A-Za-z][\w-]{0,40}$")


def _forbidden(request: HttpRequest, report: Report | None, message: str) -> HttpResponse:
    """The reader may see the report but not change it: the refusal page, with the way back."""
    if report is not None:
        return forbidden(request, message, record=report, back_url=reverse("reports:detail", args=[report.pk]),
                         back_text=_("Back to the report"))
    return forbidden(request, message, back_url=reverse("reports:list"), back_text=_("Back to the reports"))


def _chip(record: LabelRecord) -> str:
    return chip_class(record.policy, record.classification)


def _focus_names(codes: list[str]) -> list[str]:
    names = dict(FocusArea.choices)
    return [str(names.get(code, code)) for code in codes]


@login_required
@require_GET
def report_list(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    form = ReportFilterForm(request.GET)
    rows: list[dict[str, Any]] = []
    error = ""
    next_url = first_url = ""
    status = 200
    if form.is_valid():
        data = form.cleaned_data
        filters = queries.ReportFilter(
            q=data["q"], focus_area=data["focus_area"], kind=data["kind"],
            status=data["status"] or ReportStatus.ACTIVE, originator=data["originator"],
        )
        params = {k: data[k] for k in _FILTER_KEYS if data[k]}
        cursor = data["cursor"] or None
        try:
            page = queries.list_reports(subject_for(user), filters, cursor, PAGE_SIZE)
        except ServiceError as exc:
            error, status = exc.message, 400
        else:
            note_labels(request, *(r.label for r in page.items))
            queries.audit_read(user.username, page.items, audit.client_address(request), action="list")
            rows = [
                {"report": r, "label": label_display(label_of(r.label)), "chip": _chip(r.label),
                 "focus_areas": _focus_names(r.focus_areas)}
                for r in page.items
            ]
            if page.next_cursor:
                next_url = "?" + urlencode({**params, "cursor": page.next_cursor})
        if cursor:
            first_url = "?" + urlencode(params) if params else "?"
    else:
        status = 400
        first_url = "?"
    return render(
        request,
        "reports/report_list.html",
        {"form": form, "rows": rows, "error": error, "next_url": next_url, "first_url": first_url},
        status=status,
    )


def _render_detail(
    request: HttpRequest,
    report: Report,
    comment_form: CommentForm | None = None,
    attachment_form: AttachmentForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = signed_in_user(request)
    subject = subject_for(user)
    label = label_of(report.label)
    versions = history(report, subject)
    note_document(request, report.label, *(v.label for v in versions))
    queries.audit_read(user.username, [report], audit.client_address(request))
    context = {
        "report": report,
        "label_text": label_display(label),
        "chip": _chip(report.label),
        "audience": describe(label, user, add_own_organisation=False),
        "body_html": render_markdown(report.body),  # sanitised by nh3: the only value marked safe in the template
        "focus_areas": _focus_names(report.focus_areas),
        "attachments": list(report.attachments.all()),
        "comments": list(report.comments.select_related("author")),
        "versions": [{"version": v, "label": label_display(label_of(v.label)), "chip": _chip(v.label)}
                     for v in versions],
        "may_edit": services.may_edit(user, report),
        "is_withdrawn": report.status == ReportStatus.WITHDRAWN,
        "comment_form": comment_form or CommentForm(),
        "attachment_form": attachment_form or AttachmentForm(),
    }
    return render(request, "reports/report_detail.html", context, status=status)


@login_required
@require_GET
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = services.get_report_or_404(signed_in_user(request), pk)
    return _render_detail(request, report)


@login_required
@require_POST
def comment_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    report = services.get_report_or_404(user, pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.do_add_comment(user, report, form.cleaned_data["body"], audit.client_address(request))
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("Your comment was added."))
            return redirect(f"{report_url(report)}#comments")
    return _render_detail(request, report, comment_form=form, status=400)


@login_required
@require_POST
def attachment_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    report = services.get_report_or_404(user, pk)
    if not services.may_edit(user, report):
        return _forbidden(request, report, _("Only the originating organisation or a coordinator of its nation may "
                                             "attach files to this report."))
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["attachment"]
        try:
            services.do_add_attachment(user, report, upload.name or "", upload, audit.client_address(request))
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("The file was attached."))
            return redirect(f"{report_url(report)}#attachments")
    return _render_detail(request, report, attachment_form=form, status=400)


@login_required
@require_GET
def attachment_download(request: HttpRequest, pk: int, att_id: int) -> FileResponse:
    """Served only after the report's label check; the attachment is looked up among that report's files."""
    user = signed_in_user(request)
    report = services.get_report_or_404(user, pk)
    attachment = report.attachments.filter(pk=att_id).first()
    if attachment is None:
        raise Http404("not found")
    try:
        handle = open(services.attachment_path(attachment), "rb")  # FileResponse closes it
    except FileNotFoundError:
        raise Http404("not found") from None
    audit.record(user.username, "download", "report", [report.pk], report.label_id, audit.client_address(request),
                 {"attachment": attachment.pk})
    response = FileResponse(handle, as_attachment=True, filename=attachment.filename,
                            content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


def report_url(report: Report) -> str:
    from django.urls import reverse

    return reverse("reports:detail", args=[report.pk])


@login_required
@require_http_methods(["GET", "POST"])
def report_create(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if not user.can_contribute:
        return _forbidden(request, None, _("Your role does not allow writing reports; ask a coordinator."))
    if request.method == "POST":
        form = ReportCreateForm(request.POST, request.FILES, user=user)
        if form.is_valid():
            data = form.cleaned_data
            address = audit.client_address(request)
            try:
                # One transaction: a refused attachment leaves no report behind.
                with transaction.atomic():
                    report = services.do_create_report(user, services.ReportInput(
                        title=data["title"], label=data["label"], summary=data["summary"], body=data["body"],
                        kind=data["kind"], focus_areas=list(data["focus_areas"]),
                    ), address)
                    upload = data.get("attachment")
                    if upload:
                        services.do_add_attachment(user, report, upload.name or "", upload, address)
            except ServiceError as exc:
                apply_service_error(form, exc)
            else:
                messages.success(request, _("The report was created."))
                return redirect(report_url(report))
    else:
        form = ReportCreateForm(user=user)
    return render(request, "reports/report_form.html", {"form": form, "report": None},
                  status=400 if form.is_bound else 200)


def _report_to_change(request: HttpRequest, user: User, pk: int,
                      change: Literal["edit", "withdraw"]) -> tuple[Report, HttpResponse | None]:
    """The report a change page works on, and the answer that replaces the page when there is one: the refusal page
    when the reader may see the report but not change it; the report itself, with a message, when it has been
    withdrawn."""
    report = services.get_report_or_404(user, pk)
    if not services.may_edit(user, report):
        return report, _forbidden(request, report, (
            _("Only the originating organisation or a coordinator of its nation may change this report.")
            if change == "edit" else
            _("Only the originating organisation or a coordinator of its nation may withdraw this report.")))
    if report.status == ReportStatus.WITHDRAWN:
        if change == "edit":
            messages.error(request, _("This report has been withdrawn and can no longer be changed."))
        else:
            messages.info(request, _("This report has already been withdrawn."))
        return report, redirect(report_url(report))
    note_labels(request, report.label)
    return report, None


@login_required
@require_http_methods(["GET", "POST"])
def report_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    report, answer = _report_to_change(request, user, pk, "edit")
    if answer is not None:
        return answer
    initial = {
        "title": report.title, "summary": report.summary, "body": report.body, "kind": report.kind,
        "focus_areas": list(report.focus_areas), "label": label_of(report.label),
    }
    if request.method == "POST":
        form = ReportForm(request.POST, user=user, initial=initial)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.do_update_report(
                    user, report, title=data["title"], summary=data["summary"], body=data["body"],
                    kind=data["kind"], focus_areas=list(data["focus_areas"]), label=data["label"],
                    address=audit.client_address(request),
                )
            except ServiceError as exc:
                apply_service_error(form, exc)
            else:
                messages.success(request, _("The report was saved."))
                return redirect(report_url(report))
    else:
        form = ReportForm(user=user, initial=initial)
        queries.audit_read(user.username, [report], audit.client_address(request))
    return render(request, "reports/report_form.html", {"form": form, "report": report},
                  status=400 if form.is_bound else 200)


@login_required
@require_http_methods(["GET", "POST"])
def report_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    report, answer = _report_to_change(request, user, pk, "withdraw")
    if answer is not None:
        return answer
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.do_withdraw_report(user, report, form.cleaned_data["reason"], audit.client_address(request))
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("The report was withdrawn."))
            return redirect(report_url(report))
    return render(request, "reports/report_withdraw.html",
                  {"form": form, "report": report, "label_text": label_display(label_of(report.label)),
                   "chip": _chip(report.label)},
                  status=400 if form.is_bound else 200)


@login_required
@require_GET
def label_preview(request: HttpRequest) -> HttpResponse:
    """The htmx fragment that says who will be able to see an item with the label being picked."""
    user = signed_in_user(request)
    name = request.GET.get("field") or "label"
    if not _FIELD_NAME.match(name):
        name = "label"
    widget = LabelPickerWidget()
    widget.user = user
    choice = widget.value_from_datadict(request.GET, {}, name)
    return render(request, "web/label_picker_preview.html", {"preview": preview_for(choice, user)})
