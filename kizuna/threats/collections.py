"""The threat exchange's TAXII collections (cyber, disinformation, maritime, strategic), registered with the
registry of shareable types by ``apps.ready`` and served by ``kizuna.federation.taxii``.

A domain is decided from the stored object itself: the Kizuna extension it carries (maritime, strategic site or
event, disinformation, or a DISARM reference) or, for cyber, its type. Objects of no domain (an identity, a location
without the site extension, a marking-definition ...) are only in the collection of everything.
"""

from __future__ import annotations

from django.db.models import Q

from kizuna.core.registry import TaxiiCollection
from kizuna.threats.disinfo.services import DISINFO_EXTENSION_ID
from kizuna.threats.geo.stix import EVENT_EXTENSION_ID, MARITIME_EXTENSION_ID, SITE_EXTENSION_ID

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

COLLECTIONS: tuple[TaxiiCollection, ...] = (
    TaxiiCollection("6b697a75-6e61-4000-8000-000000000002", "Cyber",
                    "Indicators, malware, actors, observables and their relationships and sightings",
                    Q(type__in=CYBER_TYPES) & ~(_MARITIME | _STRATEGIC | _DISINFO)),
    TaxiiCollection("6b697a75-6e61-4000-8000-000000000003", "Disinformation",
                    "Disinformation incidents and DISARM techniques", _DISINFO),
    TaxiiCollection("6b697a75-6e61-4000-8000-000000000004", "Maritime",
                    "Maritime observations and incidents", _MARITIME),
    TaxiiCollection("6b697a75-6e61-4000-8000-000000000005", "Strategic",
                    "Strategic sites and events", _STRATEGIC),
)
