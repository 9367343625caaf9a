"""Keyset pagination over (created_at, id), newest first: the cost of a page does not grow with its position, and a
cursor carries no count and no hint about records the reader may not see."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from kizuna.core.errors import ServiceError

T = TypeVar("T")
MAX_LIMIT = 200


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(created_at: datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{pk}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, pk = raw.rsplit("|", 1)
        return datetime.fromisoformat(stamp), int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ServiceError(gettext("the page cursor is not valid; start again from the first page"), "cursor") from None


def keyset_page(queryset: QuerySet, cursor: str | None, limit: int) -> Page:  # type: ignore[type-arg]
    """One page of ``queryset`` (already filtered for the reader), newest first."""
    if limit < 1 or limit > MAX_LIMIT:
        raise ServiceError(gettext("limit must be between 1 and %(max)d") % {"max": MAX_LIMIT}, "limit")
    qs = queryset.order_by("-created_at", "-id")
    if cursor:
        created_at, pk = decode_cursor(cursor)
        # The range on created_at keeps the index usable; the OR only breaks ties within one instant.
        qs = qs.filter(Q(created_at__lte=created_at), Q(created_at__lt=created_at) | Q(id__lt=pk))
    # Keys first, rows second. Without joins, and with an index on (label, ..., created_at, id), SQLite stops each
    # label's loop of the IN list after `limit` rows, and PostgreSQL picks an ordered scan or a bitmap by
    # selectivity, so the page costs the same at any depth and table size. The joins that select_related() adds
    # would make SQLite sort every visible row instead (200 ms at a million reports; see docs/performance.md).
    keys = list(qs.values_list("pk", flat=True)[: limit + 1])
    by_pk = {row.pk: row for row in qs.filter(pk__in=keys)}
    rows = [by_pk[k] for k in keys if k in by_pk]
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].created_at, rows[-1].pk) if more and rows else None
    return Page(rows, next_cursor)
