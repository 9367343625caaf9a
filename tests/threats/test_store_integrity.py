"""The STIX store without database constraints on its hot foreign keys (label, originator, observable value ->
object): what the store guarantees in code instead, and text with COPY's special characters stored unchanged (on
PostgreSQL the COPY text is made by the store itself)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import IntegrityError

from kizuna.directory.subjects import subject_for
from kizuna.threats.models import ObservableValue, StixObject
from kizuna.threats.services import do_import_objects
from kizuna.threats.store import candidate, write_batch
from tests.conftest import make_label
from tests.threats.test_import_fixtures import T1, current, indicator, values_of

NATO_IP4 = make_label(releasable_to=["NATO", "IP4"])
TRICKY = "tab\there, new\nline, cr\r, back\\slash, \\N, \\t literal, é, 😀"


def test_text_with_copy_special_characters_is_stored_unchanged(jpn_user: Any) -> None:
    ind = indicator("198.51.100.9", name=TRICKY, description=TRICKY)
    url = {"type": "url", "spec_version": "2.1", "id": "url--0f3b9a8e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
           "value": "https://example.org/a\tb\\c"}
    summary = do_import_objects(jpn_user, [ind, url], NATO_IP4, "test")
    assert summary.accepted == 2, summary.errors
    row = current(ind["id"])
    assert row.name == TRICKY
    assert json.loads(row.data) == ind
    assert row.is_current and not row.revoked
    assert values_of(url["id"]) == {("url", "https://example.org/a\tb\\c")}


def test_values_of_a_superseded_version_are_deleted_by_the_store(jpn_user: Any) -> None:
    old = indicator("198.51.100.10")
    do_import_objects(jpn_user, [old], NATO_IP4, "test")
    new = indicator("198.51.100.11", stix_id=old["id"], modified=T1)
    do_import_objects(jpn_user, [new], NATO_IP4, "test")
    assert values_of(old["id"]) == {("ipv4-addr", "198.51.100.11")}
    # Every value row points at a stored, current object (no database constraint checks this).
    orphans = ObservableValue.objects.exclude(obj_id__in=StixObject.objects.filter(is_current=True).values("pk"))
    assert not orphans.exists()


def test_a_batch_for_an_organisation_that_does_not_exist_is_refused(jpn_user: Any) -> None:
    with pytest.raises(IntegrityError):
        write_batch([candidate(0, indicator("198.51.100.12"), NATO_IP4)], subject=subject_for(jpn_user),
                    originator_id=987654321)
    assert not StixObject.objects.exists()


def test_a_stored_object_deleted_through_the_orm_takes_its_values_along(jpn_user: Any) -> None:
    ind = indicator("198.51.100.13")
    do_import_objects(jpn_user, [ind], NATO_IP4, "test")
    current(ind["id"]).delete()
    assert not ObservableValue.objects.filter(value="198.51.100.13").exists()
