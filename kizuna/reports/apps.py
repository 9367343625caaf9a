"""The reports app; on start it registers its module with the registry of shareable types: the ``Report`` type (its
STIX form, inbound handler and TAXII collection), its pages, API router, navigation entry and demo data."""

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "kizuna.reports"
    label = "reports"
    verbose_name = "Shared reports"

    def ready(self) -> None:
        from django.urls import reverse
        from django.utils.translation import gettext_lazy

        from kizuna.core import registry
        from kizuna.reports import panels
        from kizuna.reports.demo import load_reports_demo
        from kizuna.reports.services import do_publish_all, do_receive
        from kizuna.reports.stix import REPORT_TYPE, REPORTS_COLLECTION, report_extension_definition

        registry.register(registry.Module(
            name="reports",
            display_name="Shared reports",
            types=(registry.RecordType(
                "reports.Report", (REPORT_TYPE,), extension_definition=report_extension_definition,
                receive=do_receive, publish_all=do_publish_all, collections=(REPORTS_COLLECTION,),
                text_fields=("title", "summary", "body"),
                search=registry.Searchable(
                    key="report", name=gettext_lazy("Report"), fields=("title", "summary", "body"),
                    url=lambda r: reverse("reports:detail", args=[r.pk]),
                    area=lambda r: r.focus_areas[0] if r.focus_areas else "",
                    active=lambda r: r.status != "withdrawn", select_related=("originator",))),),
            urls=(registry.UrlInclude("reports/", "kizuna.reports.urls"),),
            api=(registry.ApiRouter("", "kizuna.reports.api.router"),),
            nav="reports/_nav_entry.html",
            panels=(panels.PANEL,),
            demo=registry.DemoData(load_reports_demo, order=10, noun="report(s)"),
        ))
