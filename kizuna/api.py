"""The REST API root (Django Ninja): /api/v1/, OpenAPI at /api/v1/openapi.json, Bearer tokens."""

from ninja import NinjaAPI

api = NinjaAPI(title="Kizuna API", version="1", urls_namespace="api")
