"""The contracts, enumerated over the registry of shareable types (``kizuna.core.registry``): every registered record
type is a labelled model, is served in a TAXII collection, and every route of its module that takes an id — its
pages and its API router — is in the hidden-equals-missing table (``test_hidden_equals_missing.CASES``, or
``NOT_LABELLED`` with a reason). A new module that registers itself is held to all three without a line here."""

from __future__ import annotations

import json
import re
from importlib import import_module
from typing import Any

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver
from django.utils.module_loading import import_string

from kizuna.core import registry
from kizuna.core.models import Labelled
from kizuna.federation.taxii.collections import collections
from kizuna.threats.models import StixObject

from .test_hidden_equals_missing import _api_routes, _canonical, _covered, _excluded

TYPES = [pytest.param(module, record_type, id=record_type.model) for module, record_type in registry.record_types()]
MODULES = [pytest.param(module, id=module.name) for module in registry.modules()]


def test_the_registry_holds_every_domain_module() -> None:
    names = [m.name for m in registry.modules()]
    assert {"reports", "practices", "consultations", "threats", "federation"} <= set(names)
    assert len(names) == len(set(names))


@pytest.mark.parametrize(("module", "record_type"), TYPES)
def test_every_registered_type_is_a_labelled_model(module: registry.Module, record_type: registry.RecordType) -> None:
    model = apps.get_model(record_type.model)
    assert issubclass(model, Labelled) and model._meta.get_field("label").related_model._meta.label == "core.LabelRecord"
    for name in record_type.text_fields:
        model._meta.get_field(name)  # raises FieldDoesNotExist for a stale name


def _sample(stix_type: str, record_type: registry.RecordType) -> StixObject:
    """A stored object of the type, carrying the type's extension (as the type's own objects do)."""
    extensions = {}
    if record_type.extension_definition is not None:
        extensions = {record_type.extension_definition()["id"]: {"extension_type": "new-sdo"}}
    data = {"type": stix_type, "id": f"{stix_type}--00000000-0000-4000-8000-000000000000", "extensions": extensions}
    return StixObject(type=stix_type, data=json.dumps(data))


@pytest.mark.django_db
@pytest.mark.parametrize(("module", "record_type"), TYPES)
def test_every_registered_type_is_served_in_a_taxii_collection(
        module: registry.Module, record_type: registry.RecordType, make_user: Any) -> None:
    """Each STIX type is in some collection (the collection of everything serves every type); when the module
    registers collections of its own, the type is in one of them."""
    from kizuna.core.access import intern_label
    from tests.conftest import make_label

    owner = make_user("hanako", "JPN", "JPN-MOD")
    label = intern_label(make_label(releasable_to=["JPN"]))
    own = [c for c in collections() if c.id in {x.id for x in record_type.collections}]
    served_by_own = set()
    for stix_type in record_type.stix_types:
        row = _sample(stix_type, record_type)
        row.label, row.originator, row.modified, row.stix_id = label, owner.organisation, "x", f"{stix_type}--x"
        row.save()
        rows = StixObject.objects.filter(pk=row.pk)
        assert any(c.condition is None or rows.filter(c.condition).exists() for c in collections())
        served_by_own |= {stix_type for c in own if c.condition is not None and rows.filter(c.condition).exists()}
    if own:
        assert served_by_own, f"no STIX type of {record_type.model} is in the module's own collections"


def _module_routes(module: registry.Module) -> set[str]:
    """The routes of the module's URL includes that take an id, with their prefix, as the URL map spells them."""
    def walk(patterns: list[Any], prefix: str) -> Any:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    routes: set[str] = set()
    for entry in module.urls:
        routes |= {r for r in walk(import_module(entry.module).urlpatterns, entry.prefix) if "<" in r}
    return routes


@pytest.mark.django_db
@pytest.mark.parametrize("module", MODULES)
def test_every_route_of_a_registered_module_is_in_the_hidden_equals_missing_contract(module: registry.Module) -> None:
    covered = {key.split(" ", 1)[1] for key in _covered()}
    pages = sorted(r for r in _module_routes(module) if _canonical(r) not in covered and not _excluded(r))
    api = sorted(k for k in _api_routes() if _owned_by(module, k) and _canonical(k) not in _covered())
    assert pages == [] and api == [], f"{module.name}: routes that take an id but have no case: {pages + api}"


def _owned_by(module: registry.Module, key: str) -> bool:
    """Whether an API route belongs to the module's routers (several routers share the root prefix)."""
    path = "/" + key.split(" ", 1)[1].removeprefix("api/v1/")
    for entry in module.api:
        router = import_string(entry.router) if isinstance(entry.router, str) else entry.router
        prefix = entry.prefix.rstrip("/")
        for route in router.path_operations:
            if _canonical(prefix + re.sub(r"\{(?:\w+:)?(\w+)\}", r"<\1>", route)) == _canonical(path):
                return True
    return False


def test_the_route_lists_see_the_modules_own_routes() -> None:
    """The two listings above are not empty by mistake: they find the worked example's page and API routes."""
    [practices] = [m for m in registry.modules() if m.name == "practices"]
    assert _module_routes(practices) == {"practices/<int:pk>/"}
    assert {k for k in _api_routes() if _owned_by(practices, k)} == {"GET api/v1/practices/<id>",
                                                                     "PATCH api/v1/practices/<id>"}


def test_the_taxii_collections_keep_their_ids_titles_and_order() -> None:
    """Peers name collections by id: the registered ones are those the node had before the registry, unchanged and
    in the same order, then the worked example's."""
    assert [(c.id[-2:], c.title, c.description, c.condition is None) for c in collections()] == [
        ("01", "Everything", "Every STIX object of this node the caller may see", True),
        ("02", "Cyber", "Indicators, malware, actors, observables and their relationships and sightings", False),
        ("03", "Disinformation", "Disinformation incidents and DISARM techniques", False),
        ("04", "Maritime", "Maritime observations and incidents", False),
        ("05", "Strategic", "Strategic sites and events", False),
        ("06", "Reports", "Shared reports and best-practice papers (kizuna-report objects), withdrawn ones included",
         False),
        ("07", "Best practice", "Best-practice notes shared between partners (kizuna-practice objects)", False),
    ]
    assert all(c.id.startswith("6b697a75-6e61-4000-8000-0000000000") for c in collections())
