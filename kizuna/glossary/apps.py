"""The glossary of the office's terms (issue 14). On start it registers its record type (no STIX form: the glossary is
not federated, each node loads the shipped set), its pages, API router, navigation entry and demo data with the
registry of shareable types. Nothing outside this folder names it but its ``INSTALLED_APPS`` line."""

from django.apps import AppConfig


class GlossaryConfig(AppConfig):
    name = "kizuna.glossary"
    label = "glossary"
    verbose_name = "Glossary"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.urls import reverse
        from django.utils.translation import gettext_lazy

        from kizuna.core import registry
        from kizuna.glossary.demo import load_glossary_demo

        registry.register(registry.Module(
            name="glossary",
            display_name="Glossary",
            types=(registry.RecordType(model="glossary.Term", stix_types=(),
                                       text_fields=("en", "fr", "ja", "ko", "note"),
                                       search=registry.Searchable(
                                           key="term", name=gettext_lazy("Glossary term"),
                                           fields=("en", "fr", "ja", "ko", "note"), title="en",
                                           url=lambda t: reverse("glossary:detail", args=[t.pk]),
                                           area=lambda t: t.area, select_related=("originator",))),),
            urls=(registry.UrlInclude("glossary/", "kizuna.glossary.urls"),),
            api=(registry.ApiRouter("", "kizuna.glossary.api.router"),),
            nav="glossary/_nav_entry.html",
            demo=registry.DemoData(load_glossary_demo, order=5, noun="glossary term(s)"),
        ))
