"""The base layout: CSP and no inline style or script, banners top and bottom, the language switcher, error pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from kizuna.core.access import intern_label
from kizuna.labels import Label
from kizuna.web.banner import banner_class, banners_css, chip_class
from kizuna.web.middleware import CSP
from tests.web.helpers import audit_page

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/account/", "/no-such-page/"])
def test_signed_in_pages_have_csp_and_nothing_inline(signed_in: Client, path: str) -> None:
    response = signed_in.get(path)
    assert response["Content-Security-Policy"] == CSP
    assert "style-src 'self'" in response["Content-Security-Policy"]
    page = audit_page(response.content.decode())
    assert page.violations == []
    assert "/static/kizuna/vendor/htmx.min.js" in page.scripts


def test_login_page_has_csp_and_nothing_inline(client: Client, directory: None) -> None:
    response = client.get("/login/")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert audit_page(response.content.decode()).violations == []


def test_htmx_is_configured_not_to_inject_its_indicator_style(signed_in: Client) -> None:
    body = signed_in.get("/account/").content.decode()
    assert '"includeIndicatorStyles": false' in body


def test_banners_are_at_top_and_bottom_with_the_policy_class(signed_in: Client) -> None:
    page = audit_page(signed_in.get("/account/").content.decode())
    assert [b["data-testid"] for b in page.banners] == ["banner-top", "banner-bottom"]
    for banner in page.banners:
        assert "banner-NATO-UNCLASSIFIED" in banner["class"].split()


def test_banner_takes_the_class_of_the_highest_label_noted(rf: Any, jpn_user: Any) -> None:
    from kizuna.web.banner import banner_for, note_labels

    request = rf.get("/")
    low = Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["NATO", "IP4"]}, "GREEN", [])
    high = Label.build("NATO", "RESTRICTED", {"releasable_to": ["NATO", "IP4"]}, "AMBER", [])
    note_labels(request, low, intern_label(high))
    banner = banner_for(request)
    assert banner.css_class == "banner-NATO-RESTRICTED"
    assert banner.text == "NATO RESTRICTED"


def test_banner_of_one_record_with_parts_is_their_least_upper_bound(rf: Any, jpn_user: Any) -> None:
    from kizuna.web.banner import banner_for, note_document

    request = rf.get("/")
    low = Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["NATO", "IP4"], "communities": ["CYBER"]}, "GREEN", [])
    high = Label.build("NATO", "RESTRICTED", {"releasable_to": ["IP4"], "communities": ["SPACE"]}, "AMBER", [])
    note_document(request, low, intern_label(high))
    banner = banner_for(request)
    assert banner.css_class == "banner-NATO-RESTRICTED"
    assert banner.text == "NATO RESTRICTED REL TO IP4 // CYBER, SPACE // TLP:AMBER"


def test_banner_of_parts_with_no_releasability_in_common_falls_back_to_the_classification(
        rf: Any, jpn_user: Any) -> None:
    from kizuna.web.banner import banner_for, note_document

    request = rf.get("/")
    note_document(request, Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["JPN"]}, "GREEN", []),
                  Label.build("NATO", "RESTRICTED", {"releasable_to": ["KOR"]}, "AMBER", []))
    assert banner_for(request).text == "NATO RESTRICTED"


def test_banner_stylesheet_has_a_rule_per_classification(client: Client, directory: None) -> None:
    response = client.get("/banners.css")
    assert response["Content-Type"].startswith("text/css")
    css = response.content.decode()
    assert f".{banner_class('NATO', 'RESTRICTED')}" in css and "#c8102e" in css
    assert f".label-chip.{chip_class('NATO', 'UNCLASSIFIED')}" in css and "#007a33" in css


def test_banner_stylesheet_refuses_colours_that_are_not_hex() -> None:
    from kizuna.labels.policy import PolicyRegistry, policy_from_dict

    policy = policy_from_dict({
        "identifier": "X Y", "classifications": [{"name": "LOW", "banner_colour": "red;}body{x:y", "text_colour": "#fff"}],
    })
    css = banners_css(PolicyRegistry([policy]))
    assert "body{" not in css
    assert ".banner-X-Y-LOW" in css


def test_language_switch_to_japanese_changes_html_lang(signed_in: Client) -> None:
    assert '<html lang="en">' in signed_in.get("/account/").content.decode()
    response = signed_in.post("/i18n/setlang/", {"language": "ja", "next": "/account/"})
    assert response.status_code == 302
    body = signed_in.get("/account/").content.decode()
    assert '<html lang="ja">' in body
    assert "アカウント" in body  # the page is translated, not only marked


def test_language_switcher_works_before_signing_in(client: Client, directory: None) -> None:
    client.post("/i18n/setlang/", {"language": "ja", "next": "/login/"})
    body = client.get("/login/").content.decode()
    assert '<html lang="ja">' in body
    assert "ログイン" in body


def test_header_shows_the_user_and_nation(signed_in: Client) -> None:
    body = signed_in.get("/account/").content.decode()
    identity = body.split('data-testid="user-identity"', 1)[1].split("<form", 1)[0]
    assert "hanako" in identity and "JPN" in identity


def test_not_found_page_says_only_not_found(signed_in: Client) -> None:
    response = signed_in.get("/reports/999999999/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Not found" in body
    for hint in ("permission", "not allowed", "label", "clearance", "999999999"):
        assert hint not in body.split('<main', 1)[1].split("</main>", 1)[0].lower()


def test_server_error_page_stands_alone_with_banners(directory: None) -> None:
    from django.template import loader

    html = loader.get_template("500.html").render()
    page = audit_page(html)
    assert [b["data-testid"] for b in page.banners] == ["banner-top", "banner-bottom"]
    assert page.violations == []


def test_label_chip_tag_colours_by_classification(directory: None) -> None:
    from django.template import Context, Template

    label = Label.build("NATO", "RESTRICTED", {"releasable_to": ["JPN"]}, "AMBER", [])
    html = Template("{% load kizuna_web %}{% label_chip label %}").render(Context({"label": label}))
    assert 'class="label-chip chip-NATO-RESTRICTED"' in html
    assert "NATO RESTRICTED REL TO JPN" in html


def test_htmx_is_vendored_with_its_licence() -> None:
    from pathlib import Path

    import kizuna.web

    vendor = Path(kizuna.web.__file__).parent / "static" / "kizuna" / "vendor"
    assert (vendor / "htmx.min.js").read_text(encoding="utf-8").startswith("var htmx=")
    assert "Zero-Clause BSD" in (vendor / "htmx.LICENSE.txt").read_text(encoding="utf-8")


def test_every_page_template_string_has_a_japanese_translation() -> None:
    from pathlib import Path

    import kizuna.web

    po = (Path(kizuna.web.__file__).parent / "locale" / "ja" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    entries = po.split("\n\n")[1:]
    untranslated = [entry for entry in entries if entry.rstrip().endswith('msgstr ""')]
    assert untranslated == []
