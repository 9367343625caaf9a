"""Fixtures of the glossary tests: the API client of the API tests (a token per user, every answer checked against the
OpenAPI document)."""

from tests.api.conftest import api_for  # noqa: F401 - re-exported fixture
