"""Template context for every page: the node's name and the classification banner."""

from django.conf import settings
from django.http import HttpRequest

from kizuna.web.banner import banner_for


def node(request: HttpRequest) -> dict[str, object]:
    return {"node_name": settings.KIZUNA_NODE_NAME, "banner": banner_for(request)}
