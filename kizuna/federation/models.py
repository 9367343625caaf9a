"""The node's identity (one row) and its Ed25519 public keys, active and retired.

Private keys are never in the database: each lives in a file under ``DATA_DIR/keys`` (see ``keys.py``), so a
database dump or replica cannot sign for the node. Retired public keys stay here so that what they signed still
verifies.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class NodeIdentity(models.Model):
    """Who this node is to its peers. ``singleton`` is always 1 and unique, so the database itself allows one row."""

    singleton = models.PositiveSmallIntegerField(default=1, unique=True, editable=False)
    stix_id = models.CharField(max_length=64, unique=True)  # identity--<uuid4>, fixed forever once created
    name = models.CharField(max_length=200)
    nation = models.CharField(max_length=32, blank=True, default="")  # nation or organisation code; "" = NATO
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "node identity"
        verbose_name_plural = "node identity"
        constraints = [models.CheckConstraint(condition=Q(singleton=1), name="federation_identity_single_row")]

    def __str__(self) -> str:
        return f"{self.name} ({self.stix_id})"

    @property
    def serves(self) -> str:
        return self.nation or "NATO"


class NodeKey(models.Model):
    """An Ed25519 public key of this node. At most one is active (``retired_at`` empty), enforced by the database."""

    node = models.ForeignKey(NodeIdentity, on_delete=models.PROTECT, related_name="keys")
    key_id = models.CharField(max_length=16, unique=True)  # first 16 hex digits of SHA-256 of the raw public key
    public_key = models.CharField(max_length=64)  # raw 32-byte key, base64
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("created_at", "id")
        constraints = [
            models.UniqueConstraint(fields=["node"], condition=Q(retired_at__isnull=True), name="federation_one_active_key"),
        ]

    def __str__(self) -> str:
        return f"{self.key_id} ({'retired' if self.retired_at else 'active'})"
