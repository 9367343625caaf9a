"""The node's identity (one row) and its Ed25519 public keys, active and retired; the peers it knows, their keys,
the sync cursor per peer and collection, and the quarantine of objects that failed verification.

Private keys are never in the database: each lives in a file under ``DATA_DIR/keys`` (see ``keys.py``), so a
database dump or replica cannot sign for the node. Retired public keys stay here so that what they signed still
verifies.

A peer is another node. It is a subject like a person: its ``account`` is a local user with no password whose
tokens the peer presents when it reads from this node, and its entitlements (nations, clearances, communities, as
agreed between the two organisations) decide through ``visible_to`` what it may read. Its ``organisation`` is the
originator, on this node, of every object that node signed, so only that node may issue new versions of them.
"""

from __future__ import annotations

from django.conf import settings
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


class Peer(models.Model):
    """Another node: whose signatures this node trusts and, when ``taxii_url`` is set, that it pulls from."""

    name = models.CharField(max_length=64, unique=True)  # a short code such as "jpn-node"
    node_id = models.CharField(max_length=64, unique=True)  # the peer's identity--<uuid>
    title = models.CharField(max_length=200, blank=True)
    organisation = models.OneToOneField("directory.Organisation", on_delete=models.PROTECT, related_name="peer")
    account = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="peer")
    # Entitlements: what the peer may read here, as agreed. Nations may name groups (NATO, IP4) as well.
    nations = models.JSONField(default=list, blank=True)
    clearances = models.JSONField(default=dict, blank=True)
    communities = models.JSONField(default=list, blank=True)
    taxii_url = models.CharField(max_length=500, blank=True)  # the peer's API root; "" = keys only, never pulled
    credential = models.CharField(max_length=300, blank=True)  # the token this node presents to the peer
    # The peer's collections to pull; empty = Kizuna's collection of everything (the same id on every node).
    collections = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)
    interval = models.PositiveIntegerField(default=300)  # seconds between scheduled pulls
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class PeerKey(models.Model):
    """A public key of a peer node (raw Ed25519, base64). Old keys stay: what they signed still verifies."""

    peer = models.ForeignKey(Peer, on_delete=models.CASCADE, related_name="keys")
    key_id = models.CharField(max_length=16)
    public_key = models.CharField(max_length=64)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("added_at", "id")
        constraints = [models.UniqueConstraint(fields=["peer", "key_id"], name="federation_peer_key_unique")]

    def __str__(self) -> str:
        return f"{self.peer}: {self.key_id}"


class SyncCursor(models.Model):
    """Where the pull from one collection of one peer stands. Saved in the same transaction as the page it follows,
    so a crash at any point resumes at the last stored page: nothing is lost and nothing stored twice."""

    peer = models.ForeignKey(Peer, on_delete=models.CASCADE, related_name="cursors")
    collection = models.CharField(max_length=64)  # the peer's collection id
    added_after = models.DateTimeField(null=True, blank=True)  # date added of the last object of the last full walk
    next_token = models.TextField(blank=True)  # the peer's ``next`` for the page after the last stored one
    last_attempt = models.DateTimeField(null=True, blank=True)
    last_success = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    errors = models.PositiveIntegerField(default=0)  # failed attempts since the last success
    received = models.BigIntegerField(default=0)  # new object versions stored
    unchanged = models.BigIntegerField(default=0)
    quarantined = models.BigIntegerField(default=0)
    # Held by the process pulling this collection now (renewed with every page): one sync per peer and collection
    # across all processes — web workers ("sync now"), the worker and the command line.
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=100, blank=True)  # "<host>:<pid>": a dead holder's lease is void

    class Meta:
        ordering = ("peer", "collection")
        constraints = [models.UniqueConstraint(fields=["peer", "collection"], name="federation_cursor_unique")]

    def __str__(self) -> str:
        return f"{self.peer} / {self.collection}"


class QuarantinedObject(models.Model):
    """An object a peer sent that was not stored: unsigned, badly signed, of unknown origin, a new version of
    another node's object, or invalid. Administrators see what it was and why (not its content, whose label may
    not be theirs to read); users never see it."""

    peer = models.ForeignKey(Peer, on_delete=models.CASCADE, related_name="quarantine")
    received_at = models.DateTimeField(default=timezone.now)
    stix_id = models.CharField(max_length=128)
    stix_type = models.CharField(max_length=64, blank=True)
    modified = models.CharField(max_length=40, blank=True)
    claimed_node = models.CharField(max_length=64, blank=True)  # the node the signature names, if any
    verdict = models.CharField(max_length=32)  # unsigned, unknown key, unknown node, bad signature, refused, invalid
    reason = models.TextField()
    data = models.TextField()  # the object as received, for forensics (never rendered)

    class Meta:
        ordering = ("-received_at", "-id")
        indexes = [models.Index(fields=["peer", "-received_at", "-id"], name="federation_quarantine_recent")]
        constraints = [
            models.UniqueConstraint(fields=["peer", "stix_id", "modified", "verdict"], name="federation_quarantine_once"),
        ]

    def __str__(self) -> str:
        return f"{self.stix_id} from {self.peer}: {self.verdict}"
