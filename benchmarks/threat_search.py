"""Benchmark of the threat search (issue 13, point 2). Run by hand (the suite runs it at a tiny size, untimed):

    .venv/bin/python benchmarks/threat_search.py [--objects 1000000] [--queries 200]
    .venv/bin/python benchmarks/threat_search.py --database-url postgres://postgres@127.0.0.1:5432/kz_search_bench

Builds a fresh node (SQLite under --data-dir, or the PostgreSQL database of --database-url, dropped and created: its
name must contain 'bench') holding N current STIX objects written through the store's bulk path
(``prepare.prepare`` and ``store.write_batch``, as an import writes them, search text and ip-range keys included):
indicators of domains, IPv4 and IPv6 addresses and networks and file hashes, file, address and domain observables,
and malware, threat actors, intrusion sets and reports with names and descriptions. One object in ten is under a
label a Belgian analyst may see (REL TO BEL); the others are REL TO nine other nations.

For that analyst it then measures, per kind of search — substring (a part of a stored domain or name), domain
suffix (``www.`` before a stored domain), CIDR (an address inside a stored network, or a stored network), hash (a
stored file's MD5 or SHA-256) —, the page's own work: ``search.search`` for the cyber page's "All" tab, the first
keyset page of 25 (``keyset_page``) and the match reasons, p50 and p95 over --queries searches drawn from the
stored data (hidden and visible matches alike). Beside each, from the same run, the bare SQL of the same search:
the same candidate subquery (index look-ups and the FTS or pg_trgm match) and the same ordering and limit, without
the label rule. Target: p95 under 50 ms at 1,000,000 objects on SQLite.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--objects", type=int, default=1_000_000)
    p.add_argument("--queries", type=int, default=200, help="searches per kind")
    p.add_argument("--database-url", default="", help="PostgreSQL (dropped and created; name must contain 'bench')")
    p.add_argument("--data-dir", default="/tmp/kizuna-bench-search")  # noqa: S108 - scratch for a hand-run benchmark
    p.add_argument("--seed", type=int, default=4774)
    return p.parse_args()


ARGS = parse()
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _inprocess import configure  # noqa: E402

DATA_DIR = Path(ARGS.data_dir) / f"{'pg' if ARGS.database_url else 'sqlite'}-o{ARGS.objects}"
configure(DATA_DIR, ARGS.database_url)

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402

from kizuna.core.paging import keyset_page  # noqa: E402
from kizuna.directory.models import Organisation, User  # noqa: E402
from kizuna.directory.services import ensure_reference_data  # noqa: E402
from kizuna.directory.subjects import subject_for  # noqa: E402
from kizuna.labels import Label, Subject  # noqa: E402
from kizuna.threats import queries, search  # noqa: E402
from kizuna.threats.forms import CYBER_TYPES  # noqa: E402
from kizuna.threats.models import ObservableValue  # noqa: E402
from kizuna.threats.prepare import IP_RANGE, prepare  # noqa: E402
from kizuna.threats.store import SEARCH_INDEX, Candidate, write_batch  # noqa: E402

OTHERS = ["FRA", "DEU", "ITA", "ESP", "POL", "NLD", "NOR", "DNK", "CAN"]
PAGE = 25
BATCH = 5000
STAMP = "2026-11-01T00:00:00.000Z"
SYLLABLES = ["ka", "zu", "mi", "to", "ra", "shi", "ne", "ko", "ya", "ma", "ru", "ho", "ki", "sa", "no", "ta", "be",
             "lo", "vi", "xe", "qu", "fa", "do", "pe", "gu", "zo", "ri", "ha", "nu", "we"]
TLDS = ["org", "net", "com", "info", "biz", "jp", "kr", "au", "nz", "io"]
WORDS = ("beacon loader dropper backdoor implant relay proxy campaign operator espionage credential phishing "
         "spearphishing payload stager persistence exfiltration lateral movement ministry defence maritime energy "
         "telecom satellite university research contractor supply chain firmware router gateway webmail tunnel "
         "obfuscated packed signed certificate registry scheduled task service keylogger screenshot archive "
         "encrypted command control infrastructure hosting provider compromised watering hole exploit document "
         "macro script powershell").split()


def machine() -> str:
    from taxii_serve import machine as shared_machine

    db = f"PostgreSQL {connection.pg_version}" if connection.vendor == "postgresql" else "SQLite"
    return f"{shared_machine().removeprefix('machine: ')}; database: {db}"


def word(rng: random.Random, syllables: int = 3) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(syllables))


def sentence(rng: random.Random, extra: str) -> str:
    words = rng.sample(WORDS, rng.randint(8, 14))
    words.insert(rng.randrange(len(words)), extra)
    return " ".join(words).capitalize() + "."


class Store:
    """What the benchmark stored, to draw queries from: domains, names, networks, addresses, files' hashes."""

    def __init__(self) -> None:
        self.domains: list[str] = []
        self.names: list[str] = []
        self.networks: list[str] = []
        self.addresses: list[str] = []
        self.hashes: list[str] = []


def make_object(i: int, rng: random.Random, held: Store) -> dict[str, Any]:
    """Object ``i`` of the mix (see the module docstring); what can be searched for is noted in ``held``."""
    kind = i % 20
    oid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    base: dict[str, Any] = {"spec_version": "2.1", "created": STAMP, "modified": STAMP}
    if kind < 4:  # indicators of a domain
        domain = f"{word(rng)}{word(rng, 2)}.{rng.choice(TLDS)}"
        held.domains.append(domain)
        return {"type": "indicator", "id": f"indicator--{oid}", **base, "name": f"FQDN {domain}",
                "pattern": f"[domain-name:value = '{domain}']", "pattern_type": "stix", "valid_from": STAMP,
                "description": sentence(rng, domain.split(".")[0])}
    if kind < 7:  # indicators of an IPv4 network or address
        prefix = rng.choice([16, 20, 24, 32, 32])
        network = ipaddress.ip_network(f"{rng.choice([58, 61, 103, 112, 139, 175, 202, 223])}."
                                       f"{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}/{prefix}",
                                       strict=False)
        text = str(network.network_address) if prefix == 32 else str(network)
        (held.addresses if prefix == 32 else held.networks).append(text)
        return {"type": "indicator", "id": f"indicator--{oid}", **base, "name": f"C2 hop point {text}",
                "pattern": f"[ipv4-addr:value = '{text}']", "pattern_type": "stix", "valid_from": STAMP}
    if kind == 7:  # an IPv6 network
        network = ipaddress.ip_network((0x20010DB8 << 96 | rng.getrandbits(32) << 64, 48), strict=False)
        held.networks.append(str(network))
        return {"type": "indicator", "id": f"indicator--{oid}", **base, "name": f"Hosting range {network}",
                "pattern": f"[ipv6-addr:value = '{network}']", "pattern_type": "stix", "valid_from": STAMP}
    if kind < 11:  # files with three hashes
        md5, sha1, sha256 = (f"{rng.getrandbits(bits):0{bits // 4}x}" for bits in (128, 160, 256))
        held.hashes.extend((md5, sha256))
        return {"type": "file", "id": f"file--{oid}", "spec_version": "2.1", "name": f"{word(rng)}.exe",
                "hashes": {"MD5": md5, "SHA-1": sha1, "SHA-256": sha256}}
    if kind == 11:  # indicators of a file hash
        sha256 = f"{rng.getrandbits(256):064x}"
        held.hashes.append(sha256)
        return {"type": "indicator", "id": f"indicator--{oid}", **base, "name": f"SHA-256 {sha256}",
                "pattern": f"[file:hashes.'SHA-256' = '{sha256}']", "pattern_type": "stix", "valid_from": STAMP}
    if kind < 14:  # addresses
        address = (f"{rng.choice([58, 61, 103, 112])}.{rng.randrange(256)}.{rng.randrange(256)}."
                   f"{rng.randrange(256)}")
        held.addresses.append(address)
        return {"type": "ipv4-addr", "id": f"ipv4-addr--{oid}", "spec_version": "2.1", "value": address}
    if kind < 16:  # domains
        domain = f"{word(rng, 2)}.{word(rng)}{word(rng, 2)}.{rng.choice(TLDS)}"
        held.domains.append(domain)
        return {"type": "domain-name", "id": f"domain-name--{oid}", "spec_version": "2.1", "value": domain}
    name = f"{word(rng).capitalize()} {word(rng).capitalize()}"
    held.names.append(name)
    sdo = ["malware", "threat-actor", "intrusion-set", "report"][kind - 16]
    obj = {"type": sdo, "id": f"{sdo}--{oid}", **base, "name": name, "description": sentence(rng, word(rng))}
    if sdo == "malware":
        obj["is_family"] = True
    elif sdo == "threat-actor":
        obj["threat_actor_types"] = ["nation-state"]
    elif sdo == "report":
        obj.update(published=STAMP, object_refs=[f"malware--{uuid.uuid4()}"])
    return obj


def build(rng: random.Random) -> tuple[User, Store]:
    call_command("migrate", verbosity=0, interactive=False)
    ensure_reference_data()
    org = Organisation.objects.get_or_create(code="BEL-MOD", defaults={"name": "Belgian defence", "nation_id": "BEL"})[0]
    user = User.objects.create(username="bench-bel", nation_id="BEL", organisation=org, role="contributor",
                               clearances={"NATO": "RESTRICTED"}, communities=[], password="!")
    writer = Subject(key="bench-writer", nations=frozenset(["BEL", *OTHERS]), clearances={"NATO": "RESTRICTED"})
    labels = [Label.build("NATO", "UNCLASSIFIED", {"releasable_to": [nation]}, "AMBER") for nation in ["BEL", *OTHERS]]
    held = Store()
    batch: list[Candidate] = []
    for i in range(ARGS.objects):
        prepared = prepare(i, make_object(i, rng, held))
        if isinstance(prepared, str):
            raise SystemExit(f"object {i}: {prepared}")
        # One in ten REL TO BEL, of every kind: the kinds repeat every 20 objects, the labels every 200.
        batch.append(Candidate(prepared, labels[i // 20 % 10]))
        if len(batch) == BATCH or i == ARGS.objects - 1:
            with transaction.atomic():
                result = write_batch(batch, subject=writer, originator_id=org.pk)
            if result.rejected:
                raise SystemExit(f"rejected: {result.rejected[:3]}")
            batch = []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum would have, on a node that has been running
    return user, held


def search_texts(held: Store, rng: random.Random, n: int) -> dict[str, list[str]]:
    """``n`` searches of each kind, drawn from what was stored."""
    def fragment(text: str) -> str:
        size = min(len(text), rng.randint(6, 10))
        start = rng.randrange(len(text) - size + 1)
        return text[start : start + size]

    def inside(network: str) -> str:
        net = ipaddress.ip_network(network)
        return str(net.network_address + rng.randrange(net.num_addresses))

    pick = rng.choice
    return {
        "substring": [fragment(pick(held.domains).split(".")[-2]) if k % 2 else fragment(pick(held.names))
                      for k in range(n)],
        "domain suffix": [f"www.{pick(held.domains)}" for _ in range(n)],
        "CIDR": [inside(pick(held.networks)) if k % 3 == 0 else pick(held.addresses) if k % 3 == 1
                 else pick(held.networks) for k in range(n)],
        "hash": [pick(held.hashes) for _ in range(n)],
    }


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(fn: Callable[[str], int], texts: list[str]) -> tuple[float, float, float]:
    """p50 and p95 in ms over the texts (each searched once, after a warm-up of the first ten), and the mean
    number of rows on the first page."""
    for text in texts[:10]:
        fn(text)
    samples, rows = [], []
    for text in texts:
        start = time.perf_counter()
        rows.append(fn(text))
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), percentile(samples, 0.95), statistics.mean(rows)


def main() -> None:
    rng = random.Random(ARGS.seed)
    print(f"machine: {machine()}")
    started = time.perf_counter()
    user, held = build(rng)
    subject = subject_for(user)
    print(f"built {ARGS.objects:,} objects through the store ({ARGS.objects // 10:,} visible to {user.username}) in "
          f"{time.perf_counter() - started:.0f} s")
    types = list(CYBER_TYPES)
    stix = connection.ops.quote_name("threats_stixobject")
    value_table = connection.ops.quote_name("threats_observablevalue")
    hash_kinds = ", ".join(["%s"] * len(search.HASH_KINDS))

    def page(text: str) -> int:
        found = search.search(subject, text, types=types)
        result = keyset_page(found.objects.select_related("label", "originator"), None, PAGE)
        search.match_reasons(found, result.items)
        return len(result.items)

    def bare(text: str) -> int:
        plan = search.plan(text)
        hashes: tuple[str, ...] = ()
        with connection.cursor() as cursor:
            if plan.hash:  # the same bridging through the holders of the hash, in two steps as the search does
                cursor.execute(f"SELECT obj_id FROM {value_table} WHERE kind IN ({hash_kinds}) AND value = %s "
                               f"LIMIT {search.MAX_HASH_BRIDGES}", [*search.HASH_KINDS, plan.hash])
                holders = [r[0] for r in cursor.fetchall()]
                hashes = (plan.hash,)
                if holders:
                    marks = ", ".join(["%s"] * len(holders))
                    cursor.execute(f"SELECT value FROM {value_table} WHERE obj_id IN ({marks}) "
                                   f"AND kind IN ({hash_kinds}) LIMIT {search.MAX_HASHES}",
                                   [*holders, *search.HASH_KINDS])
                    hashes = tuple(sorted({plan.hash, *(r[0] for r in cursor.fetchall())}))
            sql, params = search.candidates_sql(plan, hashes)
            marks = ", ".join(["%s"] * len(types))
            cursor.execute(f"SELECT id FROM {stix} WHERE id IN ({sql}) AND is_current = %s AND revoked = %s "
                           f"AND type IN ({marks}) ORDER BY created_at DESC, id DESC LIMIT {PAGE + 1}",
                           [*params, True, False, *types])
            return min(PAGE, len(cursor.fetchall()))

    print(f"\n{'search (' + str(ARGS.queries) + ' each)':26} {'page p50':>9} {'page p95':>9} {'bare p50':>9} "
          f"{'bare p95':>9} {'rows':>6} {'bare rows':>9}")
    figures: dict[str, dict[str, float]] = {}
    for kind, texts in search_texts(held, rng, ARGS.queries).items():
        p50, p95, rows = timed(page, texts)
        b50, b95, brows = timed(bare, texts)
        figures[kind] = {"p50": p50, "p95": p95, "bare_p50": b50, "bare_p95": b95, "rows": rows, "bare_rows": brows}
        verdict = "met" if p95 < 50 else "MISSED"
        print(f"{kind:26} {p50:9.2f} {p95:9.2f} {b50:9.2f} {b95:9.2f} {rows:6.1f} {brows:9.1f}  "
              f"(target p95 < 50 ms: {verdict})")
    # Not the search: the cyber page also counts every visible object per tab (kizuna.threats.views.cyber), whatever
    # the query. Printed so that the page's whole cost is known; the target is about the search.
    def tab_counts(_: str) -> int:
        counts = (queries.visible_objects(subject, types=types).order_by().values("type").annotate(n=Count("id"))
                  .values_list("type", "n"))
        return len(list(counts))

    t50, t95, _ = timed(tab_counts, ["-"] * max(3, min(ARGS.queries, 10)))
    print(f"{'(cyber page tab counts)':26} {t50:9.2f} {t95:9.2f}  (every visible object, once per page view; "
          "not part of the search)")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {SEARCH_INDEX.table}")
        texts = cursor.fetchone()[0]
    ranges = ObservableValue.objects.filter(kind=IP_RANGE).count()
    print(f"index: {texts:,} search texts, {ranges:,} ip-range rows, "
          f"{ObservableValue.objects.exclude(kind=IP_RANGE).count():,} observable values")
    print(json.dumps({"objects": ARGS.objects, "database": connection.vendor, "figures": figures,
                      "python": sys.version.split()[0]}))


if __name__ == "__main__":
    main()
