"""Django glue for labels: interned labels, the Labelled base model whose manager is the one enforcement point,
versions of labelled records, and the hash-chained audit log."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.db import models, transaction

from kizuna.labels import Label
from kizuna.labels.stixid import label_marking_id

if TYPE_CHECKING:
    from kizuna.labels import Subject

T = TypeVar("T", bound="Labelled")


def label_id_for(label: Label) -> int:
    """Content-addressed id: the same label always has the same id, on every node and after any rollback, so a
    cached decision about an id can never go stale."""
    digest = hashlib.sha256(label.key().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> 1


class LabelRecord(models.Model):
    """One row per distinct label. Records point here; the access decision runs over these rows, not over records.

    The decision reads the label's attributes as columns — ``policy``, ``classification``, ``tlp`` — and its category
    values and TLP:RED recipients as ``LabelTerm`` rows, all taken from ``key`` when the row is saved; ``sound`` is
    false for a row whose key does not parse or does not hash to its id (visible to no one). ``kizuna.core.access``
    turns a subject into SQL over these columns, so a request never reads every label (issue 12)."""

    id = models.BigIntegerField(primary_key=True)
    key = models.TextField(unique=True)
    policy = models.CharField(max_length=64)
    classification = models.CharField(max_length=64)
    tlp = models.CharField(max_length=16, default="")
    sound = models.BooleanField(default=False)
    # The label's STIX marking-definition id (``kizuna.labels.stixid``), to serve a marking by id.
    marking = models.CharField(max_length=80, blank=True, db_index=True)
    display = models.CharField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "kizuna_label"

    def __str__(self) -> str:
        return self.display

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save the row with the attributes the decision reads, derived from ``key`` (never from the caller), and
        its terms, in one transaction."""
        label = parse_sound(self.pk, self.key)
        self.sound = label is not None
        if label is not None:
            self.policy, self.classification, self.tlp = label.policy, label.classification, label.tlp.value
            self.marking = label_marking_id(label)
        with transaction.atomic(using=kwargs.get("using")):
            super().save(*args, **kwargs)
            LabelTerm.objects.filter(label_id=self.pk).delete()
            if label is not None:
                LabelTerm.objects.bulk_create(terms_of(self.pk, label))

    def to_label(self) -> Label:
        return Label.from_api_key(self.key)


def parse_sound(pk: int | None, key: str) -> Label | None:
    """The label a row's key stands for, or None when the key does not parse or does not hash to ``pk``."""
    try:
        label = Label.from_api_key(key)
    except ValueError:  # LabelError and json.JSONDecodeError are both ValueErrors
        return None
    return label if label_id_for(label) == pk else None


def terms_of(pk: int, label: Label) -> list[LabelTerm]:
    terms = [LabelTerm(label_id=pk, kind=LabelTerm.CATEGORY, category=name, value=value)
             for name, values in label.categories for value in values]
    terms += [LabelTerm(label_id=pk, kind=LabelTerm.RECIPIENT, category="", value=r) for r in label.recipients]
    return terms


class LabelTerm(models.Model):
    """One category value (``kind`` "c") or TLP:RED recipient ("r") of a label, for the decision in SQL: a
    permissive category is "no term of that category, or one the subject holds", a restrictive one "no term the
    subject does not hold", each answered from the unique index."""

    CATEGORY = "c"
    RECIPIENT = "r"

    label = models.ForeignKey(LabelRecord, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=1)
    category = models.TextField(blank=True)
    value = models.TextField()

    class Meta:
        db_table = "kizuna_label_term"
        constraints = [
            models.UniqueConstraint(fields=["label", "kind", "category", "value"], name="label_term_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.label_id} {self.kind} {self.category}={self.value}"


class LabelledQuerySet(models.QuerySet[T]):
    def visible_to(self, subject: Subject) -> LabelledQuerySet[T]:
        """The one enforcement point: only records whose label the subject may see, filtered in the database."""
        from kizuna.core.access import sees_nothing, visible_q

        if sees_nothing(subject):
            return self.none()
        return self.filter(visible_q(subject))


class LabelledManager(models.Manager[T]):
    def get_queryset(self) -> LabelledQuerySet[T]:
        return LabelledQuerySet(self.model, using=self._db)

    def visible_to(self, subject: Subject) -> LabelledQuerySet[T]:
        return self.get_queryset().visible_to(subject)


class Labelled(models.Model):
    """Base of every shareable record: a label, an originating organisation, and timestamps."""

    label = models.ForeignKey(LabelRecord, on_delete=models.PROTECT, related_name="+")
    originator = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LabelledManager()

    class Meta:
        abstract = True


class Version(models.Model):
    """A snapshot of a labelled record after each change (content and label), newest last."""

    content_type = models.CharField(max_length=64)
    object_id = models.BigIntegerField()
    number = models.PositiveIntegerField()
    label = models.ForeignKey(LabelRecord, on_delete=models.PROTECT, related_name="+")
    data = models.JSONField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    summary = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["content_type", "object_id", "number"], name="version_unique")]
        ordering = ["content_type", "object_id", "number"]

    def __str__(self) -> str:
        return f"{self.content_type}:{self.object_id} v{self.number}"


class AuditEntry(models.Model):
    """Append-only, hash-chained: each entry's hash covers its content and the previous entry's hash. Written with
    ``seq`` NULL and no hash; ``kizuna.core.audit.seal`` gives it its place in the chain shortly after (see there)."""

    seq = models.BigIntegerField(unique=True, null=True)  # place in the chain; NULL until sealed
    at = models.DateTimeField()
    actor = models.CharField(max_length=150)
    action = models.CharField(max_length=40)
    target_type = models.CharField(max_length=64, blank=True)
    target_ids = models.TextField(blank=True)
    label_id = models.BigIntegerField(null=True)
    address = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64, blank=True, default="")
    hash = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "audit entries"
        indexes = [
            # The sealer's walk: the few entries not yet chained, in the order they were written.
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="audit_unsealed"),
        ]

    def __str__(self) -> str:
        place = f"#{self.seq}" if self.seq is not None else "(unsealed)"
        return f"{place} {self.actor} {self.action} {self.target_type}:{self.target_ids}"

    def content(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "target_type": self.target_type,
            "target_ids": self.target_ids,
            "label_id": self.label_id,
            "address": self.address,
            "detail": self.detail,
            "prev_hash": self.prev_hash,
        }
