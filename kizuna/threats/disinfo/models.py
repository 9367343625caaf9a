"""The DISARM framework version loaded on this node: the pin that ``kizuna disarm load`` checks before it loads a
bundle, and the set of STIX ids that belong to that version (lookups use only those)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class DisarmVersion(models.Model):
    """At most one row: the version whose objects the DISARM lookups read. Replaced only with ``--replace``."""

    version = models.CharField(max_length=64)
    bundle_id = models.CharField(max_length=128)  # the bundle's own identifier
    sha256 = models.CharField(max_length=64)  # of the file as loaded
    object_ids = models.JSONField(default=list)  # STIX ids of the version's objects (tactics, techniques, matrix ...)
    loaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    loaded_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"DISARM {self.version}"
