"""Template context for every page: the node's name and the classification banner."""

from django.conf import settings
from django.http import HttpRequest

from kizuna.directory.models import name_in_language
from kizuna.web.banner import banner_for


def node_display_name() -> str:
    """The node's name in the active language (settings.KIZUNA_NODE_NAMES), else KIZUNA_NODE_NAME."""
    return name_in_language(settings.KIZUNA_NODE_NAMES, str(settings.KIZUNA_NODE_NAME))


def node(request: HttpRequest) -> dict[str, object]:
    return {"node_name": node_display_name(), "banner": banner_for(request)}
