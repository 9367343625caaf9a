"""Printable minutes, second half: the PDF (reportlab, drawn on the server: no browser, no network), made only from
the ``PrintableMinutes`` that ``collect.py`` gathered for one viewer — nothing here reads a record.

The PDF draws the banner at the top and the bottom of every page from the page template's ``onPage`` callback, with
"page N of M" (the document is laid out twice: the first pass only counts the pages). Markdown is rendered from
markdown-it's syntax tree into reportlab's own small markup, every character escaped: raw HTML in the text stays text,
links are written out, images are never fetched. Japanese (and Chinese) text is set in MigMix 1P (IPA Gothic's
kanji and kana, IPA Font Licence), Korean in Nanum Gothic (SIL OFL), each in a regular and a bold face: TrueType
fonts installed from Debian's packages ``fonts-migmix`` and ``fonts-nanum`` (``make fonts``, part of ``make install``),
embedded in every PDF as a subset of the glyphs used, so the document reads the same on any reader and the node
fetches nothing at run time. A node without them cannot print a PDF (``FontsMissing`` names the packages).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from django.core import checks
from django.utils.text import slugify
from django.utils.translation import gettext
from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.fonts import addMapping
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    HRFlowable,
    Indenter,
    KeepTogether,
    ListFlowable,
    ListItem,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
    XPreformatted,
)

from kizuna.consultations.printing.collect import Marking, PrintableMinutes, PrintedAction
from kizuna.core.access import registry
from kizuna.web.banner import Banner, chip_class


def pdf_filename(doc: PrintableMinutes, start: datetime) -> str:
    """ASCII only, no title text (a title may hold anything): ``minutes-42-2026-06-02.pdf``."""
    day = start.astimezone(UTC).date().isoformat()
    return f"minutes-{doc.meeting_pk}-{slugify(day)}.pdf"


# --- fonts ---------------------------------------------------------------------------------------------------------

LATIN, LATIN_BOLD, MONO = "Helvetica", "Helvetica-Bold", "Courier"
JAPANESE, KOREAN = "Kizuna-Japanese", "Kizuna-Korean"
_BOLD = {JAPANESE: f"{JAPANESE}-Bold", KOREAN: f"{KOREAN}-Bold"}
FONT_DIR = Path("/usr/share/fonts/truetype")
# Face name -> (Debian package, file under FONT_DIR). TrueType outlines: reportlab cannot embed the CFF outlines of
# Noto Sans CJK (fonts-noto-cjk), so the IPA-derived MigMix and Nanum Gothic are used instead.
FONT_FILES: dict[str, tuple[str, str]] = {
    JAPANESE: ("fonts-migmix", "migmix/migmix-1p-regular.ttf"),
    _BOLD[JAPANESE]: ("fonts-migmix", "migmix/migmix-1p-bold.ttf"),
    KOREAN: ("fonts-nanum", "nanum/NanumGothic.ttf"),
    _BOLD[KOREAN]: ("fonts-nanum", "nanum/NanumGothicBold.ttf"),
}

# Characters the standard Latin fonts lack, by the embedded font that has them. Han ideographs and kana go to the
# Japanese font (it also covers the common Chinese characters); Hangul to the Korean one. Anything else outside
# Latin-1 stays in Helvetica, which shows a missing glyph rather than failing.
_HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7ff]+")
_CJK = re.compile("[\u2e80-\u2fdf\u3000-\u30ff\u31f0-\u31ff\u3200-\u33ff\u3400-\u4dbf\u4e00-\u9fff"
                  "\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]+")
_ASIAN = re.compile(f"({_HANGUL.pattern}|{_CJK.pattern})")
# Outside the Basic Multilingual Plane (emoji, rare ideographs) none of the fonts has a glyph.
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_fonts_ready = False


class FontsMissing(RuntimeError):
    """The node lacks the CJK fonts the PDF embeds (installed by ``make fonts``)."""


def missing_font_packages() -> list[str]:
    """The Debian packages whose font files the PDF needs and this node lacks (none on a node set up by make)."""
    return sorted({package for package, file in FONT_FILES.values() if not (FONT_DIR / file).is_file()})


def fonts_check(**_: Any) -> list[checks.CheckMessage]:
    """A system check (``kizuna check``, ``migrate``): a node without the fonts says so when it starts, not when
    someone first asks for a PDF."""
    missing = missing_font_packages()
    if not missing:
        return []
    return [checks.Warning(f"the minutes PDF needs Debian's {' and '.join(missing)} under {FONT_DIR}",
                           hint="run `make fonts` (apt-get install fonts-migmix fonts-nanum)", id="kizuna.W001")]


def _register_fonts() -> None:
    """Load the CJK faces once per process (about a second: the files are large) and tie each bold face to its
    regular one, so that ``<b>`` and bold styles pick it (see ``_embolden``)."""
    global _fonts_ready
    if _fonts_ready:
        return
    missing = missing_font_packages()
    if missing:
        raise FontsMissing(f"the PDF needs Debian's {' and '.join(missing)} under {FONT_DIR} (run `make fonts`)")
    for name, (_package, file) in FONT_FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / file)))
    for regular, bold in _BOLD.items():
        for is_bold, is_italic in ((0, 0), (0, 1), (1, 0), (1, 1)):
            addMapping(regular, is_bold, is_italic, bold if is_bold else regular)
    _fonts_ready = True


_B_TAG = re.compile(r"(</?b>)")


def _embolden(text: str, bold: bool = False) -> str:
    """Paragraph markup with the CJK runs inside ``<b>`` (or all of them, in a bold style) set in the bold face.
    Needed because reportlab's ``<font name=...>`` resets the bold flag it finds: bold Japanese would print regular."""
    out: list[str] = []
    depth = 1 if bold else 0
    for piece in _B_TAG.split(text):
        if piece == "<b>":
            depth += 1
        elif piece == "</b>":
            depth = max(depth - 1, 0)
        elif depth:
            for regular, heavy in _BOLD.items():
                piece = piece.replace(f'<font name="{regular}">', f'<font name="{heavy}">')
        out.append(piece)
    return "".join(out)


def para(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph whose CJK runs keep bold (``<b>``, bold styles). A function, not a Paragraph subclass: reportlab
    splits a paragraph across pages by building new ones of its class from fragments, without text."""
    return Paragraph(_embolden(text, bold=style.fontName == LATIN_BOLD), style)


def markup(text: str) -> str:
    """Plain text as reportlab paragraph markup: escaped, with each run of Japanese, Chinese or Korean characters set
    in an embedded font that has them."""
    text = _ASTRAL.sub("\ufffd", text)
    out: list[str] = []
    for piece in _ASIAN.split(text):
        if not piece:
            continue
        if _HANGUL.fullmatch(piece):
            out.append(f'<font name="{KOREAN}">{escape(piece)}</font>')
        elif _CJK.fullmatch(piece):
            out.append(f'<font name="{JAPANESE}">{escape(piece)}</font>')
        else:
            out.append(escape(piece))
    return "".join(out)


# --- Markdown to flowables -----------------------------------------------------------------------------------------

_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")
_LINK_SCHEMES = ("http://", "https://", "mailto:")


def _inline(nodes: Sequence[SyntaxTreeNode]) -> str:
    out: list[str] = []
    for node in nodes:
        kind = node.type
        if kind == "text":
            out.append(markup(node.content))
        elif kind == "softbreak":
            out.append(" ")
        elif kind == "hardbreak":
            out.append("<br/>")
        elif kind == "strong":
            out.append(f"<b>{_inline(node.children)}</b>")
        elif kind == "em":
            out.append(f"<i>{_inline(node.children)}</i>")
        elif kind == "s":
            out.append(f"<strike>{_inline(node.children)}</strike>")
        elif kind == "code_inline":
            out.append(f'<font name="{MONO}">{markup(node.content)}</font>')
        elif kind == "link":
            inner = _inline(node.children)
            href = str(node.attrs.get("href", ""))
            # Written out, never made clickable: the reader sees where it goes.
            if href.lower().startswith(_LINK_SCHEMES) and href != "".join(c.content for c in node.children):
                inner += f" ({markup(href)})"
            out.append(inner)
        elif kind == "image":
            # Never fetched: only its description is printed.
            out.append(markup("".join(c.content for c in node.children) or node.content))
        elif node.children:
            out.append(_inline(node.children))
        else:
            out.append(markup(node.content))
    return "".join(out)


def _inline_of(node: SyntaxTreeNode) -> str:
    return "".join(_inline(child.children) for child in node.children if child.type == "inline")


def _table_text(node: SyntaxTreeNode) -> list[str]:
    rows: list[str] = []
    for section in node.children:
        for row in section.children:
            rows.append(" | ".join(_inline_of(cell) for cell in row.children))
    return rows


@dataclass(frozen=True)
class Styles:
    body: ParagraphStyle
    small: ParagraphStyle
    title: ParagraphStyle
    h2: ParagraphStyle
    h3: ParagraphStyle
    md_heading: ParagraphStyle
    code: ParagraphStyle
    quote: ParagraphStyle
    portion: ParagraphStyle
    cell: ParagraphStyle
    cell_head: ParagraphStyle
    banner: ParagraphStyle
    running: ParagraphStyle
    running_right: ParagraphStyle


def _styles(banner: Banner) -> Styles:
    body = ParagraphStyle("body", fontName=LATIN, fontSize=10, leading=13.5, spaceAfter=4, alignment=TA_LEFT)
    return Styles(
        body=body,
        small=ParagraphStyle("small", parent=body, fontSize=8.5, leading=11, textColor=colors.HexColor("#5a6470")),
        title=ParagraphStyle("title", parent=body, fontName=LATIN_BOLD, fontSize=17, leading=21, spaceAfter=6),
        h2=ParagraphStyle("h2", parent=body, fontName=LATIN_BOLD, fontSize=13, leading=16, spaceBefore=10,
                          spaceAfter=5, textColor=colors.HexColor("#1f3a5f")),
        h3=ParagraphStyle("h3", parent=body, fontName=LATIN_BOLD, fontSize=11, leading=14, spaceBefore=7, spaceAfter=3),
        md_heading=ParagraphStyle("mdh", parent=body, fontName=LATIN_BOLD, fontSize=10.5, spaceBefore=4),
        code=ParagraphStyle("code", parent=body, fontName=MONO, fontSize=8.5, leading=10.5, leftIndent=8,
                            backColor=colors.HexColor("#f3f5f7")),
        quote=ParagraphStyle("quote", parent=body, textColor=colors.HexColor("#3b434c"), fontName="Helvetica-Oblique"),
        portion=ParagraphStyle("portion", parent=body, fontName=LATIN_BOLD, fontSize=8, leading=10, spaceAfter=2,
                               textColor=colors.HexColor("#1b1f24")),
        cell=ParagraphStyle("cell", parent=body, fontSize=9, leading=11.5, spaceAfter=0),
        cell_head=ParagraphStyle("cellh", parent=body, fontName=LATIN_BOLD, fontSize=9, leading=11.5, spaceAfter=0),
        banner=ParagraphStyle("banner", parent=body, fontName=LATIN_BOLD, fontSize=10, leading=12.5, spaceAfter=0,
                              alignment=TA_CENTER, textColor=_colour(banner.foreground, "#ffffff")),
        running=ParagraphStyle("running", parent=body, fontSize=8, leading=10, spaceAfter=0,
                               textColor=colors.HexColor("#5a6470")),
        running_right=ParagraphStyle("runningr", parent=body, fontSize=8, leading=10, spaceAfter=0,
                                     alignment=TA_RIGHT, textColor=colors.HexColor("#5a6470")),
    )


def _blocks(nodes: Iterable[SyntaxTreeNode], styles: Styles) -> list[Flowable]:
    out: list[Flowable] = []
    for node in nodes:
        kind = node.type
        if kind == "paragraph":
            out.append(para(_inline_of(node), styles.body))
        elif kind == "heading":
            out.append(para(_inline_of(node), styles.md_heading))
        elif kind in ("bullet_list", "ordered_list"):
            entries = [ListItem(_blocks(item.children, styles) or [para("", styles.body)]) for item in node.children]
            if kind == "ordered_list":
                out.append(ListFlowable(entries, bulletType="1", start=int(str(node.attrs.get("start", 1))),
                                        bulletFormat="%s.", leftIndent=16, bulletFontName=LATIN, bulletFontSize=9.5))
            else:
                out.append(ListFlowable(entries, bulletType="bullet", start="•", leftIndent=14,
                                        bulletFontName=LATIN, bulletFontSize=9))
        elif kind == "blockquote":
            # Indented and grey rather than boxed: a box (a table cell) could not break across pages.
            quoted = replace(styles, body=styles.quote)
            out.extend([Indenter(left=14), *_blocks(node.children, quoted), Indenter(left=-14)])
        elif kind in ("fence", "code_block"):
            out.append(XPreformatted(markup(node.content.rstrip("\n")), styles.code))
        elif kind == "hr":
            out.append(HRFlowable(width="100%", thickness=0.5, color=colors.HexColor("#d5dbe1"), spaceBefore=3,
                                  spaceAfter=3))
        elif kind == "table":
            out.extend(para(row, styles.body) for row in _table_text(node))
        elif node.children:
            out.extend(_blocks(node.children, styles))
        elif node.content.strip():
            out.append(para(markup(node.content), styles.body))
    return out


def markdown_flowables(text: str, styles: Styles) -> list[Flowable]:
    """Markdown as paragraphs, lists, quotes and code blocks; everything else as its text."""
    return _blocks(SyntaxTreeNode(_md.parse(text or "")).children, styles)


# --- the PDF -------------------------------------------------------------------------------------------------------

PAGE_WIDTH, PAGE_HEIGHT = A4
SIDE = 18 * mm
EDGE = 8 * mm  # from the paper's edge to the banner
GAP = 3 * mm
RUNNING = 10  # height of the running header and footer lines, in points
_HEX = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def _hex(value: str, fallback: str) -> str:
    """A policy file's colour as ``#rrggbb`` if it is a plain hex colour (policies are data, possibly hand-written)."""
    match = _HEX.match(value or "")
    if not match:
        return fallback
    digits = match.group(1)
    return "#" + ("".join(c * 2 for c in digits) if len(digits) == 3 else digits)


def _colour(value: str, fallback: str) -> colors.Color:
    return colors.HexColor(_hex(value, fallback))


class _Layout:
    """The page furniture: banner bands (height set by the marking's length), running header and footer."""

    def __init__(self, doc: PrintableMinutes, banner: Banner, styles: Styles, pages: int | None) -> None:
        self.doc, self.banner, self.styles, self.pages = doc, banner, styles, pages
        self.band = para(markup(banner.text), styles.banner)
        _w, text_height = self.band.wrap(PAGE_WIDTH - 2 * SIDE - 8 * mm, PAGE_HEIGHT)
        self.band_height = text_height + 2.5 * mm
        self.margin = EDGE + self.band_height + GAP + RUNNING + GAP  # top and bottom alike

    def _band(self, canvas: Canvas, y: float) -> None:
        canvas.setFillColor(_colour(self.banner.background, "#555555"))
        canvas.rect(SIDE, y, PAGE_WIDTH - 2 * SIDE, self.band_height, stroke=0, fill=1)
        width = PAGE_WIDTH - 2 * SIDE - 8 * mm
        _w, height = self.band.wrap(width, self.band_height)
        self.band.drawOn(canvas, SIDE + 4 * mm, y + (self.band_height - height) / 2)

    def _line(self, canvas: Canvas, text: str, style: ParagraphStyle, y: float) -> None:
        paragraph = para(text, style)
        paragraph.wrap(PAGE_WIDTH - 2 * SIDE, RUNNING * 2)
        paragraph.drawOn(canvas, SIDE, y)

    def on_page(self, canvas: Canvas, template: BaseDocTemplate) -> None:
        canvas.saveState()
        top = PAGE_HEIGHT - EDGE - self.band_height
        self._band(canvas, top)
        self._band(canvas, EDGE)
        self._line(canvas, markup(self.doc.title), self.styles.running, top - GAP - RUNNING)
        footer_y = EDGE + self.band_height + GAP
        # "Printed by" is said once, at the end of the document (as in the HTML view), not on every page.
        number = canvas.getPageNumber()
        page = (gettext("page %(page)d of %(pages)d") % {"page": number, "pages": self.pages} if self.pages
                else gettext("page %(page)d") % {"page": number})
        self._line(canvas, markup(page), self.styles.running_right, footer_y)
        canvas.restoreState()


def _portion(marking: Marking, styles: Styles) -> Paragraph:
    """The portion marking in front of a record, in its classification's colour."""
    colour = _hex(_banner_colours().get(marking.chip, ""), "#1b1f24")
    return para(f'<font color="{colour}">({markup(marking.text)})</font>', styles.portion)


@lru_cache(maxsize=1)
def _banner_colours() -> dict[str, str]:
    """Chip class -> the classification's banner colour, from the node's policies."""
    return {chip_class(policy.identifier, level.name): level.banner_colour
            for policy in registry() for level in policy.classifications}


def _table(rows: list[list[str]], widths: list[float], styles: Styles) -> Table:
    data = [[para(cell, styles.cell_head if index == 0 else styles.cell) for cell in row]
            for index, row in enumerate(rows)]
    table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.HexColor("#1b1f24")),
        ("LINEBELOW", (0, 1), (-1, -1), 0.3, colors.HexColor("#d5dbe1")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f3f5f7")),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


def _action_table(actions: list[PrintedAction], styles: Styles, width: float) -> Table:
    rows = [[markup(gettext("Action")), markup(gettext("Owner")), markup(gettext("Due")), markup(gettext("Status"))]]
    for action in actions:
        due = markup(action.due) + (f" <b>{markup(gettext('overdue'))}</b>" if action.overdue else "")
        rows.append([f"<font size=7><b>({markup(action.marking.text)})</b></font><br/>{markup(action.title)}",
                     markup(action.owner), due, markup(action.status)])
    return _table(rows, [width * 0.46, width * 0.24, width * 0.15, width * 0.15], styles)


def _story(doc: PrintableMinutes, styles: Styles) -> list[Flowable]:
    width = PAGE_WIDTH - 2 * SIDE
    heading = gettext("Minutes: %(title)s") % {"title": doc.title}
    story: list[Flowable] = [_portion(doc.marking, styles), para(markup(heading), styles.title)]
    if doc.series_title:
        story.append(para(markup(doc.series_title), styles.small))
    facts = [(gettext("Time (home zone)"), doc.when_home), (gettext("Time (UTC)"), doc.when_utc),
             (gettext("Mode"), doc.mode)]
    if doc.place:
        facts.append((gettext("Place"), doc.place))
    if doc.link:
        facts.append((gettext("Link"), doc.link))
    story.append(Table([[para(f"<b>{markup(k)}</b>", styles.cell), para(markup(v), styles.cell)]
                        for k, v in facts], colWidths=[width * 0.22, width * 0.78], hAlign="LEFT",
                       style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (0, -1), 0)])))
    if doc.cancelled:
        reason = f": {doc.cancel_reason}" if doc.cancel_reason else ""
        story.append(para(f"<b>{markup(gettext('This meeting was cancelled') + reason)}</b>", styles.body))
    if doc.draft_minutes:
        story.append(para(f"<b>{markup(gettext('DRAFT: these minutes are not published yet.'))}</b>", styles.body))

    story.append(para(markup(gettext("Attendees")), styles.h2))
    if doc.attendees:
        story.append(_table([[markup(gettext("Name")), markup(gettext("Organisation")), markup(gettext("Answer"))]]
                            + [[markup(a.name), markup(a.organisation), markup(a.rsvp)] for a in doc.attendees],
                            [width * 0.4, width * 0.4, width * 0.2], styles))
    else:
        story.append(para(markup(gettext("No attendees.")), styles.body))

    story.append(para(markup(gettext("Agenda")), styles.h2))
    if doc.draft_agenda:
        story.append(para(f"<b>{markup(gettext('DRAFT: this agenda is not published yet.'))}</b>", styles.body))
    if doc.items or doc.review:
        rows = [["#", markup(gettext("Item")), markup(gettext("Presenter")), markup(gettext("Minutes"))]]
        for item in doc.items:
            cell = f"<font size=7><b>({markup(item.marking.text)})</b></font><br/>{markup(item.title)}"
            for title, marking in item.reports:
                cell += f"<br/><font size=8>{markup(gettext('Report'))}: ({markup(marking.text)}) {markup(title)}</font>"
            rows.append([str(item.order), cell, markup(item.presenter), str(item.duration_minutes)])
        if doc.review:
            rows.append(["", markup(gettext("Review of actions")), "", ""])
        story.append(_table(rows, [width * 0.06, width * 0.6, width * 0.22, width * 0.12], styles))
    else:
        story.append(para(markup(gettext("No agenda has been published.")), styles.body))

    story.append(para(markup(gettext("Minutes")), styles.h2))
    if not doc.has_minutes:
        story.append(para(markup(gettext("No minutes have been published.")), styles.body))
    for item in doc.items:
        if item.minutes:
            story.append(para(f"{item.order}. {markup(item.title)}", styles.h3))
            for portion in item.minutes:
                story.extend([_portion(portion.marking, styles), *markdown_flowables(portion.text, styles)])
    if doc.other_minutes:
        story.append(para(markup(gettext("General")), styles.h3))
        for portion in doc.other_minutes:
            story.extend([_portion(portion.marking, styles), *markdown_flowables(portion.text, styles)])

    story.append(para(markup(gettext("Decisions")), styles.h2))
    if not doc.decisions:
        story.append(para(markup(gettext("No decisions recorded.")), styles.body))
    for number, decision in enumerate(doc.decisions, start=1):
        about = f" — {markup(decision.item_title)}" if decision.item_title else ""
        body = markdown_flowables(decision.text, styles)
        # The marking and heading never stay behind at the foot of a page without the decision's first block.
        story.append(KeepTogether([_portion(decision.marking, styles),
                                   para(f"<b>{markup(gettext('Decision'))} {number}</b>{about}", styles.body),
                                   *body[:1]]))
        story.extend(body[1:])

    story.append(para(markup(gettext("Actions")), styles.h2))
    if doc.actions:
        story.append(_action_table(doc.actions, styles, width))
    else:
        story.append(para(markup(gettext("No actions recorded.")), styles.body))
    if doc.review:
        story.append(para(markup(gettext("Review of actions from earlier meetings")), styles.h2))
        story.append(_action_table(doc.review, styles, width))

    story.append(Spacer(1, 6 * mm))
    story.append(para(markup(gettext("Printed by %(user)s at %(time)s")
                                  % {"user": doc.printed_by, "time": doc.printed_at}), styles.small))
    return story


def _build(doc: PrintableMinutes, banner: Banner, pages: int | None) -> tuple[bytes, int]:
    styles = _styles(banner)
    layout = _Layout(doc, banner, styles, pages)
    buffer = io.BytesIO()
    template = BaseDocTemplate(
        buffer, pagesize=A4, leftMargin=SIDE, rightMargin=SIDE, topMargin=layout.margin, bottomMargin=layout.margin,
        title=doc.title, subject=banner.text, author=doc.printed_by, creator="Kizuna",
    )
    frame = Frame(SIDE, layout.margin, PAGE_WIDTH - 2 * SIDE, PAGE_HEIGHT - 2 * layout.margin, id="body",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    on_page: Callable[[Canvas, Any], None] = layout.on_page
    template.addPageTemplates([PageTemplate(id="minutes", frames=[frame], onPage=on_page)])
    template.build(_story(doc, styles))
    return buffer.getvalue(), template.page


def render_pdf(doc: PrintableMinutes, banner: Banner) -> bytes:
    """The minutes as a PDF, the banner at the top and bottom of every page and "page N of M" beneath."""
    _register_fonts()
    _, pages = _build(doc, banner, None)  # first pass: only the page count
    pdf, final = _build(doc, banner, pages)
    if final != pages:  # "page N of M" is never wider than the count it replaced, but say so if it ever is
        pdf, _ = _build(doc, banner, final)
    return pdf
