"""Background work lowers its own priority so that interactive requests keep the CPU (issue 12): the niceness is
raised to ``KIZUNA_BACKGROUND_NICE``, never lowered, and 0 leaves the process alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE = "import django; django.setup(); from kizuna.core.priority import background_priority; print(background_priority())"


def _niceness_after(nice: str) -> int:
    env = dict(os.environ, KIZUNA_BACKGROUND_NICE=nice, DJANGO_SETTINGS_MODULE="kizuna.settings",
               PYTHONPATH=str(ROOT))
    env.pop("DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True, timeout=60, check=True)
    return int(done.stdout.strip().splitlines()[-1])


def test_background_work_runs_at_the_configured_niceness() -> None:
    base = os.nice(0)
    assert _niceness_after("10") == max(base, 10)
    assert _niceness_after("0") == base
