"""The consultations app: series, meetings, attendees, agenda items, minutes, decisions and action items. On start it
registers its module with the registry of shareable types: the six record types (their STIX form and the handler
that turns records received from peers into local read-only records), its pages, API router, navigation entry and
demo data."""

from typing import Any

from django.apps import AppConfig
from django.core import checks


def _fonts_check(**kwargs: Any) -> list[checks.CheckMessage]:
    from kizuna.consultations.printing.pdf import fonts_check  # reportlab is imported only when checks run

    return fonts_check(**kwargs)


class ConsultationsConfig(AppConfig):
    name = "kizuna.consultations"
    label = "consultations"
    verbose_name = "Consultations"

    def ready(self) -> None:
        from kizuna.consultations import notify, panels, searching, stix, tasks
        from kizuna.consultations.demo import load_consultations_demo
        from kizuna.consultations.services.sharing import do_publish_all, do_receive
        from kizuna.core import registry

        tasks.register()  # reminders and digests: a periodic job of `kizuna worker`
        checks.register(_fonts_check)  # the CJK fonts the minutes PDF embeds (make fonts)

        def kind(model: str, stix_type: str, text_fields: tuple[str, ...], first: bool = False) -> registry.RecordType:
            # One extension-definition declares the six types and one backfill publishes them all: both are given
            # once, on the series.
            return registry.RecordType(
                model=f"consultations.{model}", stix_types=(stix_type,),
                extension_definition=stix.consultation_extension_definition if first else None,
                receive=do_receive, publish_all=do_publish_all if first else None, text_fields=text_fields,
                search=searching.BY_MODEL[model])

        registry.register(registry.Module(
            name="consultations",
            display_name="Consultations",
            types=(
                kind("Series", stix.SERIES_TYPE, ("title",), first=True),
                kind("Meeting", stix.MEETING_TYPE, ("title", "place")),
                kind("AgendaItem", stix.AGENDA_ITEM_TYPE, ("title",)),
                kind("MinutesPart", stix.MINUTES_TYPE, ("text",)),
                kind("Decision", stix.DECISION_TYPE, ("text",)),
                kind("ActionItem", stix.ACTION_TYPE, ("title", "notes")),
            ),
            urls=(
                registry.UrlInclude("consultations/", "kizuna.consultations.urls"),
                registry.UrlInclude("consultations/", "kizuna.consultations.inbox_urls"),
            ),
            api=(registry.ApiRouter("/consultations/", "kizuna.consultations.api.router"),),
            nav="consultations/_nav_entry.html",
            panels=panels.PANELS,
            demo=registry.DemoData(load_consultations_demo, order=30, noun="consultation series"),
        ))
        notify.register()  # the resolver of consultation notifications
