"""The consultations resource of the REST API (/api/v1/consultations/...). Owned by the API helper."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["consultations"])
