"""Best-practice notes: the worked example of a labelled module (docs/adding-a-type.md). On start it registers its
one record type — model, STIX type and extension-definition, inbound handler, backfill, TAXII collection, text
fields — and its pages, API router, navigation entry, dashboard panel and demo data with the registry of shareable types. Nothing
outside this folder names it but its ``INSTALLED_APPS`` line."""

from django.apps import AppConfig


class PracticesConfig(AppConfig):
    name = "kizuna.practices"
    label = "practices"
    verbose_name = "Best practice"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models import Q
        from django.urls import reverse
        from django.utils.translation import gettext_lazy

        from kizuna.core import registry
        from kizuna.practices import panels, services, stix
        from kizuna.practices.demo import load_practices_demo

        registry.register(registry.Module(
            name="practices",
            display_name="Best practice",
            types=(registry.RecordType(
                model="practices.Practice",
                stix_types=(stix.PRACTICE_TYPE,),
                extension_definition=stix.practice_extension_definition,
                receive=services.do_receive,
                publish_all=services.publish_all,
                collections=(registry.TaxiiCollection(
                    "6b697a75-6e61-4000-8000-000000000007", "Best practice",
                    "Best-practice notes shared between partners (kizuna-practice objects)",
                    Q(type=stix.PRACTICE_TYPE)),),
                text_fields=("title", "body"),
                search=registry.Searchable(
                    key="practice", name=gettext_lazy("Best practice"), fields=("title", "body"),
                    url=lambda p: reverse("practices:detail", args=[p.pk]), select_related=("originator",)),
            ),),
            urls=(registry.UrlInclude("practices/", "kizuna.practices.urls"),),
            api=(registry.ApiRouter("", "kizuna.practices.api.router"),),
            nav="practices/_nav_entry.html",
            panels=(panels.PANEL,),
            demo=registry.DemoData(load_practices_demo, order=40, noun="best-practice note(s)"),
        ))
