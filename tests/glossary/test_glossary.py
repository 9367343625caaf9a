"""The glossary module: the shipped starting set, the services (roles, label rules, versions, audit, idempotent
loading), the pages, the REST API (checked against the OpenAPI document), the CLI and the registration."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from kizuna.core import registry
from kizuna.core.access import label_of
from kizuna.core.errors import ServiceError
from kizuna.core.models import AuditEntry, Version
from kizuna.glossary.data import LABEL, SHIPPED, read_terms
from kizuna.glossary.demo import load_glossary_demo
from kizuna.glossary.models import AREAS, LANGUAGES, Term
from kizuna.glossary.services import (
    TermInput,
    do_create_term,
    do_delete_term,
    do_load_terms,
    do_update_term,
)
from tests.api.conftest import Api
from tests.conftest import make_label

SHARED = make_label(releasable_to=["NATO", "IP4"])
JPN_ONLY = make_label(releasable_to=["JPN"])
LABEL_FIELDS = {"label_policy": "NATO", "label_preset": "custom", "label_classification": "UNCLASSIFIED",
                "label_releasable_to": ["JPN"], "label_tlp": "AMBER", "label_recipients": ""}


@pytest.fixture
def coordinator(make_user: Any) -> Any:
    return make_user("hanako", "JPN", "JPN-MOD", role="coordinator")


def _create(user: Any, en: str = "cyber defence", label: Any = SHARED, **extra: Any) -> Term:
    fields = {"fr": "cyberdéfense", "ja": "サイバー防衛", "ko": "사이버 방어", "area": "cyber", **extra}
    return do_create_term(user, TermInput(en=en, label=label, **fields))


# ---- the shipped starting set ------------------------------------------------------------------------------------


def test_the_shipped_file_has_at_least_200_terms_each_in_all_four_languages() -> None:
    document = json.loads(SHIPPED.read_text(encoding="utf-8"))
    terms = document["terms"]
    assert len(terms) >= 200
    for term in terms:
        assert all(term[code].strip() for code in LANGUAGES), term
        assert term["area"] in AREAS, term
        assert set(term.get("variants", {})) <= set(LANGUAGES), term
    assert len({(t["en"].casefold(), t["area"]) for t in terms}) == len(terms)
    assert {t["area"] for t in terms} == AREAS  # every area of the office, and the liaison office's own words
    by_en = {t["en"]: t for t in terms}
    assert (by_en["cyber defence"]["ja"], by_en["cyber defence"]["ko"], by_en["cyber defence"]["fr"]) == (
        "サイバー防衛", "사이버 방어", "cyberdéfense")
    assert by_en["ship-to-ship transfer"]["ja"] == "瀬取り" and by_en["ship-to-ship transfer"]["ko"] == "선박 간 환적"
    assert label_of_shipped() == LABEL


def label_of_shipped() -> Any:
    [entry, *_rest] = read_terms()
    return entry.label


@pytest.mark.django_db
def test_loading_the_starting_set_twice_creates_each_term_once(coordinator: Any) -> None:
    entries = read_terms()
    first = do_load_terms(coordinator, entries)
    assert (first.created, first.unchanged) == (len(entries), 0)
    assert do_load_terms(coordinator, entries).created == 0
    assert Term.objects.count() == len(entries)
    term = Term.objects.get(en="ship-to-ship transfer")
    assert label_of(term.label) == LABEL and term.originator_id == coordinator.organisation_id
    assert "sts" in term.search_text.split("\n")
    assert AuditEntry.objects.filter(action="create", target_type="glossary-term").count() == 1


@pytest.mark.django_db
def test_the_cli_loads_the_shipped_set_once_and_shows_expansions(coordinator: Any) -> None:
    out = io.StringIO()
    call_command("glossary", "load", "--user", "hanako", stdout=out)
    assert f"{len(read_terms())} term(s) created" in out.getvalue()
    out = io.StringIO()
    call_command("glossary", "load", "--user", "hanako", stdout=out)
    assert "0 term(s) created" in out.getvalue()
    out = io.StringIO()
    call_command("glossary", "expand", "瀬取りの監視", "--user", "hanako", stdout=out)
    assert "ship-to-ship transfer" in out.getvalue().splitlines()


@pytest.mark.django_db
def test_the_cli_refuses_a_user_who_may_not_edit_the_glossary(make_user: Any) -> None:
    from django.core.management.base import CommandError

    make_user("taro", "JPN", "JPN-MOD")
    with pytest.raises(CommandError, match="coordinators and administrators"):
        call_command("glossary", "load", "--user", "taro")
    assert not Term.objects.exists()


@pytest.mark.django_db
def test_the_demo_loads_the_starting_set_and_a_narrower_term_once(make_user: Any) -> None:
    users = {"sophie": make_user("sophie", "BEL", "NATO-IS", role="coordinator")}
    assert load_glossary_demo(users) == len(read_terms()) + 1
    assert load_glossary_demo(users) == 0


# ---- services ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_coordinator_creates_changes_and_deletes_a_term_with_versions_and_audit(coordinator: Any) -> None:
    term = _create(coordinator, variants={"en": ["cyber defense", " cyber defense ", ""]})
    assert term.variants == {"en": ["cyber defense"]} and term.created_by == coordinator
    changed = do_update_term(coordinator, term, ko="사이버 방위", label=JPN_ONLY)
    assert (changed.ko, changed.version, label_of(changed.label)) == ("사이버 방위", 2, JPN_ONLY)
    assert "사이버방위" in changed.search_text
    do_delete_term(coordinator, changed)
    assert not Term.objects.exists()
    versions = Version.objects.filter(content_type="glossary.term", object_id=term.pk).order_by("number")
    assert [v.summary for v in versions] == ["created", "changed", "deleted"]
    assert [e.action for e in AuditEntry.objects.filter(target_type="glossary-term").order_by("pk")] == [
        "create", "update", "delete"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["contributor", "viewer"])
def test_contributors_and_viewers_may_read_but_not_write(coordinator: Any, make_user: Any, role: str) -> None:
    term = _create(coordinator)
    other = make_user("taro", "JPN", "JPN-MOD", role=role)
    with pytest.raises(ServiceError, match="coordinators and administrators"):
        _create(other, en="space")
    with pytest.raises(ServiceError, match="coordinators and administrators"):
        do_update_term(other, term, en="taken over")
    with pytest.raises(ServiceError, match="coordinators and administrators"):
        do_delete_term(other, term)
    assert Term.objects.get().en == "cyber defence"


@pytest.mark.django_db
def test_an_administrator_may_write(make_user: Any) -> None:
    admin = make_user("admin", "BEL", "NATO-IS", role="admin")
    assert _create(admin).originator_id == admin.organisation_id


@pytest.mark.django_db
def test_a_label_the_writer_could_not_see_is_refused_and_nothing_is_stored(coordinator: Any) -> None:
    with pytest.raises(ServiceError) as refused:
        _create(coordinator, label=make_label(releasable_to=["KOR"]))
    assert refused.value.field == "label" and not Term.objects.exists()
    term = _create(coordinator)
    with pytest.raises(ServiceError):
        do_update_term(coordinator, term, label=make_label(releasable_to=["KOR"]))
    assert label_of(Term.objects.get().label) == SHARED


@pytest.mark.django_db
@pytest.mark.parametrize(("fields", "field"), [
    ({"en": "  "}, "en"), ({"area": "weather"}, "area"), ({"variants": {"de": ["Cyberabwehr"]}}, "variants"),
    ({"fr": "x" * 201}, "fr"),
])
def test_invalid_input_is_refused_with_its_field(coordinator: Any, fields: dict[str, Any], field: str) -> None:
    data = {"en": "cyber defence", "label": SHARED, **fields}
    with pytest.raises(ServiceError) as refused:
        do_create_term(coordinator, TermInput(**data))
    assert refused.value.field == field


# ---- pages -------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_pages_list_search_and_show_terms_the_reader_may_see(coordinator: Any, kor_user: Any) -> None:
    mine = _create(coordinator, en="national cyber defence", label=JPN_ONLY, ja="国家サイバー防衛")
    shared = _create(coordinator)
    _create(coordinator, en="typhoon", fr="typhon", ja="台風", ko="태풍", area="hadr")
    japanese, korean = Client(), Client()
    japanese.force_login(coordinator)
    korean.force_login(kor_user)

    listing = japanese.get("/glossary/").content.decode()
    assert "national cyber defence" in listing and "typhoon" in listing and 'class="label-chip' in listing
    assert 'data-testid="banner-top"' in listing and 'data-testid="nav-glossary"' in listing
    assert "national cyber defence" not in korean.get("/glossary/").content.decode()
    found = japanese.get("/glossary/", {"q": "サイバー防衛"}).content.decode()
    assert "cyber defence" in found and "typhoon" not in found
    assert 'data-testid="expansions"' in found and "cyberdéfense" in found
    assert "typhoon" not in japanese.get("/glossary/", {"area": "cyber"}).content.decode()
    assert japanese.get("/glossary/", {"area": "weather"}).status_code == 400

    detail = japanese.get(f"/glossary/{mine.pk}/")
    assert detail.status_code == 200 and "国家サイバー防衛" in detail.content.decode()
    assert korean.get(f"/glossary/{mine.pk}/").status_code == 404
    assert korean.get(f"/glossary/{shared.pk}/").status_code == 200


@pytest.mark.django_db
def test_a_coordinator_creates_edits_and_deletes_through_the_pages(coordinator: Any) -> None:
    client = Client()
    client.force_login(coordinator)
    form = client.get("/glossary/new/")
    assert form.status_code == 200 and 'name="label_policy"' in form.content.decode()
    created = client.post("/glossary/new/", {"en": "ship-to-ship transfer", "ja": "瀬取り", "variants_en": "STS\nship to ship",
                                             "area": "maritime", **LABEL_FIELDS})
    term = Term.objects.get(en="ship-to-ship transfer")
    assert created.status_code == 302 and created["Location"] == f"/glossary/{term.pk}/"
    assert term.variants == {"en": ["STS", "ship to ship"]}
    assert client.post("/glossary/new/", {"en": "", "area": "maritime", **LABEL_FIELDS}).status_code == 400
    edit = client.get(f"/glossary/{term.pk}/edit/")
    assert edit.status_code == 200 and "STS\nship to ship" in edit.content.decode()
    saved = client.post(f"/glossary/{term.pk}/edit/", {"en": "ship-to-ship transfer", "ko": "선박 간 환적",
                                                        "area": "maritime", **LABEL_FIELDS})
    assert saved.status_code == 302 and Term.objects.get().ko == "선박 간 환적"
    assert client.post(f"/glossary/{term.pk}/delete/").status_code == 302 and not Term.objects.exists()


@pytest.mark.django_db
def test_a_contributor_reads_but_is_refused_the_forms(coordinator: Any, make_user: Any) -> None:
    term = _create(coordinator)
    client = Client()
    client.force_login(make_user("taro", "JPN", "JPN-MOD", role="contributor"))
    assert client.get(f"/glossary/{term.pk}/").status_code == 200
    assert "/glossary/new/" not in client.get("/glossary/").content.decode()
    assert client.get("/glossary/new/").status_code == 403
    assert client.get(f"/glossary/{term.pk}/edit/").status_code == 403
    assert client.post(f"/glossary/{term.pk}/delete/").status_code == 403
    assert Term.objects.exists()


# ---- API ---------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_lists_reads_creates_changes_and_deletes_terms(coordinator: Any, kor_user: Any,
                                                                api_for: Any) -> None:
    japanese: Api = api_for(coordinator)
    korean: Api = api_for(kor_user)
    created = japanese.post("glossary", {"en": "ship-to-ship transfer", "fr": "transbordement", "ja": "瀬取り",
                                         "ko": "선박 간 환적", "variants": {"en": ["STS"]}, "area": "maritime",
                                         "label": JPN_ONLY.as_api()})
    assert created.status_code == 201
    term = created.json()
    assert term["label"] == JPN_ONLY.as_api() and term["originator"]["code"] == "JPN-MOD" and term["version"] == 1
    assert term["variants"] == {"en": ["STS"]} and term["created_by"] == "hanako"
    assert japanese.get(f"glossary/{term['id']}").json()["ja"] == "瀬取り"
    assert [t["id"] for t in japanese.get("glossary?q=sts").json()["items"]] == [term["id"]]
    assert japanese.get("glossary?area=cyber").json()["items"] == []
    assert japanese.get("glossary?area=weather").status_code == 400
    assert korean.get("glossary").json() == {"items": [], "next_cursor": None}
    assert korean.get(f"glossary/{term['id']}").status_code == 404
    patched = japanese.patch(f"glossary/{term['id']}", {"note": "Illicit transfers at sea."})
    assert patched.status_code == 200 and patched.json()["version"] == 2
    assert japanese.patch(f"glossary/{term['id']}", {"en": None}).status_code == 400
    assert japanese.post("glossary", {"en": "x", "label": SHARED.as_api(), "extra": 1}).status_code in (400, 422)
    assert japanese.delete(f"glossary/{term['id']}").status_code == 204
    assert japanese.get(f"glossary/{term['id']}").status_code == 404


@pytest.mark.django_db
def test_the_api_pages_with_a_cursor(coordinator: Any, api_for: Any) -> None:
    for n in range(3):
        _create(coordinator, en=f"term {n}")
    api: Api = api_for(coordinator)
    first = api.get("glossary?limit=2").json()
    second = api.get(f"glossary?limit=2&cursor={first['next_cursor']}").json()
    assert [t["en"] for t in first["items"] + second["items"]] == ["term 2", "term 1", "term 0"]
    assert second["next_cursor"] is None


@pytest.mark.django_db
def test_the_api_refuses_writes_by_a_contributor(coordinator: Any, make_user: Any, api_for: Any) -> None:
    term = _create(coordinator)
    api: Api = api_for(make_user("taro", "JPN", "JPN-MOD", role="contributor"))
    assert api.get(f"glossary/{term.pk}").status_code == 200
    assert api.post("glossary", {"en": "x", "label": SHARED.as_api()}).status_code == 400
    assert api.patch(f"glossary/{term.pk}", {"en": "x"}).status_code == 400
    assert api.delete(f"glossary/{term.pk}").status_code == 400
    assert Term.objects.get().en == "cyber defence"


# ---- the registration --------------------------------------------------------------------------------------------


def test_the_module_is_registered_with_its_type_pages_api_and_demo() -> None:
    [module] = [m for m in registry.modules() if m.name == "glossary"]
    [record_type] = module.types
    assert record_type.model == "glossary.Term" and record_type.stix_types == ()
    assert module.nav == "glossary/_nav_entry.html" and module.demo is not None


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "words"), [
    ("ja", ["用語集", "いずれかの言語で検索", "日本語", "サイバー防衛"]),
    ("fr", ["Glossaire", "Rechercher dans n'importe quelle langue", "Japonais"]),
    ("ko", ["용어집", "어느 언어로든 검색", "한국어"]),
])
def test_the_glossary_pages_read_in_every_language(coordinator: Any, language: str, words: list[str]) -> None:
    from django.conf import settings

    term = _create(coordinator)
    client = Client()
    client.force_login(coordinator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    body = client.get("/glossary/").content.decode() + client.get(f"/glossary/{term.pk}/").content.decode()
    assert f'<html lang="{language}"' in body
    for word in words:
        assert word.replace("'", "&#x27;") in body or word in body, word


@pytest.mark.django_db
def test_the_banner_covers_the_terms_whose_words_the_expansions_show(coordinator: Any) -> None:
    import re

    _create(coordinator, en="ship-to-ship transfer", ja="瀬取り", area="maritime",
            label=make_label(releasable_to=["JPN"], classification="RESTRICTED"))
    client = Client()
    client.force_login(coordinator)
    body = client.get("/glossary/", {"q": "瀬取りの監視"}).content.decode()
    assert 'data-testid="term-list"' not in body and "ship-to-ship transfer" in body  # no row, but its words
    banner = re.search(r'data-testid="banner-top".*?</', body, re.S)
    assert banner is not None and "RESTRICTED" in banner.group(0)


@pytest.mark.django_db
def test_a_search_with_control_characters_is_answered(coordinator: Any, api_for: Any) -> None:
    _create(coordinator)
    api: Api = api_for(coordinator)
    assert [t["en"] for t in api.get("glossary?q=cyber%00defence").json()["items"]] == ["cyber defence"]
