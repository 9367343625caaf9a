"""The node's TAXII collections: one per domain and one of everything, with fixed ids (the same on every node, so a
peer's configuration names them once), and the query condition that says which STIX objects each one holds.

A domain is decided from the stored object itself: the Kizuna extension it carries (maritime, strategic site or event,
disinformation, or a DISARM reference) or, for cyber, its type. Objects of no domain (an identity, a location without
the site extension, a marking-definition ...) are only in the collection of everything. Reports (``kizuna-report``
objects) have a collection of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from kizuna.reports.stix import REPORT_TYPE
from kizuna.threats.disinfo.services import DISINFO_EXTENSION_ID
from kizuna.threats.geo.stix import EVENT_EXTENSION_ID, MARITIME_EXTENSION_ID, SITE_EXTENSION_ID

API_ROOT = "kizuna"
TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"

# Types that make an object part of the cyber collection (when it carries no other domain's extension).
CYBER_TYPES = (
    "indicator", "malware", "malware-analysis", "threat-actor", "intrusion-set", "attack-pattern", "vulnerability",
    "campaign", "tool", "infrastructure", "course-of-action", "observed-data", "sighting", "relationship",
    "ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "email-message", "file", "network-traffic",
    "autonomous-system", "mac-addr", "x509-certificate", "windows-registry-key", "mutex", "process", "software",
    "user-account", "directory",
)

_MARITIME = Q(data__contains=MARITIME_EXTENSION_ID)
_STRATEGIC = Q(data__contains=SITE_EXTENSION_ID) | Q(data__contains=EVENT_EXTENSION_ID)
_DISINFO = Q(data__contains=DISINFO_EXTENSION_ID) | Q(data__contains='"DISARM"')


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


COLLECTIONS: tuple[Collection, ...] = (
    Collection("6b697a75-6e61-4000-8000-000000000001", "Everything",
               "Every STIX object of this node the caller may see", None),
    Collection("6b697a75-6e61-4000-8000-000000000002", "Cyber",
               "Indicators, malware, actors, observables and their relationships and sightings",
               Q(type__in=CYBER_TYPES) & ~(_MARITIME | _STRATEGIC | _DISINFO)),
    Collection("6b697a75-6e61-4000-8000-000000000003", "Disinformation",
               "Disinformation incidents and DISARM techniques", _DISINFO),
    Collection("6b697a75-6e61-4000-8000-000000000004", "Maritime",
               "Maritime observations and incidents", _MARITIME),
    Collection("6b697a75-6e61-4000-8000-000000000005", "Strategic",
               "Strategic sites and events", _STRATEGIC),
    Collection("6b697a75-6e61-4000-8000-000000000006", "Reports",
               "Shared reports and best-practice papers (kizuna-report objects), withdrawn ones included",
               Q(type=REPORT_TYPE)),
)
BY_ID = {c.id: c for c in COLLECTIONS}
