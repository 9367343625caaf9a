"""The node's TAXII collections: the fixed collection of everything, then the collections the apps register with the
registry of shareable types (``kizuna.core.registry``), with fixed ids (the same on every node, so a peer's
configuration names them once) and the query condition that says which STIX objects each one holds.

Objects of no registered collection (an identity, a marking-definition ...) are only in the collection of
everything. The list is read from the registry when first asked for, after every app's ``ready()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.apps import apps
from django.db.models import Q

from kizuna.core import registry

API_ROOT = "kizuna"
TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"

@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    condition: Q | None  # None: every object

    @property
    def writable(self) -> bool:
        """Objects are posted to the collection of everything only: the domain follows from the object itself."""
        return self.condition is None

    def as_taxii(self, may_write: bool = False) -> dict[str, object]:
        return {
            "id": self.id, "title": self.title, "description": self.description,
            "can_read": True, "can_write": self.writable and may_write, "media_types": [STIX_MEDIA_TYPE],
        }


EVERYTHING = Collection("6b697a75-6e61-4000-8000-000000000001", "Everything",
                        "Every STIX object of this node the caller may see", None)


@cache
def collections() -> tuple[Collection, ...]:
    """Everything first, then the registered collections in the order of their ids (read once, after every app's
    ``ready()``)."""
    apps.check_apps_ready()
    registered = registry.collections()
    if any(c.id == EVERYTHING.id for c in registered):
        raise registry.RegistryError(f"TAXII collection {EVERYTHING.id} is the collection of everything")
    return (EVERYTHING, *(Collection(c.id, c.title, c.description, c.condition) for c in registered))


def by_id() -> dict[str, Collection]:
    return {c.id: c for c in collections()}
