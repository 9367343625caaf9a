"""Property: over random demo-policy labels, random subjects and random queries, the node-wide search
(``kizuna.search.find``) never lets a record the subject may not see reach a hit, the total or a facet. Compared with
the pure-Python ``may_see`` for a subject built here, independently of the code under test: the hits over every page
are exactly the visible records containing every query word (plus, when the query holds a form of a glossary term
the subject may see, those containing its other forms), the total counts them, and every facet's counts sum to it —
whichever plan ``kizuna.search.query._newest`` takes (the whole match list of a rare query, windows of the newest
entries, or windows and then the index read), and in date order as in relevance order; a "did you mean" suggestion
appears only when nothing is found and the glossary term is visible, and finds something; and the visible threat
objects whose name contains the whole query (the threat search's rule, for a query of at least three letters in a
row) are among the hits in both sort orders, the threat search's count being the visible threat objects'."""

from __future__ import annotations

import uuid
from typing import Any
from unittest import mock

import pytest
from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st

from kizuna.core.access import clear_caches, intern_label, registry
from kizuna.core.models import label_id_for
from kizuna.core.textsearch import searchable
from kizuna.directory.models import User
from kizuna.directory.services import ensure_organisation
from kizuna.glossary.models import Term
from kizuna.glossary.services import search_text as glossary_search_text
from kizuna.glossary.text import normalise
from kizuna.labels import Label, Subject, may_see
from kizuna.reports.models import Report
from kizuna.search import find
from kizuna.search.models import SearchEntry
from kizuna.threats.models import StixObject
from kizuna.threats.store import candidate, write_batch
from tests.properties.test_endpoints import COMMUNITIES, ENDPOINT_SETTINGS, GROUPS, NATIONS, PRINCIPALS, demo_labels

WORDS = ("cyber", "defence", "maritime", "瀬取り", "방어", "사이버", "tokyo", "監視", "cyberdéfense")
TERM_FORMS = ("cyber defence", "cyberdéfense", "사이버 방어")

subjects = st.builds(
    lambda nation, clearance, communities, org: Subject(
        key=f"prop:{nation}:{clearance}:{sorted(communities)}:{org}",
        nations=frozenset({nation, GROUPS[nation]}), communities=frozenset(communities),
        clearances={"NATO": clearance} if clearance else {},
        principals=frozenset({"user:u0", f"org:{org}"})),
    st.sampled_from(NATIONS), st.sampled_from((None, "UNCLASSIFIED", "RESTRICTED")),
    st.lists(st.sampled_from(COMMUNITIES), max_size=4, unique=True), st.sampled_from(("JPN-MOD", "KOR-MND")),
)
# Stores the threat objects: sees every label demo_labels draws (the store refuses a label its writer could not see).
WRITER = Subject(key="prop:writer", nations=frozenset({*NATIONS, "NATO", "IP4"}), communities=frozenset(COMMUNITIES),
                 clearances={"NATO": "RESTRICTED"}, principals=frozenset(PRINCIPALS))
texts = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join)
MISSPELT = ("cyber defense", "cyberdefence", "사이바 방어")  # one edit from a form of the term: "did you mean"
queries = st.one_of(st.lists(st.sampled_from(WORDS), min_size=1, max_size=2).map(" ".join),
                    st.sampled_from(TERM_FORMS), st.sampled_from(MISSPELT))


@pytest.fixture
def author(directory: None) -> User:
    return User.objects.create(username="u0", nation_id="JPN", organisation=ensure_organisation("JPN-MOD"))


# How _newest is made to take each plan on a few records: every query rare (the index read), none rare and one window
# over everything, none rare and windows of one and two entries (then the index read for the rest).
PLANS = {"rare": (10**9, (20_000, 80_000)), "one window": (0, (10**6,)), "windows, then the index": (0, (1, 2))}


def _every_page(subject: Subject, query: str, sort: str = "relevance") -> tuple[list[tuple[str, int]], Any]:
    hits: list[tuple[str, int]] = []
    first = None
    cursor = None
    for _ in range(50):
        page = find(subject, query, cursor=cursor, limit=3, sort=sort)  # type: ignore[arg-type]
        first = first or page
        hits += [(h.kind, h.record_id) for h in page.hits]
        assert page.total == first.total
        cursor = page.next_cursor
        if cursor is None:
            break
    return hits, first


@pytest.mark.django_db
@ENDPOINT_SETTINGS
@given(records=st.lists(st.tuples(demo_labels(), texts), min_size=1, max_size=6), term_label=demo_labels(),
       threats=st.lists(st.tuples(demo_labels(), texts, st.booleans()), max_size=4), subject=subjects,
       query=queries, plan=st.sampled_from(sorted(PLANS)))
def test_search_reveals_nothing_the_subject_may_not_see(author: User, records: list[tuple[Label, str]],
                                                        term_label: Label, threats: list[tuple[Label, str, bool]],
                                                        subject: Subject, query: str, plan: str) -> None:
    StixObject.objects.all().delete()
    Report.objects.all().delete()
    Term.objects.all().delete()
    SearchEntry.objects.all().delete()
    clear_caches()
    org = author.organisation
    made: dict[tuple[str, int], tuple[Label, str]] = {}
    for label, text in records:
        report = Report.objects.create(title=text, body="", label=intern_label(label), originator=org, author=author)
        made[("report", report.pk)] = (label, text)
    term = Term(en=TERM_FORMS[0], fr=TERM_FORMS[1], ko=TERM_FORMS[2], ja="", area="cyber",
                label=intern_label(term_label), originator=org, created_by=author, updated_by=author)
    # The normal forms, as the services store them: "사이버 방어" is kept as "사이버방어", the form a query is read in.
    term.search_text = glossary_search_text(term)
    term.save()
    made[("term", term.pk)] = (term_label, "\n".join(TERM_FORMS))
    reg = registry()
    visible = {key for key, (label, _t) in made.items() if may_see(subject, label, reg)}
    stored: dict[tuple[str, int], tuple[Label, str]] = {}  # threat objects, named with the text
    for label, prefix, with_query in threats:
        text = f"{prefix} {query}" if with_query else prefix  # often the whole query: a likely threat search match
        obj = {"type": "malware", "spec_version": "2.1", "id": f"malware--{uuid.uuid4()}", "is_family": True,
               "created": "2026-02-01T00:00:00.000Z", "modified": "2026-02-01T00:00:00.000Z", "name": text}
        with transaction.atomic():
            written = write_batch([candidate(0, obj, label)], subject=WRITER, originator_id=author.organisation_id)
        assert written.accepted_ids == [obj["id"]]
        stored[("threat", StixObject.objects.get(stix_id=obj["id"]).pk)] = (label, text)
    needle = query.lower()
    threat_hits = {k for k, (label, text) in stored.items()
                   if may_see(subject, label, reg) and searchable(needle) and needle in text.lower()}

    rare, windows = PLANS[plan]
    with mock.patch("kizuna.search.query.RARE", rare), mock.patch("kizuna.search.query.WINDOWS", windows):
        hits, first = _every_page(subject, query)
        by_date, _first = _every_page(subject, query, sort="date")
    assert set(by_date) == set(hits) and len(by_date) == len(set(by_date))
    entries = {(e.kind, e.record_id): (e.date, e.pk) for e in SearchEntry.objects.all()}
    by_date_entries = [entries[k] for k in by_date if k[0] != "threat"]
    assert by_date_entries == sorted(by_date_entries, reverse=True)
    assert (first.threats.count if first.threats else 0) == len(threat_hits)
    assert {h for h in hits if h[0] == "threat"} == threat_hits
    all_total = first.total
    for values in first.facets.values():
        assert sum(f.count for f in values) <= all_total
    assert sum(f.count for f in first.facets["type"]) == all_total
    hits = [h for h in hits if h[0] != "threat"]
    assert set(hits) <= visible and len(hits) == len(set(hits)) == first.total - len(threat_hits)
    visible_label_ids = {label_id_for(stored[k][0]) for k in threat_hits}
    visible_label_ids |= {label_id_for(made[k][0]) for k in visible}
    assert {int(f.value) for f in first.facets["label"]} <= visible_label_ids
    # "Did you mean" comes from the visible glossary terms only (here the one term), and only for a query that finds
    # nothing, as a query that finds something for this subject.
    if ("term", term.pk) not in visible or first.total:
        assert first.suggestion is None
    else:
        assert first.suggestion is not None or query not in MISSPELT  # the term itself is found by the correction
        if first.suggestion is not None:
            assert find(subject, first.suggestion, threats=False, facets=False).total > 0
    words = query.lower().split()
    plain = {k for k in visible if all(w in made[k][1].lower() for w in words)}
    # The glossary adds the term's other forms, each as one substring, when the query holds one of its forms (not
    # only when it is one: "maritime cyberdéfense" is expanded too), compared in their normal forms.
    text = normalise(query)
    if not any(normalise(f) in text for f in TERM_FORMS) or ("term", term.pk) not in visible:
        assert set(hits) == plain
    else:
        others = [f for f in TERM_FORMS if normalise(f) not in text]
        expected = plain | {k for k in visible if any(f in made[k][1].lower() for f in others)}
        assert set(hits) == expected
