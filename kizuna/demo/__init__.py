"""The demo scenario loaded by ``kizuna demo``: NATO's liaison office in Tokyo and its Indo-Pacific partners.

``people.py`` holds the organisations and users; each module's records are in its own app's ``demo.py`` and are loaded
through the registry of shareable types, in the order the modules give (``scenario.py``). Everything is fictional.

This package is also a Django app (it holds the ``demo`` command), so it is imported while Django loads its apps:
the public names below are read from ``scenario`` (which imports models) only when first asked for.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kizuna.demo.people import DEMO_PASSWORD
    from kizuna.demo.scenario import DemoRefused, DemoResult, Login, demo_logins, load_demo, visible_titles

__all__ = ["DEMO_PASSWORD", "DemoRefused", "DemoResult", "Login", "demo_logins", "load_demo", "visible_titles"]


def __getattr__(name: str) -> Any:
    if name == "DEMO_PASSWORD":
        return import_module("kizuna.demo.facts").DEMO_PASSWORD
    if name in __all__:
        return getattr(import_module("kizuna.demo.scenario"), name)
    raise AttributeError(name)
