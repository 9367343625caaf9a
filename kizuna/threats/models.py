"""The STIX 2.1 store: every version of every object, by (id, modified), under a Kizuna label.

The object itself is kept as the JSON text it arrived in (served back unchanged, and never re-serialised on export);
the columns beside it are what queries need. Exactly one version per STIX id and version line is current (the latest
``modified``); an id has more than one line only when a writer who could see none of its stored lines stored it
(``kizuna.threats.store``), and readers are shown one current version per id (``kizuna.threats.queries``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kizuna.core.models import Labelled, LabelRecord


class StixObject(Labelled):
    # Every index costs import speed (issue target: half the rate of plain inserts), so only the composite
    # indexes below exist: the label, originator and date of Labelled are not indexed on their own here.
    # No database constraint on these two foreign keys (db_constraint=False), nor on ObservableValue.obj: Django makes
    # foreign keys DEFERRABLE INITIALLY DEFERRED on PostgreSQL, so every inserted row queues a trigger event and
    # every commit re-reads the referenced row, once per row and key (measured: 1.75 s of server time at the commit
    # of 100,000 objects with their values, plus about 0.3 s of queueing; the import target is 3.5 s in all). The
    # only writer of these tables, kizuna.threats.store.write_batch, guarantees the references in code instead: it
    # stores only label ids returned by intern_label (which inserts the label first) and checks once per batch that
    # the originating organisation exists. Labels and organisations are never deleted (PROTECT still applies to
    # deletes through the ORM, and stored objects are never deleted). The trade-off: a raw SQL write elsewhere that
    # broke the rule would not be caught by the database; the store's tests check it.
    label = models.ForeignKey(LabelRecord, on_delete=models.PROTECT, related_name="+", db_index=False,
                              db_constraint=False)
    originator = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT, related_name="+", db_index=False,
                                   db_constraint=False)
    created_at = models.DateTimeField(auto_now_add=True)
    stix_id = models.CharField(max_length=128)
    type = models.CharField(max_length=64)
    spec_version = models.CharField(max_length=8, default="2.1")
    # STIX timestamps as text in the object's own form: compared and matched exactly (match[version] in TAXII).
    created = models.CharField(max_length=40, blank=True)
    modified = models.CharField(max_length=40)
    is_current = models.BooleanField(default=True)
    # The version line of the object within its id (see kizuna.threats.store: "existence is a read"): 0 for the
    # first line; a writer who may see no line of a stored id starts a line of its own, numbered by the pk of its
    # first row. Exactly one current version per (stix_id, line). ``forked``: set on every row of an id that has more
    # than one line, so that reads need the "one current version per id" rule only for those rows.
    line = models.BigIntegerField(default=0, db_default=0)
    forked = models.BooleanField(default=False, db_default=False)
    revoked = models.BooleanField(default=False)
    # Relationships and sightings: the objects they connect (a relationship is visible only when both ends are).
    source_ref = models.CharField(max_length=128, blank=True)
    target_ref = models.CharField(max_length=128, blank=True)
    name = models.CharField(max_length=300, blank=True)  # name, value or pattern head: for lists and search
    data = models.TextField()  # the object's JSON text, as received
    # This node's signature over the object as it is served under the label ``signed_label`` (the label marking
    # added), as "<key id>:<base64 signature>"; made once per version and label by federation.outbound, so that
    # serving to peers does not sign. Empty for objects received from peers: they keep their originator's signature.
    signature = models.CharField(max_length=120, null=True, blank=True)
    signed_label = models.BigIntegerField(null=True, blank=True)  # label ids are 63-bit content hashes

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["stix_id", "line", "modified"], name="stix_line_version_unique"),
            # At most one current version per version line, held by the database itself: concurrent writers that
            # decided from the same stored state cannot both make a version current (issue 12; kizuna.threats.store).
            # It also serves the lookup of a line's current version (store.current_versions).
            models.UniqueConstraint(fields=["stix_id", "line"], condition=models.Q(is_current=True),
                                    name="stix_one_current"),
        ]
        indexes = [
            # Lists walk the current versions newest first and test each row's label as they go (the decision is an
            # EXISTS on the label row, kizuna.core.access), so a first page reads about a page of rows whatever the
            # number of labels. Lookups by id use the unique indexes.
            models.Index(fields=["created_at", "id"], condition=models.Q(is_current=True), name="stix_current_recent"),
            models.Index(fields=["type", "created_at", "id"], condition=models.Q(is_current=True),
                         name="stix_current_type_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.stix_id} @ {self.modified}"


class ObservableValue(models.Model):
    """An observable value (IP, domain, URL, file hash, e-mail) seen in a current object: the index behind search by
    value and "also reported by". Rows inherit the visibility of their object."""

    # No database constraint (see StixObject.label): write_batch inserts values only for the rows it inserts in the
    # same statement group, and deletes them itself when their object is superseded (store._supersede); a delete of
    # a StixObject through the ORM still cascades to its values (Django's collector, on_delete=CASCADE).
    obj = models.ForeignKey(StixObject, on_delete=models.CASCADE, related_name="values", db_constraint=False)
    kind = models.CharField(max_length=32)  # ipv4-addr, ipv6-addr, domain-name, url, file:SHA-256, email-addr ...
    value = models.CharField(max_length=512)

    class Meta:
        indexes = [models.Index(fields=["kind", "value"], name="observable_lookup")]

    def __str__(self) -> str:
        return f"{self.kind}={self.value}"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    """One import of a bundle or MISP event: progress that survives a page reload, and the summary at the end."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=300)  # file name or description
    fmt = models.CharField(max_length=16, default="stix")  # "stix" or "misp"
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    default_label_key = models.TextField()  # the label given to objects that carry no Kizuna label
    total_bytes = models.BigIntegerField(default=0)
    read_bytes = models.BigIntegerField(default=0)
    accepted = models.IntegerField(default=0)
    unchanged = models.IntegerField(default=0)
    rejected = models.IntegerField(default=0)
    rejected_by_reason = models.JSONField(default=dict)
    errors = models.JSONField(default=list)  # the first rejections: [{"index", "id", "reason"}]
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)  # its job in the queue (kizuna.jobs)
    attempts = models.IntegerField(default=0)  # runs started: more than 1 when a stopped or dead worker's run resumed

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"import {self.pk} ({self.status})"
