"""The search app: one table of entries for every searchable record type the registry declares, and the hooks that
keep it in step with the records (``kizuna.search.index.connect``)."""

from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "kizuna.search"
    label = "search"
    verbose_name = "Search"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kizuna.core import registry
        from kizuna.search import index

        index.connect()
        registry.register(registry.Module(
            name="search",
            display_name="Search",
            urls=(registry.UrlInclude("search/", "kizuna.search.urls"),),
            api=(registry.ApiRouter("", "kizuna.search.api.router"),),
            # After every module's demo data: rebuild the index so that `make run` starts with it filled.
            demo=registry.DemoData(index.load_demo, order=1000, noun="search index rebuild(s)"),
        ))
