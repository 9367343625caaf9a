"""Issue 14: an organisation and the node carry a name per language; pages show the reader's, English otherwise."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from kizuna.directory.models import Organisation, name_in_language
from kizuna.web.context import node_display_name

MOD_NAMES = {"ja": "防衛省", "ko": "일본 방위성", "fr": "ministère de la Défense du Japon"}


def test_a_name_follows_the_language_and_falls_back_to_english() -> None:
    with translation.override("ja"):
        assert name_in_language(MOD_NAMES, "Japan Ministry of Defense") == "防衛省"
    with translation.override("fr-ca"):
        assert name_in_language(MOD_NAMES, "Japan Ministry of Defense") == "ministère de la Défense du Japon"
    with translation.override("en"):
        assert name_in_language(MOD_NAMES, "Japan Ministry of Defense") == "Japan Ministry of Defense"
    with translation.override("ko"):
        assert name_in_language({"ja": "防衛省", "ko": " "}, "Japan Ministry of Defense") == "Japan Ministry of Defense"
        assert name_in_language(None, "X") == "X"


@pytest.mark.django_db
def test_an_organisations_display_name_is_the_readers(directory: None) -> None:
    org = Organisation.objects.create(code="JPN-MODX", name="Japan Ministry of Defense X", nation_id="JPN",
                                      names=MOD_NAMES)
    with translation.override("ko"):
        assert org.display_name == "일본 방위성" and str(org) == "일본 방위성"
    assert org.display_name == "Japan Ministry of Defense X"


@pytest.mark.django_db
def test_names_must_map_language_codes_to_text(directory: None) -> None:
    org = Organisation(code="X", name="X", names={"ja": 3})
    with pytest.raises(ValidationError):
        org.clean()
    Organisation(code="Y", name="Y", names=MOD_NAMES).clean()


def test_the_node_name_is_shown_in_the_readers_language() -> None:
    assert node_display_name() == settings.KIZUNA_NODE_NAME
    with translation.override("ja"):
        assert node_display_name() == settings.KIZUNA_NODE_NAMES.get("ja", settings.KIZUNA_NODE_NAME)


@pytest.mark.django_db
def test_the_report_list_shows_the_originators_japanese_name(jpn_user: Any) -> None:
    from kizuna.reports.services import ReportInput, do_create_report
    from tests.conftest import make_label

    org = jpn_user.organisation
    org.names = {"ja": "防衛省テスト"}
    org.save()
    do_create_report(jpn_user, ReportInput(title="Port visit", summary="", body="", kind="report",
                                           focus_areas=["maritime"], label=make_label(releasable_to=["JPN"])))
    client = Client()
    client.force_login(jpn_user)
    assert org.name in client.get("/reports/").content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    body = client.get("/reports/").content.decode()
    assert "防衛省テスト" in body


@pytest.mark.django_db
def test_the_demo_names_its_organisations_in_japanese_korean_and_french(directory: None) -> None:
    from kizuna.demo.people import load_people

    load_people()  # NATO-IS already exists (the directory seeds it): it gets the demo's names too
    with translation.override("ja"):
        assert Organisation.objects.get(code="JPN-MOD").display_name == "防衛省"
        assert Organisation.objects.get(code="NATO-IS").display_name == "NATO国際事務局"
    with translation.override("ko"):
        assert Organisation.objects.get(code="JPN-MOD").display_name == "일본 방위성"
    with translation.override("fr"):
        assert Organisation.objects.get(code="JPN-MOD").display_name == "ministère de la Défense du Japon"
