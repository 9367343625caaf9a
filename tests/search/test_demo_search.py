"""The search over the demo scenario (``kizuna demo``): every declared type is indexed (meetings, agenda items,
minutes, decisions, actions, series, reports, practices, glossary terms), the rebuild after the demo is idempotent,
unpublished agendas and minutes stay out, and each hit's URL is its record's own page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from kizuna.consultations.models import AgendaItem, MinutesPart
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.search import find
from kizuna.search.index import rebuild
from kizuna.search.models import SearchEntry
from tests.cli.helpers import kizuna

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db: Any) -> None:
    kizuna("demo")


def test_every_declared_type_of_the_demo_is_indexed(demo: None) -> None:
    kinds = set(SearchEntry.objects.values_list("kind", flat=True))
    assert {"report", "term", "series", "meeting", "agenda-item", "minutes", "decision", "action"} <= kinds
    before = SearchEntry.objects.count()
    assert sum(rebuild().values()) == before == SearchEntry.objects.count()
    published = AgendaItem.objects.filter(meeting__agenda_published_at__isnull=False).count()
    assert SearchEntry.objects.filter(kind="agenda-item").count() == published
    assert SearchEntry.objects.filter(kind="minutes").count() == MinutesPart.objects.filter(
        meeting__minutes_published_at__isnull=False).count()


def test_every_hit_opens_a_page_its_reader_may_open(demo: None) -> None:
    user = User.objects.get(username="minjun")
    client = Client()
    client.force_login(user)
    results = find(subject_for(user), "cyber", limit=100, threats=False)
    assert {h.kind for h in results.hits} >= {"report", "meeting"}
    for hit in results.hits:
        assert client.get(hit.url).status_code == 200, hit


def test_the_demo_threat_objects_are_among_the_hits_and_open(demo: None) -> None:
    user = User.objects.get(username="minjun")
    client = Client()
    client.force_login(user)
    results = find(subject_for(user), "demo", limit=100)
    threats = [h for h in results.hits if h.kind == "threat"]
    assert {"Coral Lantern (demo)", "KoiLoader (demo)"} <= {h.title for h in threats}
    for hit in threats:
        assert client.get(hit.url).status_code == 200, hit
