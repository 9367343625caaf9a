"""One row per searchable record (``SearchEntry``): its type key and id, its label (the label rule is applied to
this column, in the query, by ``kizuna.core.access``), the facets (area, originating nation, date) and its title.
The lower-cased text lives in the trigram index ``search_entrytext`` (``kizuna.search.index.TEXT_INDEX``), keyed by
the entry's id."""

from __future__ import annotations

from django.db import models

from kizuna.core.models import LabelRecord


class SearchEntry(models.Model):
    kind = models.CharField(max_length=40)  # the Searchable's key: "report", "meeting" ...
    record_id = models.BigIntegerField()
    # No index of its own: no query looks entries up by label (kizuna.core.access decides per label row), and
    # every index is paid on each write of a record (a bulk import's share).
    label = models.ForeignKey(LabelRecord, on_delete=models.PROTECT, related_name="+", db_constraint=False,
                              db_index=False)
    date = models.DateTimeField()
    nation = models.CharField(max_length=32, blank=True)
    area = models.CharField(max_length=40, blank=True)
    title = models.CharField(max_length=300)
    title_key = models.CharField(max_length=300)  # the title lower-cased: a match in it ranks first

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "record_id"], name="search_entry_record")]
        # The one index: (date, id) is the order every search walks newest first (kizuna.search.query._newest),
        # and the label beside them lets a window of entries be walked and its labels collected from the index
        # alone, reading a row only for the entries whose label the reader may see.
        indexes = [models.Index(fields=["date", "id", "label"], name="search_entry_walk")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.record_id}"
