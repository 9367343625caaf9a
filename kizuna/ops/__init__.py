"""Operations conventions: liveness and readiness probes, Prometheus metrics, request ids and structured (JSON) logs.

Above every domain module in the layers (it reads import jobs and federation peers to report queue depth and sync
lag); nothing imports it but the URL map and, by dotted name, the settings (middleware, log formatter).
"""
