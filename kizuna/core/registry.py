"""The registry of shareable types: each domain app declares, in its ``AppConfig.ready()``, one ``Module`` holding its
labelled record types (model, STIX types, extension-definition, how to receive and publish its STIX form, its TAXII
collections, its text fields) and the module's pages, API router, navigation entry and demo data.

Federation (inbound handlers, TAXII collections, fixed definitions), the URL map, the API, the navigation, the demo
and the contract tests enumerate the registry; none of them names an app. Adding a labelled module is one app folder,
one ``register(Module(...))`` and one ``INSTALLED_APPS`` line (docs/adding-a-type.md).

Dashboard panels (``Panel``) are contributions of the same kind: a module lists them in ``Module.panels`` (or calls
``register_panel``), and the home page (``/``) shows every registered panel in ``order`` without naming an app.

Pure data and functions: nothing here imports a Kizuna app (core imports only ``kizuna.labels``). Entries are kept in
registration order, which is the order of ``INSTALLED_APPS`` (apps' ``ready()`` run in that order).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q


@dataclass(frozen=True)
class Sender:
    """The peer a page of objects came from, as a receiving handler needs it: its organisation (the originator of
    what it sent), its name (for log lines) and its account (the author of records made from its objects). Given by
    federation so that no app imports federation's models."""

    organisation_id: int
    name: str
    account: Any


# (objects of the type, the peer they came from): turns stored STIX objects received from a peer into records.
Receiver = Callable[[list[dict[str, Any]], Sender], None]
# (demo users by username) -> how many records were created; idempotent.
DemoLoad = Callable[[dict[str, Any]], int]


class RegistryError(Exception):
    """A registration that would make two modules claim the same STIX type, collection id or module name."""


@dataclass(frozen=True)
class TaxiiCollection:
    """A TAXII collection of the node (fixed id, the same on every node) and which stored STIX objects it holds:
    ``condition`` is a Q object over the threat store's rows (``type``, ``data`` ...)."""

    id: str
    title: str
    description: str
    condition: Q


@dataclass(frozen=True)
class Searchable:
    """How a record type is searched (``kizuna.search``): a module makes a type searchable with one of these.

    ``key`` names the type in results, facets and the API (``type=report``); ``name`` is its display name (a lazily
    translated string). The indexed text is the ``fields`` joined (or ``text(obj)`` when given). ``url(obj)`` is the
    record's own page; ``title`` a field name or a callable; ``area`` and ``nation`` callables giving the record's
    area (a focus-area value, "" for none) and originating nation (default: the originator organisation's nation);
    ``date_field`` the moment results are sorted and faceted by. ``active(obj)`` false keeps a record out of the index
    (withdrawn, a draft not yet published); ``dependants(obj)`` are the records of other searchable types whose
    entries change with this one (a meeting's agenda items when the agenda is published). ``select_related`` are
    the paths the rebuild reads with each row."""

    key: str
    name: Any
    url: Callable[[Any], str]
    fields: tuple[str, ...] = ()
    text: Callable[[Any], str] | None = None
    title: str | Callable[[Any], str] = "title"
    area: Callable[[Any], str] | None = None
    nation: Callable[[Any], str] | None = None
    date_field: str = "created_at"
    active: Callable[[Any], bool] | None = None
    dependants: Callable[[Any], Iterable[Any]] | None = None
    select_related: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecordType:
    """A labelled record type: its model (``"app_label.Model"``), the STIX types its records travel as, the
    extension-definition that declares them (a callable returning the dict, or None when it needs none), the inbound
    handler (called by sync inside the page's transaction; must be idempotent), the backfill that publishes every
    record's STIX form, the TAXII collections that serve it, the fields that hold its text, and ``search``: how the
    node-wide search indexes it (``Searchable``; None: not searched)."""

    model: str
    stix_types: tuple[str, ...]
    extension_definition: Callable[[], dict[str, Any]] | None = None
    receive: Receiver | None = None
    publish_all: Callable[[], Any] | None = None
    collections: tuple[TaxiiCollection, ...] = ()
    text_fields: tuple[str, ...] = ()
    search: Searchable | None = None


@dataclass(frozen=True)
class UrlInclude:
    """``path(prefix, include(module))`` in the project's URL map."""

    prefix: str
    module: str


@dataclass(frozen=True)
class ApiRouter:
    """``api.add_router(prefix, router)``: the router object, or its dotted path (``"kizuna.reports.api.router"``)."""

    prefix: str
    router: str | object


@dataclass(frozen=True)
class DemoData:
    """The module's part of ``kizuna demo``: ``load(users)`` returns how many records it created (0 when they were
    already there); loaders run by ascending ``order``; ``noun`` names the count in the command's summary line."""

    load: DemoLoad
    order: int
    noun: str


@dataclass(frozen=True)
class PanelItem:
    """One line of a dashboard panel: a record the reader may see now, linking to the record's own page.
    ``label`` is the record's ``LabelRecord``: shown as a chip and noted for the page's banner by the dashboard, so a
    panel cannot show a record without its marking reaching the banner. ``when`` is a moment shown in the reader's
    time zone (``{% when %}``); ``note`` a short text after it (e.g. a due date); ``warn`` marks it (e.g. overdue)."""

    title: str
    url: str
    label: Any = None
    when: datetime | None = None
    note: str = ""
    warn: bool = False


@dataclass(frozen=True)
class PanelContent:
    """What a panel shows for one reader: its items (at most a handful), an optional ``count`` (e.g. unread
    notifications; it must count only what the reader may see) and any ``labels`` shown besides the items'."""

    items: Sequence[PanelItem] = ()
    count: int | None = None
    labels: Sequence[Any] = ()
    extra: dict[str, Any] = field(default_factory=dict)  # for a panel with a template of its own


# (request, subject, user) -> the panel's content for that reader. Every query inside starts from the enforcement
# point (``visible_to`` and the module's own queries), filtered in the query, never after it.
PanelSource = Callable[[Any, Any, Any], PanelContent]


@dataclass(frozen=True)
class Panel:
    """A panel of the home dashboard. ``title`` and ``empty`` (what would appear here, said when nothing does) are
    lazily translated strings; ``see_all`` is the URL name of the full list; panels are shown by ascending ``order``
    (then registration order). ``template`` renders one panel (``web/_panel.html`` draws the items; a panel of its
    own shape may name another, which gets ``panel`` and ``content`` in its context)."""

    key: str
    title: Any
    order: int
    content: PanelSource
    empty: Any
    see_all: str
    see_all_text: Any = None
    template: str = "web/_panel.html"


@dataclass(frozen=True)
class Module:
    """One app's registration. ``nav`` is a template fragment included in the main navigation (an app with a badge
    keeps its template tag inside its fragment); the navigation, URL map and API follow registration order."""

    name: str
    display_name: str
    types: tuple[RecordType, ...] = ()
    urls: tuple[UrlInclude, ...] = ()
    api: tuple[ApiRouter, ...] = ()
    nav: str | None = None
    demo: DemoData | None = None
    panels: tuple[Panel, ...] = ()
    # A fragment of the account page (e.g. the notifications' e-mail preference), included with the page's context.
    account: str | None = None


_MODULES: dict[str, Module] = {}
_PANELS: dict[str, Panel] = {}


def register(module: Module) -> None:
    """Add a module (from its app's ``ready()``). Refuses a name, STIX type or collection id already registered."""
    if module.name in _MODULES:
        raise RegistryError(f"module {module.name!r} is already registered")
    stix_owner = {t: m.name for m in _MODULES.values() for rt in m.types for t in rt.stix_types}
    collection_owner = {c.id: m.name for m in _MODULES.values() for rt in m.types for c in rt.collections}
    seen_types: set[str] = set()
    seen_collections: set[str] = set()
    for record_type in module.types:
        for stix_type in record_type.stix_types:
            if stix_type in stix_owner or stix_type in seen_types:
                owner = stix_owner.get(stix_type, module.name)
                raise RegistryError(f"STIX type {stix_type!r} of module {module.name!r} is already registered by "
                                    f"module {owner!r}")
            seen_types.add(stix_type)
        for collection in record_type.collections:
            if collection.id in collection_owner or collection.id in seen_collections:
                owner = collection_owner.get(collection.id, module.name)
                raise RegistryError(f"TAXII collection {collection.id} ({collection.title}) of module "
                                    f"{module.name!r} is already registered by module {owner!r}")
            seen_collections.add(collection.id)
    for panel in module.panels:
        if panel.key in _PANELS:
            raise RegistryError(f"dashboard panel {panel.key!r} of module {module.name!r} is already registered")
    _MODULES[module.name] = module
    for panel in module.panels:
        _PANELS[panel.key] = panel


def unregister(name: str) -> None:
    """Remove a module and its panels (tests that register a module of their own)."""
    module = _MODULES.pop(name, None)
    for panel in module.panels if module is not None else ():
        _PANELS.pop(panel.key, None)


def register_panel(panel: Panel) -> None:
    """Add a dashboard panel on its own (a module may also list it in ``Module.panels``). Refuses a key already
    registered."""
    if panel.key in _PANELS:
        raise RegistryError(f"dashboard panel {panel.key!r} is already registered")
    _PANELS[panel.key] = panel


def unregister_panel(key: str) -> None:
    """Remove a dashboard panel (tests that add one of their own)."""
    _PANELS.pop(key, None)


def panels() -> list[Panel]:
    """Every registered dashboard panel by ascending ``order``, then registration order."""
    return sorted(_PANELS.values(), key=lambda p: p.order)


def account_sections() -> list[str]:
    """The account-page fragments of the registered modules, in registration order."""
    return [m.account for m in _MODULES.values() if m.account]


def modules() -> tuple[Module, ...]:
    """Every registered module, in registration order."""
    return tuple(_MODULES.values())


def record_types() -> Iterator[tuple[Module, RecordType]]:
    """Every registered record type with its module, in registration order."""
    for module in _MODULES.values():
        for record_type in module.types:
            yield module, record_type


def searchable_types() -> list[tuple[RecordType, Searchable]]:
    """Every record type that declares how it is searched, in registration order."""
    return [(rt, rt.search) for _, rt in record_types() if rt.search is not None]


def receivers() -> dict[str, Receiver]:
    """The inbound handler of each STIX type that has one."""
    return {t: rt.receive for _, rt in record_types() if rt.receive is not None for t in rt.stix_types}


def collections() -> list[TaxiiCollection]:
    """Every registered TAXII collection, ordered by id (the ids are fixed and numbered in the order they are shown)."""
    return sorted((c for _, rt in record_types() for c in rt.collections), key=lambda c: c.id)


def extension_definitions() -> list[dict[str, Any]]:
    """The extension-definitions the registered types declare (each built anew, in registration order)."""
    return [rt.extension_definition() for _, rt in record_types() if rt.extension_definition is not None]


def nav_entries() -> list[str]:
    """The navigation fragments of the registered modules, in registration order."""
    return [m.nav for m in _MODULES.values() if m.nav]


def demo_loaders() -> list[tuple[Module, DemoData]]:
    """The registered demo loaders in the order they run (by ``order``, then registration order)."""
    loaders = [(m, m.demo) for m in _MODULES.values() if m.demo is not None]
    return sorted(loaders, key=lambda pair: pair[1].order)
