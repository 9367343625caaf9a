"""Prometheus metrics (``prometheus_client``): requests by method, route name and status, request latency, the import
job queue (depth and oldest age by status), the queue of background jobs (depth and oldest-ready age by queue and
state), objects imported, and sync lag per peer.

Multi-process: gunicorn runs several workers, each with its own counters. When ``PROMETHEUS_MULTIPROC_DIR`` is set
(``kizuna serve`` sets it to ``$KIZUNA_DATA_DIR/prometheus`` and empties it at start) the request counters are kept
in files there and every scrape adds up all workers; without it (tests, the development server) they live in the
default registry of the one process. The queue, import and sync figures are read from the database at scrape time,
so they are the node's, whichever worker answers and whichever process (web, worker, command line) did the work.

Label values are bounded: methods from a fixed list, the route's name (never the raw path, so no ids or titles), the
status code, import job statuses and outcomes from fixed lists, and peer names — short codes the administrator gave
the node's peers (bounded by the peer table, never a request's input).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db import DatabaseError
from django.db.models import Count, Min, Sum
from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

from kizuna.core import audit
from kizuna.federation.models import Peer, SyncCursor
from kizuna.jobs import queue as jobs_queue
from kizuna.threats.models import ImportJob, ImportStatus

log = logging.getLogger(__name__)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter(
    "kizuna_http_requests_total", "HTTP requests answered, by method, route name and status.", ["method", "route", "status"]
)
LATENCY = Histogram(
    "kizuna_http_request_duration_seconds", "Time to answer an HTTP request, by method and route name.", ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)

_PEER_LABEL = re.compile(r"[^A-Za-z0-9_.:-]")


def method_label(method: str | None) -> str:
    return method if method in METHODS else "other"


def observe_request(method: str | None, route: str, status: int, seconds: float) -> None:
    method = method_label(method)
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


def _age(now: datetime, then: datetime | None) -> float:
    return max(0.0, (now - then).total_seconds()) if then is not None else 0.0


def _queue_figures(now: datetime) -> Iterator[Metric]:
    """The job queue (kizuna.jobs): jobs by queue and state, and how long the oldest has waited (ready: since it was
    enqueued; running: since it started). Every queue and state is reported, 0 when empty, so alerts see a zero."""
    jobs = GaugeMetricFamily("kizuna_jobs", "Background jobs waiting or running, by queue and state (ready: due now; "
                             "scheduled: due later; running).", labels=["queue", "state"])
    oldest = GaugeMetricFamily("kizuna_job_oldest_age_seconds", "Age of the oldest job in a queue and state: for ready "
                               "jobs the wait since they were enqueued (0 when none).", labels=["queue", "state"])
    found = {(d.queue, d.state): d for d in jobs_queue.depth()}
    queues = sorted(set(jobs_queue.QUEUES) | {q for q, _ in found})
    for name in queues:
        for state in ("ready", "scheduled", "running"):
            d = found.get((name, state))
            jobs.add_metric([name, state], float(d.jobs if d else 0))
            age = 0.0 if d is None or state == "scheduled" else _age(now, d.oldest)
            oldest.add_metric([name, state], age)
    yield jobs
    yield oldest


class DatabaseCollector(Collector):
    """Figures read from the database on every scrape: a handful of aggregate queries over small tables."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("kizuna_database_up", "1 when the database answered this scrape's queries, else 0.")
        try:
            figures = list(self._figures())
        except DatabaseError:
            # The request counters are still worth serving; the outage itself is the figure to alert on.
            log.warning("metrics: the database did not answer", exc_info=True)
            up.add_metric([], 0.0)
            yield up
            return
        up.add_metric([], 1.0)
        yield up
        yield from figures

    def _figures(self) -> Iterator[Metric]:
        now = timezone.now()
        depth = GaugeMetricFamily("kizuna_import_jobs", "Import jobs waiting or running, by status.", labels=["status"])
        oldest = GaugeMetricFamily(
            "kizuna_import_job_oldest_age_seconds", "Age of the oldest import job in a status (0 when none).",
            labels=["status"],
        )
        for status in (ImportStatus.QUEUED, ImportStatus.RUNNING):
            row = ImportJob.objects.filter(status=status).aggregate(n=Count("id"), first=Min("created_at"))
            depth.add_metric([status.value], float(row["n"] or 0))
            oldest.add_metric([status.value], _age(now, row["first"]))
        yield depth
        yield oldest
        yield from _queue_figures(now)
        waiting, first = audit.unsealed()
        yield GaugeMetricFamily("kizuna_audit_unsealed_entries", "Audit entries written but not yet sealed into the "
                                "hash chain (a worker seals them every few seconds).", value=float(waiting))
        yield GaugeMetricFamily("kizuna_audit_unsealed_age_seconds", "Age of the oldest audit entry not yet sealed "
                                "(0 when none): how long an entry stays outside the chain.", value=_age(now, first))

        totals = ImportJob.objects.aggregate(accepted=Sum("accepted"), unchanged=Sum("unchanged"), rejected=Sum("rejected"))
        imported = CounterMetricFamily(
            "kizuna_import_objects", "Objects read by import jobs (bundles, MISP events, TAXII adds), by outcome.",
            labels=["outcome"],
        )
        for outcome in ("accepted", "unchanged", "rejected"):
            imported.add_metric([outcome], float(totals[outcome] or 0))
        yield imported

        lag = GaugeMetricFamily(
            "kizuna_sync_lag_seconds",
            "Seconds since the last successful pull of every collection of an enabled peer (the oldest collection "
            "counts; since the peer was added when it never succeeded).", labels=["peer"],
        )
        received = CounterMetricFamily(
            "kizuna_sync_objects", "Object versions pulled from a peer, by outcome.", labels=["peer", "outcome"]
        )
        cursors: dict[int, list[SyncCursor]] = {}
        for cursor in SyncCursor.objects.filter(peer__enabled=True).exclude(peer__taxii_url=""):
            cursors.setdefault(cursor.peer_id, []).append(cursor)
        for peer in Peer.objects.filter(enabled=True).exclude(taxii_url="").only("id", "name", "created_at"):
            name = _PEER_LABEL.sub("_", peer.name)[:64]
            mine = cursors.get(peer.pk, [])
            successes = [c.last_success for c in mine]
            last = None if not mine or None in successes else min(s for s in successes if s is not None)
            lag.add_metric([name], _age(now, last if last is not None else peer.created_at))
            for outcome, attr in (("received", "received"), ("unchanged", "unchanged"), ("quarantined", "quarantined")):
                received.add_metric([name, outcome], float(sum(getattr(c, attr) for c in mine)))
        yield lag
        yield received


def _request_collectors() -> Iterable[Collector]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return [registry]
    return [REGISTRY]


def exposition() -> bytes:
    """The text format of every metric: the request counters (all workers) and the database figures."""
    registry = CollectorRegistry(auto_describe=False)
    for collector in _request_collectors():
        registry.register(collector)  # type: ignore[arg-type]
    registry.register(DatabaseCollector())
    return generate_latest(registry)
