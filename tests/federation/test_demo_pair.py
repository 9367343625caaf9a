"""``make run-pair`` (``python -m kizuna.demo.pair``): two demo nodes set up and joined through their command lines by
node cards and tokens, serving with their workers, exchange over TAXII 2.1 both ways (issue 13). ``--check`` stops
once each has received from the other."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.federation.nodes import free_port, on_postgres


def test_the_two_demo_nodes_exchange_both_ways(tmp_path: Path) -> None:
    if on_postgres():
        pytest.skip("the two-node demo runs on SQLite, as make run does: the SQLite run of the suite covers it")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "kizuna.demo.pair", "--data-dir", str(tmp_path / "var"),
                           "--ports", str(free_port()), str(free_port()), "--check"],
                          cwd=root, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("node B received ") and last.endswith(" from node B"), last
    received_by_b = int(last.split()[3])
    assert received_by_b > 0 and "node A received 1 from node B" in last
    for peer_file in ("node-a.kizuna-node.json", "pair-jpn/node-b.kizuna-node.json"):
        assert (tmp_path / "var" / peer_file).is_file()
