"""Operating a node: ``kizuna backup`` and ``kizuna restore`` (the logic is in ``kizuna.ops.backup``)."""
