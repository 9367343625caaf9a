"""The REST API root (Django Ninja): /api/v1/, OpenAPI at /api/v1/openapi.json, Bearer tokens.

Every operation needs ``Authorization: Bearer TOKEN`` and acts with the token's user's rights. Every error, including
unknown paths (404) and wrong methods (405), answers JSON ``{"message": ...}``. See docs/api.md.
"""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest
from django.urls import URLPattern, URLResolver, re_path
from ninja import NinjaAPI, Router

from kizuna.core import registry
from kizuna.core.schemas import ErrorOut
from kizuna.directory.schemas import MeOut, me_out
from kizuna.web.apiauth import (
    BearerToken,
    GuardedParser,
    caller,
    install_error_handlers,
    json_method_not_allowed,
    not_found_view,
)


class KizunaAPI(NinjaAPI):
    """NinjaAPI whose URL list answers JSON for wrong methods and for paths that name no endpoint."""

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        urls = super()._get_urls()
        for pattern in urls:
            if not isinstance(pattern, URLPattern):
                continue
            if pattern.name == "api-root":  # Ninja's root raises an HTML 404 naming the docs page
                pattern.callback = not_found_view
            elif pattern.name not in ("openapi-json", "openapi-view"):
                pattern.callback = json_method_not_allowed(pattern.callback)
        urls.append(re_path(r"^.*$", not_found_view, name="api-not-found"))
        return urls


api = KizunaAPI(
    title="Kizuna API",
    version="1",
    description="Shared reports and the directory of a Kizuna node. Every item carries a confidentiality label; "
    "an item the caller may not see answers 404, exactly like a missing one.",
    urls_namespace="api",
    auth=BearerToken(),
    parser=GuardedParser(),
    # The interactive page would load Swagger UI from a CDN; the node serves nothing from outside.
    docs_url=None,
)
install_error_handlers(api)
for _module in registry.modules():  # the routers of the registered modules, in registration order
    for _entry in _module.api:
        api.add_router(_entry.prefix, cast(Router | str, _entry.router))  # Ninja imports a dotted path itself


@api.get("/me", response={200: MeOut, 401: ErrorOut}, tags=["directory"], summary="The caller")
def me(request: HttpRequest) -> dict[str, Any]:
    """Who the token acts for: nation, organisation, clearances, communities and role."""
    return me_out(caller(request))
