"""Kizuna's SQLite database backend: Django's, with writers that wait for the write lock saying so (``turns``)."""
