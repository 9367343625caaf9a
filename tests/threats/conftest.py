"""Fixtures of the threat-exchange tests: the API clients are the reports API tests' (a token per user, every answer
checked against the OpenAPI document)."""

from tests.api.conftest import anonymous, api_for  # noqa: F401 - re-exported fixtures
