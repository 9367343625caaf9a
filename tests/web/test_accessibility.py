"""Accessibility of the rendered pages (WCAG 2.1 AA, issue 13 point 18), checked on the HTML and CSS the node serves:
help and error texts linked to their fields, a refused form announced, checkbox groups named, English markings marked
as English in the Japanese UI, the banners inside landmarks, and the colours of the focus ring and the dimmed TLP:RED
recipients. tests/e2e/test_accessibility_browser.py runs axe-core and the keyboard over the same pages."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

STATIC = Path(__file__).resolve().parents[2] / "kizuna" / "web" / "static" / "kizuna"


class _Ids(HTMLParser):
    """Every id of a page, and every id an aria-describedby names."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.described_by: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        if values.get("aria-describedby"):
            self.described_by += str(values["aria-describedby"]).split()


def _ids(body: str) -> _Ids:
    parser = _Ids()
    parser.feed(body)
    return parser


@pytest.fixture
def hanako(make_user: Any) -> Client:
    client = Client()
    client.force_login(make_user("hanako", "JPN", "JPN-MOD", communities=["CYBER", "MARITIME"]))
    return client


@pytest.mark.parametrize("url", ["/reports/new/", "/consultations/meetings/new/", "/consultations/series/new/",
                                 "/threats/import/", "/account/"])
def test_every_aria_describedby_names_an_element_of_the_page(hanako: Client, url: str) -> None:
    body = hanako.get(url).content.decode()
    parsed = _ids(body)
    assert parsed.described_by, "the page has fields with help text"
    assert [i for i in parsed.described_by if i not in parsed.ids] == []


def test_a_refused_report_links_each_error_to_its_field_and_announces_a_focusable_summary(hanako: Client) -> None:
    body = hanako.post("/reports/new/", {"title": "", "kind": "report"}).content.decode()
    parsed = _ids(body)
    assert "id_title_error" in parsed.ids
    title = re.search(r'<input[^>]*name="title"[^>]*>', body)
    assert title is not None and "id_title_error" in title.group(0) and 'aria-invalid="true"' in title.group(0)
    assert [i for i in parsed.described_by if i not in parsed.ids] == []
    summary = re.search(r'<div class="[^"]*error-summary"([^>]*)>(.*?)</div>', body, re.S)
    assert summary is not None
    assert 'role="alert"' in summary.group(1) and 'tabindex="-1"' in summary.group(1)
    assert "data-error-summary" in summary.group(1)  # kizuna.js moves focus there
    assert 'href="#id_title"' in summary.group(2)



@pytest.mark.parametrize("url", ["/reports/new/", "/threats/import/"])
def test_every_link_of_the_error_summary_reaches_an_element_of_the_page(hanako: Client, url: str) -> None:
    # Nothing posted: the label picker (a fieldset, not one input) is in error too.
    body = hanako.post(url, {}).content.decode()
    summary = re.search(r'data-error-summary[^>]*>(.*?)</div>', body, re.S)
    assert summary is not None
    targets = re.findall(r'href="#([^"]+)"', summary.group(1))
    assert "id_label" in targets
    assert [t for t in targets if t not in _ids(body).ids] == []
    errors = re.search(r'<ul class="errorlist"[^>]*data-testid="label-errors"', body)
    assert errors is not None and 'role="alert"' not in errors.group(0)  # the summary is the one announcement


def test_a_page_without_errors_has_no_error_summary(hanako: Client) -> None:
    assert "data-error-summary" not in hanako.get("/reports/new/").content.decode()


def test_the_focus_areas_checkbox_group_is_a_fieldset_named_by_its_legend(hanako: Client) -> None:
    body = hanako.get("/reports/new/").content.decode()
    group = re.search(r'<fieldset class="field field--group[^"]*"[^>]*>\s*<legend>Focus areas</legend>(.*?)</fieldset>',
                      body, re.S)
    assert group is not None and 'name="focus_areas"' in group.group(1)
    assert 'for="">' not in body and "for=\"\"" not in body  # no label that points at nothing


@pytest.mark.parametrize("page", ["/reports/", "500.html"])
def test_banners_are_inside_the_header_and_footer_landmarks(hanako: Client, page: str) -> None:
    from django.template import loader

    # The server-error page stands alone (rendered without a request): the same landmarks there.
    body = hanako.get(page).content.decode() if page.startswith("/") else loader.get_template(page).render()
    header = re.search(r"<header>(.*?)</header>", body, re.S)
    footer = re.search(r"<footer>(.*?)</footer>", body, re.S)
    assert header is not None and 'data-testid="banner-top"' in header.group(1)
    assert footer is not None and 'data-testid="banner-bottom"' in footer.group(1)


def test_english_markings_are_marked_english_in_the_japanese_ui(hanako: Client) -> None:
    hanako.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    body = hanako.get("/reports/new/").content.decode()
    assert '<html lang="ja">' in body
    for testid in ("banner-top", "banner-bottom"):
        banner = re.search(rf'<div [^>]*data-testid="{testid}"[^>]*>', body)
        assert banner is not None and 'lang="en"' in banner.group(0)
    preview = re.search(r'<p class="preview-label"><span [^>]*>', body)
    assert preview is not None and 'lang="en"' in preview.group(0)
    # The label picker's markings: classifications, TLP names and community codes.
    assert re.search(r'<option value="UNCLASSIFIED" lang="en"', body)
    assert '<strong lang="en">TLP:AMBER</strong>' in body
    assert '<span lang="en">CYBER</span>' in body


def test_label_chips_are_marked_english() -> None:
    from kizuna.web.templatetags.kizuna_web import label_chip
    from tests.conftest import make_label

    label = make_label(releasable_to=["NATO"])
    assert 'lang="en"' in label_chip(label)
    assert 'lang="en"' in label_chip("NATO UNCLASSIFIED", "chip-NATO-UNCLASSIFIED")


# --- colours (WCAG 1.4.3 text, 1.4.11 focus indicator) ----------------------------------------------------------------


def _luminance(hex_colour: str) -> float:
    value = hex_colour.lstrip("#")
    channels = [int(value[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _variables(css: str) -> dict[str, str]:
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", css))


def test_the_focus_ring_stands_out_at_3_to_1_on_the_page_and_on_the_header() -> None:
    css = (STATIC / "kizuna.css").read_text()
    colours = _variables(css)
    page_ring = re.search(r"^:focus-visible \{ outline: 3px solid var\(--([a-z-]+)\)", css, re.M)
    header_ring = re.search(r"^\.site-header :focus-visible \{ outline-color: var\(--([a-z-]+)\)", css, re.M)
    assert page_ring is not None and header_ring is not None
    for ground in ("paper", "ground"):
        assert _contrast(colours[page_ring.group(1)], colours[ground]) >= 3
    assert _contrast(colours[header_ring.group(1)], colours["accent"]) >= 3


def test_recipients_of_a_label_that_is_not_red_are_dimmed_by_colour_not_opacity() -> None:
    css = re.sub(r"/\*.*?\*/", "", (STATIC / "reports.css").read_text(), flags=re.S)
    rules = [rule for rule in re.findall(r"[^{}]+\{[^}]*\}", css) if "label-recipients" in rule]
    assert rules and not any("opacity" in rule for rule in rules)
    muted = _variables((STATIC / "kizuna.css").read_text())["muted"]
    assert _contrast(muted, "#f3f5f7") >= 4.5 and _contrast(muted, "#ffffff") >= 4.5
