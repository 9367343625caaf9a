"""Best-practice notes: short, labelled write-ups of what worked, shared between the office's partners (sharing best
practice is one of the office's purposes). The worked example of adding a labelled type (docs/adding-a-type.md)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from kizuna.core.models import Labelled


class Practice(Labelled):
    """A best-practice note. ``Labelled`` gives the label, the originating organisation and the created/modified
    times (``created_at``, ``updated_at``)."""

    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)  # Markdown; sanitised when rendered
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="practices")
    version = models.PositiveIntegerField(default=1)
    # The note's own identity, from which its STIX id (kizuna-practice--<uuid>) is made: the same on every node.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Set only on a note received from a peer: the STIX id its originating node gave it (a read-only copy).
    stix_id = models.CharField(max_length=128, unique=True, null=True, blank=True, editable=False)

    class Meta:
        indexes = [
            models.Index(fields=["label", "created_at", "id"], name="practice_label_list"),
            # The list newest first, each row's label tested as it is read (kizuna.core.access decides in SQL).
            models.Index(fields=["created_at", "id"], name="practice_recent"),
        ]

    def __str__(self) -> str:
        return self.title
