"""Errors that services raise with a message safe to show to the user (API JSON, form errors, CLI line)."""

from __future__ import annotations


class ServiceError(Exception):
    """A refused write. ``field`` names the input at fault, when there is one, so forms can show it in place."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(ServiceError):
    """Missing or not visible: the two are never told apart."""

    def __init__(self) -> None:
        super().__init__("not found")
