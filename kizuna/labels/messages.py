"""Translatable messages of the label engine without importing Django (issue 14).

A ``LabelError`` keeps its English template and its values apart; ``str(error)`` fills the template translated by the
translator that the Django glue installs at start-up (``kizuna.core.apps``: Django's ``gettext``), so the message is
in the reader's language wherever it is shown, while ``error.args[0]`` stays English (logs, tests, scripts).
Templates are marked with ``gettext_noop``, the name ``makemessages`` extracts, into ``kizuna/labels/locale``.
"""

from __future__ import annotations

from collections.abc import Callable

_translator: Callable[[str], str] = str


def gettext_noop(message: str) -> str:
    """Marks an English template for ``makemessages``; translated when the message is shown."""
    return message


def set_translator(translator: Callable[[str], str]) -> None:
    """Install the function that translates a template into the active language (Django's ``gettext``)."""
    global _translator
    _translator = translator


def translate(message: str) -> str:
    return _translator(message)
