"""Operating a node: liveness and readiness probes, Prometheus metrics, request ids and structured (JSON) logs, and
``kizuna backup`` / ``kizuna restore`` (``kizuna.ops.backup``).

Above every domain module in the layers (it reads import jobs and federation peers to report queue depth and sync
lag, and every layer's data for a backup); nothing imports it but the URL map and, by dotted name, the settings
(middleware, log formatter).
"""
