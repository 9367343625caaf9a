"""Two demo nodes exchanging over TAXII 2.1 (issue 13): ``make run-pair``, or ``python -m kizuna.demo.pair``.

Node A is the NATO node of ``make run`` (this checkout's ``var/``, the whole demo scenario, port 8000). Node B is a
Japanese node beside it (``var/pair-jpn``, port 8001) with an administrator, an analyst and one indicator of its
own shared with NATO. They are joined as an administrator would join them, through the command line only: each
exports its node card (``kizuna node show --json --url``), each adds the other from the card with the entitlements
agreed (``kizuna peer add --from-card``), and each gives the other the token it created. Then both serve, each with
its worker, which pulls from the other every 15 s: node B receives what node A releases to Japan, node A receives
node B's indicator. Ctrl-C stops both.

``--check`` stops once each node has received objects from the other and prints what each received (the suite runs
it so that the command never rots). Everything is plain subprocesses of ``kizuna``: nothing here imports Django.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from kizuna.demo.facts import ALL_COMMUNITIES, DEMO_PASSWORD

PULL_EVERY = 15  # seconds between pulls from the other node (the peer's sync interval)


@dataclass
class Node:
    key: str
    name: str
    nation: str
    data_dir: Path
    port: int
    host: str

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KIZUNA_TEST_DB", "DJANGO_SETTINGS_MODULE")}
        env.update(KIZUNA_DATA_DIR=str(self.data_dir), KIZUNA_NODE_NAME=self.name, KIZUNA_NODE_NATION=self.nation,
                   KIZUNA_COOKIE_SECURE="0")
        return env

    def kizuna(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run([sys.executable, "-m", "kizuna", *args], env=self.env(), input=stdin, text=True,
                              capture_output=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"node {self.key}: kizuna {' '.join(args[:3])} failed: "
                             f"{(done.stderr or done.stdout).strip().splitlines()[-1:]}")
        return done.stdout

    def serve(self) -> subprocess.Popen[bytes]:
        log = (self.data_dir / "serve.log").open("wb")
        return subprocess.Popen([sys.executable, "-m", "kizuna", "serve", "--worker", "--bind", f"127.0.0.1:{self.port}"],
                                env=self.env(), stdout=log, stderr=subprocess.STDOUT)

    def received(self, peer: str) -> int:
        """Objects received from ``peer`` so far (``kizuna peer list``)."""
        for line in self.kizuna("peer", "list").splitlines()[1:]:
            cells = re.split(r"\s{2,}", line.strip())
            if cells and cells[0] == peer and len(cells) > 5 and cells[5].isdigit():
                return int(cells[5])
        return 0


def _token(output: str) -> str:
    return output.strip().splitlines()[-1].strip()


def _bundle(path: Path) -> Path:
    indicator = {"type": "indicator", "spec_version": "2.1", "id": "indicator--6a1b5c1e-7d3f-4d8e-9a51-4b2f0c9e7d11",
                 "created": "2026-11-20T01:00:00.000Z", "modified": "2026-11-20T01:00:00.000Z",
                 "name": "Phishing sender seen by the Japanese node (demo)", "pattern_type": "stix",
                 "pattern": "[email-addr:value = 'notice@mod-portal.example']", "valid_from": "2026-11-20T01:00:00Z",
                 "indicator_types": ["malicious-activity"],
                 "description": "Shared with NATO from node B of the two-node demo."}
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--0c7f7a1e-5d2b-4e8a-8f1d-2a9b3c4d5e6f",
                                "objects": [indicator]}), encoding="utf-8")
    return path


def set_up(a: Node, b: Node) -> None:
    """Migrate both, load the demo on A, people and an indicator on B, and join them by node cards and tokens."""
    for node in (a, b):
        node.data_dir.mkdir(parents=True, exist_ok=True)
        node.kizuna("migrate", "--noinput")
    print(f"node A ({a.name}): loading the demo scenario ...", flush=True)
    a.kizuna("demo")
    for username, role in (("jpn-admin", "admin"), ("kenji-b", "contributor")):
        if username not in b.kizuna("user", "list"):
            b.kizuna("user", "add", username, "--nation", "JPN", "--org", "JPN-MOD", "--clearance", "NATO:RESTRICTED",
                     *[arg for c in ALL_COMMUNITIES for arg in ("--community", c)], "--role", role,
                     "--language", "ja", "--timezone", "Asia/Tokyo", "--password-stdin", stdin=DEMO_PASSWORD + "\n")
    b.kizuna("stix", "import", str(_bundle(b.data_dir / "jpn-indicator.json")), "--user", "kenji-b",
             "--releasable-to", "NATO,JPN", "--community", "CYBER", "--no-progress")

    card_a, card_b = a.data_dir / "node-a.kizuna-node.json", b.data_dir / "node-b.kizuna-node.json"
    card_a.write_text(a.kizuna("node", "show", "--json", "--url", a.url), encoding="utf-8")
    # B's card without its URL for A's first step: A cannot pull from B before B has created A's token.
    card_b.write_text(b.kizuna("node", "show", "--json"), encoding="utf-8")
    communities = [arg for c in ALL_COMMUNITIES for arg in ("--community", c)]
    if "jpn-demo" in a.kizuna("peer", "list"):
        return
    # A entitles B as agreed with Japan (what is releasable to JPN, up to NATO RESTRICTED) and creates B's token.
    os.environ["KIZUNA_PAIR_TOKEN"] = _token(a.kizuna(
        "peer", "add", "jpn-demo", "--from-card", str(card_b), "--nations", "JPN", "--clearance", "NATO=RESTRICTED",
        *communities, "--token"))
    try:
        # B adds A from A's card (its TAXII URL included) with that token, entitles it to NATO, creates A's token.
        os.environ["KIZUNA_PAIR_TOKEN"] = _token(b.kizuna(
            "peer", "add", "nato-demo", "--from-card", str(card_a), "--nations", "NATO", "--clearance",
            "NATO=RESTRICTED", *communities, "--credential-env", "KIZUNA_PAIR_TOKEN", "--interval", str(PULL_EVERY),
            "--token"))
        # A now pulls from B too.
        a.kizuna("peer", "set", "jpn-demo", "--url", f"http://127.0.0.1:{b.port}/taxii2/kizuna/",
                 "--credential-env", "KIZUNA_PAIR_TOKEN", "--interval", str(PULL_EVERY))
    finally:
        os.environ.pop("KIZUNA_PAIR_TOKEN", None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kizuna.demo.pair", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("KIZUNA_DATA_DIR", "var"),
                        help="node A's data folder (node B's is pair-jpn inside it); default var/")
    parser.add_argument("--ports", nargs=2, type=int, default=[8000, 8001], metavar=("A", "B"))
    parser.add_argument("--fresh", action="store_true", help="start node B afresh (delete its folder first)")
    parser.add_argument("--check", action="store_true",
                        help="stop once each node has received objects from the other (at most 5 minutes)")
    args = parser.parse_args(argv)
    root = Path(args.data_dir).resolve()
    a = Node("A", os.environ.get("KIZUNA_NODE_NAME", "NATO Liaison Office Tokyo"), "", root, args.ports[0],
             "127.0.0.1")
    # B is reached as "localhost": a browser keeps the two nodes' sign-in cookies apart (cookies ignore the port).
    b = Node("B", "Japan MOD node (demo)", "JPN", root / "pair-jpn", args.ports[1], "localhost")
    if args.fresh:
        shutil.rmtree(b.data_dir, ignore_errors=True)
    set_up(a, b)
    servers = [a.serve(), b.serve()]
    print(f"\nnode A  {a.url}/  {a.name}: the demo (users olivia, hanako, kenji, admin ...)")
    print(f"node B  {b.url}/  {b.name}: users kenji-b (analyst), jpn-admin (administrator)")
    print(f"password for everyone: {DEMO_PASSWORD}")
    print("Each node pulls from the other every 15 s (Federation page: status, Test connection, Sync now).")
    print("Sign in to node B as kenji-b: Threats shows what node A released to Japan. Ctrl-C stops both.\n", flush=True)
    try:
        if args.check:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                got_b, got_a = b.received("nato-demo"), a.received("jpn-demo")
                if got_a and got_b:
                    print(f"node B received {got_b} object(s) from node A; node A received {got_a} from node B")
                    return 0
                time.sleep(2)
            print("the nodes did not exchange within 5 minutes; see serve.log in each data folder", file=sys.stderr)
            return 1
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        for server in servers:
            server.send_signal(signal.SIGINT)
        for server in servers:
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    sys.exit(main())
