"""Printable minutes: the HTML print view and the PDF show a viewer only what the meeting page would (404 for a meeting
they may not see, no part beyond their labels, no draft minutes unless they organise), and carry the marking — the
least upper bound of the labels printed — at the top and bottom of every page, with each part's own portion marking."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from pypdf import PdfReader

from kizuna.consultations import services
from kizuna.consultations.models import Meeting
from kizuna.consultations.printing import pdf as printing_pdf
from kizuna.consultations.printing.collect import collect
from kizuna.consultations.services import MeetingInput, do_add_agenda_item, do_create_action, do_create_meeting
from kizuna.core.models import AuditEntry
from kizuna.web.banner import Banner
from tests.conftest import make_label

pytestmark = pytest.mark.django_db

IP4 = make_label(releasable_to=["IP4"])
IP4_RESTRICTED = make_label(releasable_to=["IP4"], classification="RESTRICTED")
UNCLASSIFIED_BANNER = "NATO UNCLASSIFIED REL TO IP4 // TLP:AMBER"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(autouse=True)
def _quiet_side_effects(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cycle's writes publish STIX and record notifications; both have their own tests."""
    from kizuna.consultations import notify
    from kizuna.consultations.services import sharing

    monkeypatch.setattr(sharing, "do_publish", lambda record, *, revoked=False: None)
    monkeypatch.setattr(notify, "notify", lambda kind, users, *, meeting=None, action=None, key="": 0)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def print_url(meeting: Meeting) -> str:
    return f"/consultations/meetings/{meeting.pk}/minutes/print/"


def pdf_url(meeting: Meeting) -> str:
    return f"/consultations/meetings/{meeting.pk}/minutes.pdf"


@pytest.fixture
def people(make_user: Any, jpn_user: Any, kor_user: Any) -> dict[str, Any]:
    """hanako organises (JPN-MOD); minjun (KOR, cleared RESTRICTED) and aiko (JPN, cleared UNCLASSIFIED only) attend;
    tom (USA) may not see a meeting released to IP4."""
    return {
        "organiser": jpn_user,
        "restricted": kor_user,
        "unclassified": make_user("aiko", "JPN", "JPN-MOD", clearance="UNCLASSIFIED", role="viewer"),
        "outsider": make_user("tom", "USA", "USA-DOD"),
    }


def _meeting(people: dict[str, Any], title: str = "NATO–IP4 Cyber Defence Consultations") -> Meeting:
    start = datetime(2026, 6, 2, 7, 0, tzinfo=UTC)
    return do_create_meeting(people["organiser"], MeetingInput(
        title=title, label=IP4, start=start, end=start + timedelta(hours=2), time_zone="Europe/Brussels",
        link="https://meet.example.org/c", attendees=[people["restricted"], people["unclassified"]]))


@pytest.fixture
def meeting(people: dict[str, Any]) -> Meeting:
    """A published agenda and published minutes: one part for all IP4 readers, one NATO RESTRICTED part."""
    organiser = people["organiser"]
    meeting = _meeting(people)
    item = do_add_agenda_item(organiser, meeting, "Threat picture", IP4, presenter="JPN-MOD", duration_minutes=30)
    services.do_publish_agenda(organiser, meeting)
    services.do_add_minutes(organiser, meeting, "The **open** part: ransomware against ports.", IP4, item)
    services.do_add_minutes(organiser, meeting, "Restricted assessment: attribution to GHOSTWRITER-7.", IP4_RESTRICTED,
                         item)
    services.do_record_decision(organiser, meeting, "Exchange indicators *weekly*.", IP4, item)
    do_create_action(organiser, "Share the port IOCs", IP4, meeting=meeting, owner_user=people["restricted"],
                     due=date(2026, 6, 30))
    services.do_rsvp(people["restricted"], meeting, "accepted")
    services.do_publish_minutes(organiser, meeting)
    return Meeting.objects.get(pk=meeting.pk)


def _banner(html: str, where: str) -> str:
    match = re.search(rf'data-testid="banner-{where}">([^<]*)</div>', html)
    assert match is not None, f"no {where} banner"
    return match.group(1)


def _pages(pdf: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]


def _heights_of(pdf: bytes, text: str) -> list[list[float]]:
    """Per page, where ``text`` is drawn as a piece of its own, as a fraction of the page's height (0 = bottom)."""
    result = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        height = float(page.mediabox.height)
        found: list[float] = []

        def visit(piece: str, cm: list[float], tm: list[float], font: Any, size: Any, found: list[float] = found,
                  height: float = height) -> None:
            if piece.strip() == text:
                found.append(round((tm[5] * cm[3] + cm[5]) / height, 2))

        page.extract_text(visitor_text=visit)
        result.append(sorted(found))
    return result


# --- the HTML print view -------------------------------------------------------------------------------------------

def test_print_view_and_pdf_are_404_for_a_viewer_who_may_not_see_the_meeting(
        people: dict[str, Any], meeting: Meeting) -> None:
    outsider = client_for(people["outsider"])
    assert outsider.get(print_url(meeting)).status_code == 404
    assert outsider.get(pdf_url(meeting)).status_code == 404
    # Exactly like a meeting that does not exist.
    assert client_for(people["organiser"]).get(f"/consultations/meetings/{meeting.pk + 999}/minutes/print/").status_code == 404
    assert not AuditEntry.objects.filter(action="print").exists()


def test_print_view_needs_a_signed_in_user(meeting: Meeting) -> None:
    response = Client().get(print_url(meeting))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_banner_at_top_and_bottom_is_raised_by_a_restricted_part_the_viewer_may_see(
        people: dict[str, Any], meeting: Meeting) -> None:
    response = client_for(people["restricted"]).get(print_url(meeting))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    html = response.content.decode()
    # Two labels are shown (the meeting's and the restricted part's): the banner is their least upper bound.
    assert _banner(html, "top") == _banner(html, "bottom") == "NATO RESTRICTED REL TO IP4 // TLP:AMBER"
    assert "banner-NATO-RESTRICTED" in html
    assert "Restricted assessment" in html and "<strong>open</strong>" in html
    # Each part carries its own label as a portion marking.
    assert "(NATO RESTRICTED REL TO IP4 // TLP:AMBER)" in html
    assert f"({UNCLASSIFIED_BANNER})" in html
    # Standalone: no site navigation; a link to the PDF instead.
    assert "site-nav" not in html and pdf_url(meeting) in html
    for expected in ("Threat picture", "Exchange indicators <em>weekly</em>", "Share the port IOCs", "Accepted",
                     "minjun", "aiko", "09:00–11:00 CEST (Europe/Brussels)", "07:00–09:00 UTC", "Printed by minjun"):
        assert expected in html, expected


def test_part_the_viewer_may_not_see_is_absent_and_does_not_raise_the_banner(
        people: dict[str, Any], meeting: Meeting) -> None:
    html = client_for(people["unclassified"]).get(print_url(meeting)).content.decode()
    assert "The <strong>open</strong> part" in html
    assert "Restricted assessment" not in html and "GHOSTWRITER" not in html
    assert "RESTRICTED" not in html
    # Everything shown has one label, so the banner is that full label.
    assert _banner(html, "top") == _banner(html, "bottom") == UNCLASSIFIED_BANNER
    assert "banner-NATO-UNCLASSIFIED" in html


def test_draft_minutes_are_shown_to_the_organisers_only(people: dict[str, Any]) -> None:
    organiser = people["organiser"]
    meeting = _meeting(people)
    item = do_add_agenda_item(organiser, meeting, "Threat picture", IP4)
    services.do_publish_agenda(organiser, meeting)
    services.do_add_minutes(organiser, meeting, "Draft wording under discussion.", IP4, item)
    services.do_record_decision(organiser, meeting, "Draft decision text.", IP4)

    attendee = client_for(people["restricted"]).get(print_url(meeting)).content.decode()
    assert "Threat picture" in attendee  # the agenda is published
    assert "Draft wording" not in attendee and "Draft decision" not in attendee
    assert "No minutes have been published." in attendee
    assert "Draft wording" not in "".join(_pages(client_for(people["restricted"]).get(pdf_url(meeting)).content))

    own = client_for(organiser).get(print_url(meeting)).content.decode()
    assert "Draft wording under discussion." in own and "Draft decision text." in own
    assert 'data-testid="draft-minutes"' in own


def test_every_print_is_audited_with_what_it_showed(people: dict[str, Any], meeting: Meeting) -> None:
    client_for(people["unclassified"]).get(print_url(meeting))
    client_for(people["unclassified"]).get(pdf_url(meeting))
    entries = list(AuditEntry.objects.filter(action="print", target_type="meeting").order_by("id"))
    assert [e.detail["format"] for e in entries] == ["html", "pdf"]
    assert all(e.actor == "aiko" and e.target_ids == str(meeting.pk) and e.label_id == meeting.label_id
               for e in entries)
    assert len(entries[0].detail["minutes_parts"]) == 1  # the restricted part was not shown, nor recorded as shown


def test_markdown_html_is_never_trusted(people: dict[str, Any]) -> None:
    organiser = people["organiser"]
    meeting = _meeting(people)
    services.do_add_minutes(organiser, meeting, 'Text <script>alert(1)</script> <font name="Courier">x</font> & '
                                             '![pic](http://example.org/p.png) [site](javascript:alert(1))', IP4)
    services.do_publish_minutes(organiser, meeting)
    html = client_for(people["restricted"]).get(print_url(meeting)).content.decode()
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown as the text it is
    response = client_for(people["restricted"]).get(pdf_url(meeting))
    assert response.status_code == 200
    text = "".join(_pages(response.content))
    assert "<script>alert(1)</script>" in text  # printed as the text it is
    assert "p.png" not in text  # an image is never fetched: only its description is printed


# --- the PDF -------------------------------------------------------------------------------------------------------

def test_pdf_is_an_attachment_with_a_safe_name_and_no_caching(people: dict[str, Any], meeting: Meeting) -> None:
    response = client_for(people["restricted"]).get(pdf_url(meeting))
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="minutes-{meeting.pk}-2026-06-02.pdf"'
    assert response["Cache-Control"] == "private, no-store"
    text = "".join(_pages(response.content))
    assert "Restricted assessment" in text and "Share the port IOCs" in text and "Threat picture" in text


def test_pdf_carries_the_marking_and_page_number_on_every_page_of_a_long_document(
        people: dict[str, Any], meeting: Meeting) -> None:
    organiser = people["organiser"]
    services.do_unpublish_minutes(organiser, meeting)
    paragraph = ("The delegations reviewed the **incident** reports of the quarter, compared detection rules and "
                 "agreed that liaison officers exchange lessons learned after each national exercise. ")
    long_text = "\n\n".join(f"{n}. {paragraph * 3}" for n in range(1, 25)) + "\n\n- first point\n- second point"
    services.do_add_minutes(organiser, meeting, long_text, IP4)
    services.do_publish_minutes(organiser, meeting)

    for viewer, marking in (("restricted", "NATO RESTRICTED REL TO IP4 // TLP:AMBER"),
                            ("unclassified", UNCLASSIFIED_BANNER)):
        pdf = client_for(people[viewer]).get(pdf_url(meeting)).content
        pages = _pages(pdf)
        assert len(pages) >= 3
        for number, text in enumerate(pages, start=1):
            assert f"page {number} of {len(pages)}" in text
        # The marking is drawn on every page, once in the bottom band and once in the top band.
        for number, heights in enumerate(_heights_of(pdf, marking), start=1):
            assert len(heights) == 2 and heights[0] < 0.06 and heights[1] > 0.94, (viewer, number, heights)
        if viewer == "unclassified":
            assert not any("RESTRICTED" in text for text in pages)


def test_japanese_and_korean_text_render_in_the_pdf(people: dict[str, Any]) -> None:
    organiser = people["organiser"]
    meeting = _meeting(people, title="日NATO・日本 宇宙対話")
    item = do_add_agenda_item(organiser, meeting, "宇宙状況監視", IP4, presenter="防衛省")
    services.do_publish_agenda(organiser, meeting)
    text = "## 議事要旨\n\n**日本側**は宇宙状況監視の協力を提案した。\n\n- 한국 측은 동의했다\n- emoji 🚀 and ünïcödé"
    services.do_add_minutes(organiser, meeting, text, IP4, item)
    services.do_publish_minutes(organiser, meeting)
    response = client_for(people["restricted"]).get(pdf_url(meeting))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    text = "".join(_pages(response.content))
    assert "宇宙状況監視の協力を提案した" in text
    assert "한국 측은 동의했다" in text
    assert "ünïcödé" in text
    html = client_for(people["restricted"]).get(print_url(meeting)).content.decode()
    assert "宇宙状況監視の協力を提案した" in html


def test_render_pdf_draws_the_banner_colour_given_and_survives_a_bad_one(people: dict[str, Any],
                                                                          meeting: Meeting) -> None:
    doc = collect(people["restricted"], meeting, now=datetime(2026, 7, 1, 3, 0, tzinfo=UTC))
    assert doc.actions[0].overdue  # due 30 June, still open on 1 July
    assert doc.printed_at == "1 July 2026, 03:00 UTC"  # minjun reads times in UTC
    for colour in ("#c8102e", "not-a-colour", "#abc"):
        pdf = printing_pdf.render_pdf(doc, Banner("NATO RESTRICTED", colour, "#ffffff", "banner-NATO-RESTRICTED"))
        assert pdf.startswith(b"%PDF") and "NATO RESTRICTED" in _pages(pdf)[0]


def test_odd_and_huge_minutes_still_make_a_pdf(people: dict[str, Any]) -> None:
    organiser = people["organiser"]
    meeting = _meeting(people, title="長い題名 " * 40)
    item = do_add_agenda_item(organiser, meeting, "x" * 300, IP4, presenter="y" * 200)
    services.do_publish_agenda(organiser, meeting)
    odd = [
        "w" * 5_000,  # one word longer than many lines
        "\n".join(f"> quoted line {n} with **bold** and <b>unclosed" for n in range(100)),
        "```\n" + "\n".join(f"code line {n} <para> &amp; </font>" for n in range(150)) + "\n```",
        "| a | b |\n|---|---|\n| 1 | 2 |",
        "- one\n  - two\n    - three\n      - four\n        1. five",
        "control \x0b \x0c characters, zero\u200bwidth, العربية, e\u0301, tab\there",
        "# Heading\n\n***\n\n[relative](/consultations/) <https://example.org/auto>",
    ]
    for text in odd:
        services.do_add_minutes(organiser, meeting, text, IP4, item)
    services.do_publish_minutes(organiser, meeting)
    response = client_for(people["restricted"]).get(pdf_url(meeting))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    pages = _pages(response.content)
    assert len(pages) >= 3 and all(f"of {len(pages)}" in text for text in pages)
    assert client_for(people["restricted"]).get(print_url(meeting)).status_code == 200


@pytest.mark.e2e
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make chromium)")
def test_chromium_prints_the_banner_at_the_top_and_bottom_of_every_page(
        people: dict[str, Any], meeting: Meeting, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    organiser = people["organiser"]
    services.do_unpublish_minutes(organiser, meeting)
    services.do_add_minutes(organiser, meeting, "\n\n".join(f"Paragraph {n}: " + "lessons learned " * 40
                                                         for n in range(30)), IP4)
    services.do_publish_minutes(organiser, meeting)
    client = client_for(people["restricted"])
    html = client.get(print_url(meeting)).content.decode()
    # The page as the browser gets it, its two stylesheets inlined (no server in this test).
    for href in ("/consultations/print/minutes.css", "/banners.css"):
        css = client.get(href).content.decode()
        html = html.replace(f'<link rel="stylesheet" href="{href}">', f"<style>{css}</style>")
    assert "<link" not in html
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.set_content(html)
            pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
        finally:
            browser.close()
    (tmp_path / "print.pdf").write_bytes(pdf)
    heights = _heights_of(pdf, "NATO RESTRICTED REL TO IP4 // TLP:AMBER")
    assert len(heights) >= 3
    for number, found in enumerate(heights, start=1):
        assert len(found) == 2 and found[0] < 0.1 and found[1] > 0.9, (number, found)


# --- the overall marking: the least upper bound of the parts (issue 13, point 12) ------------------------------------

NATO_IP4_RESTRICTED = make_label(releasable_to=["NATO", "IP4"], classification="RESTRICTED")


def test_minutes_whose_every_part_is_rel_to_nato_ip4_are_marked_so_as_a_whole(people: dict[str, Any]) -> None:
    """As in the demo: a NATO UNCLASSIFIED REL TO NATO, IP4 // TLP:GREEN meeting whose every part is NATO RESTRICTED
    REL TO NATO, IP4 // TLP:AMBER. The printed whole carries the full bound, not only "NATO RESTRICTED"."""
    organiser = people["organiser"]
    start = datetime(2026, 6, 2, 7, 0, tzinfo=UTC)
    meeting = do_create_meeting(organiser, MeetingInput(
        title="Restricted consultations", label=make_label(releasable_to=["NATO", "IP4"], tlp="GREEN"), start=start,
        end=start + timedelta(hours=2),
        time_zone="Europe/Brussels", link="https://meet.example.org/r", attendees=[people["restricted"]]))
    item = do_add_agenda_item(organiser, meeting, "Threat picture", NATO_IP4_RESTRICTED, presenter="JPN-MOD")
    services.do_publish_agenda(organiser, meeting)
    services.do_add_minutes(organiser, meeting, "Assessment.", NATO_IP4_RESTRICTED, item)
    services.do_record_decision(organiser, meeting, "Exchange indicators.", NATO_IP4_RESTRICTED, item)
    services.do_publish_minutes(organiser, meeting)
    marking = "NATO RESTRICTED REL TO NATO, IP4 // TLP:AMBER"

    html = client_for(people["restricted"]).get(print_url(meeting)).content.decode()
    assert _banner(html, "top") == _banner(html, "bottom") == marking
    pdf = client_for(people["restricted"]).get(pdf_url(meeting)).content
    assert [len(heights) for heights in _heights_of(pdf, marking)] == [2] * len(_pages(pdf))
    assert PdfReader(io.BytesIO(pdf)).metadata.subject == marking


def test_mixed_parts_are_marked_with_their_least_upper_bound_not_only_the_highest_classification(
        people: dict[str, Any], meeting: Meeting) -> None:
    """An UNCLASSIFIED REL TO IP4 meeting with a RESTRICTED REL TO IP4 part: the whole is RESTRICTED REL TO IP4, on
    the print view, the PDF and the meeting page alike."""
    marking = "NATO RESTRICTED REL TO IP4 // TLP:AMBER"
    client = client_for(people["restricted"])
    html = client.get(print_url(meeting)).content.decode()
    assert _banner(html, "top") == marking
    assert _heights_of(client.get(pdf_url(meeting)).content, marking)[0][:1]
    page = client.get(f"/consultations/meetings/{meeting.pk}/").content.decode()
    assert marking in page.split('data-testid="banner-top"', 1)[1].split("</div>", 1)[0]


# --- fonts: embedded, never the reader's (issue 13, point 13) ------------------------------------------------------

STANDARD_FONTS = {"Helvetica", "Helvetica-Bold", "Helvetica-Oblique", "Helvetica-BoldOblique", "Courier"}


def _fonts(pdf: bytes) -> dict[str, bool]:
    """Every font the PDF uses -> whether its glyphs are embedded in the file."""
    found: dict[str, bool] = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"].get_object().get("/Font", {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            descriptor = (descendants[0].get_object() if descendants else font).get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            found[str(font["/BaseFont"]).lstrip("/")] = any(key in descriptor for key in
                                                            ("/FontFile", "/FontFile2", "/FontFile3"))
    return found


def test_japanese_and_korean_fonts_are_embedded_subsets_and_bold_survives(people: dict[str, Any]) -> None:
    organiser = people["organiser"]
    meeting = _meeting(people, title="日韓 宇宙対話")
    item = do_add_agenda_item(organiser, meeting, "宇宙状況監視", IP4, presenter="防衛省")
    services.do_publish_agenda(organiser, meeting)
    text = "**日本側**は協力を提案した。\n\n한국 측은 **동의했다**."
    services.do_add_minutes(organiser, meeting, text, IP4, item)
    services.do_publish_minutes(organiser, meeting)
    pdf = client_for(people["restricted"]).get(pdf_url(meeting)).content

    fonts = _fonts(pdf)
    # No font the reader must supply, other than the PDF standard Latin fonts.
    assert {name for name, embedded in fonts.items() if not embedded} <= STANDARD_FONTS, fonts
    assert not any("Heisei" in name or "HYGothic" in name for name in fonts)
    embedded = [name for name, yes in fonts.items() if yes]
    # Subsets (a six-letter tag before the name): regular and bold faces, Japanese and Korean.
    for face in ("migmix-1p-regular", "migmix-1p-bold", "NanumGothic", "NanumGothicBold"):
        assert any(re.fullmatch(rf"[A-Z]{{6}}\+{face}", name) for name in embedded), (face, embedded)
    text = "".join(_pages(pdf))
    assert "日本側は協力を提案した" in text and "한국 측은 동의했다" in text


def test_printed_by_appears_once_in_the_pdf(people: dict[str, Any], meeting: Meeting) -> None:
    pages = _pages(client_for(people["restricted"]).get(pdf_url(meeting)).content)
    assert sum(text.count("Printed by minjun") for text in pages) == 1
    assert "Printed by minjun" in pages[-1]


def test_a_node_without_the_fonts_says_which_packages_to_install(
        people: dict[str, Any], meeting: Meeting, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(printing_pdf, "_fonts_ready", False)
    monkeypatch.setattr(printing_pdf, "FONT_DIR", tmp_path)
    doc = collect(people["restricted"], meeting)
    with pytest.raises(printing_pdf.FontsMissing, match="fonts-migmix and fonts-nanum"):
        printing_pdf.render_pdf(doc, Banner("NATO RESTRICTED", "#c8102e", "#ffffff", "banner-NATO-RESTRICTED"))


def test_system_check_warns_a_node_without_the_fonts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from django.core import checks

    assert [m for m in checks.run_checks() if m.id == "kizuna.W001"] == []
    monkeypatch.setattr(printing_pdf, "FONT_DIR", tmp_path)
    warnings = [m for m in checks.run_checks() if m.id == "kizuna.W001"]
    assert len(warnings) == 1 and "fonts-migmix and fonts-nanum" in warnings[0].msg
