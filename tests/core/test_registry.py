"""The registry of shareable types as data: registration order, refusals of a module name, STIX type or collection id
registered twice (with the module that holds it), and the views federation, the nav and the demo read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db.models import Q

from kizuna.core import registry


@pytest.fixture
def scratch() -> Iterator[list[str]]:
    """Names of modules a test registers, removed afterwards so the project's registry is left as it was."""
    names: list[str] = []
    yield names
    for name in names:
        registry.unregister(name)


def _module(name: str, stix_type: str, collection_id: str = "", order: int = 99) -> registry.Module:
    collections = (registry.TaxiiCollection(collection_id, name.title(), "", Q(type=stix_type)),) if collection_id \
        else ()
    return registry.Module(
        name=name, display_name=name.title(),
        types=(registry.RecordType(model="reports.Report", stix_types=(stix_type,), collections=collections,
                                   receive=lambda objects, originator: None),),
        nav=f"{name}/_nav_entry.html", demo=registry.DemoData(lambda users: 0, order=order, noun="thing(s)"))


def test_a_module_is_listed_after_the_ones_registered_before_it(scratch: list[str]) -> None:
    before = [m.name for m in registry.modules()]
    registry.register(_module("zeta", "x-zeta", "6b697a75-6e61-4000-8000-0000000000f2", order=1))
    scratch.append("zeta")
    assert [m.name for m in registry.modules()] == [*before, "zeta"]
    assert registry.nav_entries()[-1] == "zeta/_nav_entry.html"
    assert "x-zeta" in registry.receivers()
    assert registry.collections()[-1].title == "Zeta"  # ordered by id
    assert registry.demo_loaders()[0][0].name == "zeta"  # ordered by the loader's order


@pytest.mark.parametrize(("twin", "message"), [
    (lambda: _module("reports", "x-other"), "module 'reports' is already registered"),
    (lambda: _module("twin", "kizuna-report"), "STIX type 'kizuna-report' of module 'twin' is already registered "
                                               "by module 'reports'"),
    (lambda: _module("twin", "x-twin", "6b697a75-6e61-4000-8000-000000000002"),
     "TAXII collection 6b697a75-6e61-4000-8000-000000000002 (Twin) of module 'twin' is already registered by module "
     "'threats'"),
])
def test_a_name_type_or_collection_registered_twice_is_refused(twin: object, message: str) -> None:
    before = registry.modules()
    with pytest.raises(registry.RegistryError) as refused:
        registry.register(twin())  # type: ignore[operator]
    assert str(refused.value) == message
    assert registry.modules() == before


def test_a_module_may_not_repeat_a_stix_type_of_its_own(scratch: list[str]) -> None:
    module = registry.Module(name="double", display_name="Double", types=(
        registry.RecordType(model="reports.Report", stix_types=("x-double",)),
        registry.RecordType(model="reports.Report", stix_types=("x-double",))))
    with pytest.raises(registry.RegistryError, match="'x-double' of module 'double'"):
        registry.register(module)
