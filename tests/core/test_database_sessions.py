"""How Kizuna's database sessions are set up, where the setting changes what a request costs."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection


def test_postgresql_sessions_run_without_the_jit_compiler(db: Any) -> None:
    """A first page stops after a few rows but is estimated at the cost of walking the whole table, so PostgreSQL's
    JIT compiled it on every request once the store was large (30 ms of compiling for 0.1 ms of work, measured at
    455,000 objects): Kizuna's sessions turn it off (kizuna/settings.py)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's JIT compiler")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
