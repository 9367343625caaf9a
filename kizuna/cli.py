"""The ``kizuna`` console script: Django's management commands under Kizuna's settings (``kizuna migrate``,
``kizuna serve``, ``kizuna demo``, ``kizuna user add``, ``kizuna token create``, ``kizuna audit verify``)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kizuna.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kizuna", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
