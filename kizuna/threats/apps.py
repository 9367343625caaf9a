"""The threat exchange (STIX 2.1 store); on start it registers its module with the registry of shareable types: the
stored STIX objects and the cyber, disinformation, maritime and strategic TAXII collections, the analyst pages
(including the maritime, strategic and disinformation packages'), the STIX API router, the navigation entry and the
demo data."""

from django.apps import AppConfig


class ThreatsConfig(AppConfig):
    name = "kizuna.threats"
    label = "threats"
    verbose_name = "Threat exchange (STIX 2.1)"

    def ready(self) -> None:
        from kizuna.core import registry
        from kizuna.threats import panels
        from kizuna.threats.collections import COLLECTIONS, CYBER_TYPES
        from kizuna.threats.demo import load_threat_demo

        registry.register(registry.Module(
            name="threats",
            display_name="Threat exchange",
            types=(registry.RecordType(
                model="threats.StixObject",
                # Objects are stored as received (no inbound handler, no backfill): these are the types the domain
                # views and collections read; the store keeps any other STIX type as well.
                stix_types=(*CYBER_TYPES, "incident", "location"),
                collections=COLLECTIONS,
                text_fields=("name",),
            ),),
            urls=(
                registry.UrlInclude("threats/disinformation/", "kizuna.threats.disinfo.urls"),
                registry.UrlInclude("threats/", "kizuna.threats.geo.urls"),  # maritime/ and strategic/
                registry.UrlInclude("threats/", "kizuna.threats.urls"),
            ),
            api=(registry.ApiRouter("/stix/", "kizuna.threats.api.router"),),
            nav="threats/_nav_entry.html",
            panels=(panels.PANEL,),
            demo=registry.DemoData(load_threat_demo, order=20, noun="threat object(s)"),
        ))
