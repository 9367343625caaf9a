"""Running Kizuna's management commands in tests: captured output, and the CommandError a refusal raises."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


@dataclass
class Run:
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


def kizuna(*args: str, **options: Any) -> Run:
    """``kizuna ARGS`` in-process; a refusal raises django.core.management.base.CommandError."""
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err, **options)
    return Run(out.getvalue(), err.getvalue())


def kizuna_refused(*args: str, **options: Any) -> tuple[str, Run]:
    """``kizuna ARGS`` that must be refused: the error's one line, and what was printed before it."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command(*args, stdout=out, stderr=err, **options)
    return str(excinfo.value), Run(out.getvalue(), err.getvalue())
