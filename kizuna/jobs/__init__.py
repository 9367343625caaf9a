"""One job queue for all background work (issue 12): django-tasks' database backend, plus the thin layer it lacks —
leases renewed by a heartbeat, recovery of jobs whose worker died, graceful stop, and periodic jobs that run once per
period whatever the number of workers. See docs/operations.md, "Background jobs"."""
