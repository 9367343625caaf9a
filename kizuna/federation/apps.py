"""Federation: this node's identity, its signing keys and the signatures its STIX objects travel with."""

from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "kizuna.federation"
    label = "federation"
    verbose_name = "Federation (node identity and signatures)"
