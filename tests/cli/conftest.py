"""Fixtures of the command-line tests (the fast password hasher comes from tests/conftest.py)."""
