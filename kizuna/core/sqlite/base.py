"""The SQLite backend (``ENGINE = "kizuna.core.sqlite"``): Django's, except that write transactions on a database
file take their turn at the write lock (``turns``): an ordinary writer says it is waiting while it waits, and an
import (a connection given ``Turns`` by ``importing``) lets such writers go first (issue 12, item 5)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db.backends.sqlite3 import base

from kizuna.core.sqlite import turns


class DatabaseWrapper(base.DatabaseWrapper):
    importing: turns.Turns | None = None
    waited = 0.0  # seconds the last BEGIN of an import waited for its turn

    def _start_transaction_under_autocommit(self) -> None:
        # Django's BEGIN IMMEDIATE (settings: transaction_mode) takes the write lock, waiting in SQLite's busy handler.
        begin = super()._start_transaction_under_autocommit  # type: ignore[misc]  # Django's; not in django-stubs
        if self.is_in_memory_db():
            begin()
        elif self.importing is not None:
            self.waited = self.importing.begin(begin, self.cursor, float(self.settings_dict["OPTIONS"].get("timeout", 5)))
        else:
            with turns.waiting(turns.signal_path(str(self.settings_dict["NAME"]))):
                turns.take(begin, self.cursor, float(self.settings_dict["OPTIONS"].get("timeout", 5)))


def takes_turns(connection: Any) -> bool:
    """Whether imports on ``connection`` commit in slices and take turns: this backend on a database file, outside
    a caller's transaction (in one, the write lock is the caller's until it commits)."""
    return bool(connection.vendor == "sqlite" and hasattr(connection, "importing")
                and not connection.is_in_memory_db() and not connection.in_atomic_block)


def waited(connection: Any) -> float:
    """Seconds the last BEGIN of an import on ``connection`` waited for its turn."""
    return float(getattr(connection, "waited", 0.0))


@contextmanager
def importing(connection: Any, taking: turns.Turns) -> Iterator[None]:
    """Within the block, ``connection`` (the Kizuna SQLite backend) begins its transactions as an import."""
    connection.importing = taking
    try:
        yield
    finally:
        connection.importing = None
