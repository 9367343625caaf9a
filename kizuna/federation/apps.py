"""Federation: this node's identity, its signing keys and the signatures its STIX objects travel with. On start it
registers its pages (TAXII 2.1 and peer administration) and its navigation entry with the registry; it holds no
labelled record type of its own."""

from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "kizuna.federation"
    label = "federation"
    verbose_name = "Federation (node identity and signatures)"

    def ready(self) -> None:
        from kizuna.core import registry
        from kizuna.federation import tasks

        tasks.register()  # signing and the periodic sync: jobs of `kizuna worker`

        registry.register(registry.Module(
            name="federation",
            display_name="Federation",
            urls=(
                registry.UrlInclude("taxii2/", "kizuna.federation.taxii.urls"),
                registry.UrlInclude("federation/", "kizuna.federation.urls"),
            ),
            nav="federation/_nav_entry.html",
        ))
