"""The consultation pages, one module per entity: ``calendar`` (with the scheduling assistant), ``series``,
``meeting``, ``agenda``, ``minutes``, ``actions`` and ``print``; ``common`` holds what they share. ``urls.py`` names
each view by its module."""
