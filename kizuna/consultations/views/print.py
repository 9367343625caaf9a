"""Printable minutes: the print-optimised HTML page, the PDF, and the print stylesheet.

Both documents show one viewer exactly what the meeting page would: the meeting through
``queries.get_meeting_or_404`` (a meeting the viewer may not see is a 404 like a missing one), then
``printing.collect``, which reads through ``queries`` (``visible_to``, then the draft rule). The labels of everything
printed are noted for the banner, so the marking at the top and the bottom of every page is their least upper bound,
and every print is audited with the ids of what it contained.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from kizuna.consultations import queries
from kizuna.consultations.models import (
    Meeting,
)
from kizuna.consultations.printing import pdf
from kizuna.consultations.printing.collect import PrintableMinutes, collect
from kizuna.consultations.views.common import (
    meeting_url,
)
from kizuna.core import audit
from kizuna.directory.models import User
from kizuna.web.banner import banner_for, note_document
from kizuna.web.shortcuts import signed_in_user

NO_STORE = "private, no-store"


def _audit(request: HttpRequest, user: User, meeting: Meeting, doc: PrintableMinutes, fmt: str) -> None:
    audit.record(user.username, "print", "meeting", [meeting.pk], meeting.label_id, audit.client_address(request),
                 {"format": fmt, **doc.ids})


@login_required
@require_GET
def minutes_print(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    meeting = queries.get_meeting_or_404(user, pk)
    doc = collect(user, meeting)
    note_document(request, *doc.labels)
    _audit(request, user, meeting, doc, "html")
    context = {
        "doc": doc,
        "banner": banner_for(request),
        "meeting_url": meeting_url(meeting),
        "pdf_url": reverse("consultations_print:minutes_pdf", args=[meeting.pk]),
    }
    response = render(request, "consultations/minutes_print.html", context)
    response["Cache-Control"] = NO_STORE
    return response


@login_required
@require_GET
def minutes_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    meeting = queries.get_meeting_or_404(user, pk)
    doc = collect(user, meeting)
    note_document(request, *doc.labels)
    document = pdf.render_pdf(doc, banner_for(request))
    _audit(request, user, meeting, doc, "pdf")
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf.pdf_filename(doc, meeting.start)}"'
    response["Cache-Control"] = NO_STORE
    response["X-Content-Type-Options"] = "nosniff"
    return response


# Served by the node (the Content-Security-Policy allows no inline style). On paper the banners are fixed to the top
# and the bottom of the page box, which Chromium and Firefox repeat on every printed page; the empty header and
# footer rows of the frame table, also repeated on every page, keep the text from running under them.
PRINT_CSS = """/* Printable minutes: screen preview and paper. Banner colours come from /banners.css. */
:where(.print-banner) { background-color: #555555; color: #ffffff; }
:where(.label-chip) { background-color: #555555; color: #ffffff; border: 1px solid #555555; }
html { -webkit-text-size-adjust: 100%; }
body.print-minutes {
  margin: 0; background: #e9ecef; color: #1b1f24;
  font: 10.5pt/1.45 "Noto Sans", "Helvetica Neue", Arial, "Hiragino Sans", "Noto Sans CJK JP", "IPAGothic",
        "Malgun Gothic", "Noto Sans CJK KR", sans-serif;
}
.print-banner {
  text-align: center; font-weight: 700; letter-spacing: .04em; padding: 1.5mm 4mm; font-size: 9pt;
  line-height: 1.3; overflow-wrap: anywhere; print-color-adjust: exact; -webkit-print-color-adjust: exact;
}
.print-tools {
  max-width: 210mm; margin: 4mm auto 0; display: flex; gap: 1rem; align-items: center; flex-wrap: wrap;
  font-size: 10pt; color: #5a6470;
}
.print-tools a { color: #1f3a5f; font-weight: 600; }
.print-frame { width: 100%; border-collapse: collapse; }
.print-frame > thead td, .print-frame > tfoot td { padding: 0; }
.print-space { height: 0; }
.print-sheet {
  max-width: 210mm; box-sizing: border-box; margin: 4mm auto 8mm; padding: 14mm 16mm; background: #ffffff;
  box-shadow: 0 1px 4px rgba(0, 0, 0, .15);
}
.print-sheet h1 { font-size: 17pt; margin: 1mm 0 1mm; line-height: 1.2; }
.print-sheet h2 {
  font-size: 12.5pt; color: #1f3a5f; margin: 7mm 0 2mm; padding-bottom: 1mm; border-bottom: 1px solid #d5dbe1;
}
.print-sheet h3 { font-size: 11pt; margin: 5mm 0 1.5mm; }
.series { color: #5a6470; margin: 0 0 3mm; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: .6mm 5mm; margin: 2mm 0 3mm; }
.facts dt { font-weight: 700; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.notice { border-left: 3px solid #c8102e; padding: 1.5mm 3mm; background: #fbeaec; font-weight: 700; margin: 2mm 0; }
.label-chip {
  display: inline-block; padding: .2mm 1.6mm; border-radius: 2px; font-size: 7.5pt; font-weight: 700;
  letter-spacing: .02em; line-height: 1.45; overflow-wrap: anywhere; print-color-adjust: exact;
  -webkit-print-color-adjust: exact;
}
.portion { margin: 0 0 3mm; }
.portion-mark { margin: 0 0 1mm; }
.portion .md > :first-child { margin-top: 0; }
.portion .md > :last-child { margin-bottom: 0; }
.md h1, .md h2, .md h3, .md h4, .md h5, .md h6 {
  font-size: 10.5pt; color: inherit; border: 0; margin: 2.5mm 0 1mm; padding: 0;
}
.md pre { background: #f3f5f7; padding: 2mm; overflow-wrap: anywhere; white-space: pre-wrap; }
.md blockquote { margin-left: 0; padding-left: 3mm; border-left: 3px solid #d5dbe1; color: #3b434c; }
.md table { border-collapse: collapse; }
.md th, .md td { border: 1px solid #d5dbe1; padding: .5mm 2mm; }
table.grid { width: 100%; border-collapse: collapse; margin: 1mm 0 2mm; font-size: 9.5pt; }
table.grid th { text-align: left; background: #f3f5f7; border-bottom: 1.5px solid #1b1f24; padding: 1mm 1.5mm; }
table.grid td { border-bottom: 1px solid #d5dbe1; padding: 1mm 1.5mm; vertical-align: top; }
table.grid .num { width: 6%; }
table.actions th:nth-child(2) { width: 20%; }
table.actions th:nth-child(3) { width: 19%; }
table.actions th:nth-child(4) { width: 12%; }
.overdue { color: #c8102e; font-weight: 700; }
.reports { margin: .5mm 0 0; padding-left: 4mm; font-size: 8.5pt; }
.decisions { padding-left: 6mm; }
.decisions li { margin-bottom: 2.5mm; }
.printed { margin-top: 8mm; color: #5a6470; font-size: 8.5pt; }
.empty { color: #5a6470; font-style: italic; }

@media screen {
  .print-banner--top { position: sticky; top: 0; z-index: 2; }
}

@page {
  size: A4; margin: 10mm 12mm;
  @bottom-right { content: counter(page) " / " counter(pages); font: 7.5pt sans-serif; color: #5a6470; }
}

@media print {
  body.print-minutes { background: #ffffff; font-size: 9.5pt; }
  .no-print { display: none !important; }
  .print-banner { position: fixed; left: 0; right: 0; }
  .print-banner--top { top: 0; }
  .print-banner--bottom { bottom: 0; }
  /* Room for the fixed banners on every page: up to three lines of marking. */
  .print-space { height: 17mm; }
  .print-sheet { max-width: none; margin: 0; padding: 0; box-shadow: none; }
  h2, h3, .portion-mark { break-after: avoid; page-break-after: avoid; }
  tr, .decisions li { break-inside: avoid; page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  .md a[href]::after { content: " (" attr(href) ")"; }
}
"""


@login_required
@require_GET
def stylesheet(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(PRINT_CSS, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "private, max-age=3600"
    return response
