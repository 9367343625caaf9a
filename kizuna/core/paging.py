"""Keyset pagination over (created_at, id), newest first: the cost of a page does not grow with its position, and a
cursor carries no count and no hint about records the reader may not see."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import Q, QuerySet

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
        raise ServiceError("the page cursor is not valid; start again from the first page", "cursor") from None


def keyset_page(queryset: QuerySet, cursor: str | None, limit: int) -> Page:  # type: ignore[type-arg]
    """One page of ``queryset`` (already filtered for the reader), newest first."""
    if limit < 1 or limit > MAX_LIMIT:
        raise ServiceError(f"limit must be between 1 and {MAX_LIMIT}", "limit")
    qs = queryset.order_by("-created_at", "-id")
    if cursor:
        created_at, pk = decode_cursor(cursor)
        qs = qs.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=pk))
    label_ids = getattr(queryset, "visible_label_ids", None)
    if label_ids is not None and len(label_ids) > 1:
        keys = _newest_keys_by_label(qs, sorted(label_ids), limit + 1)
        by_pk = {row.pk: row for row in qs.filter(pk__in=keys)}
        rows = [by_pk[k] for k in keys if k in by_pk]
    else:
        rows = list(qs[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].created_at, rows[-1].pk) if more and rows else None
    return Page(rows, next_cursor)


_MAX_ARMS = 200  # below SQLite's limit of 500 terms in a compound SELECT
_MAX_PARAMS = 30000  # below SQLite's limit of 32766 variables in one statement
_SENTINEL = -4774  # stands for "this arm's label id" while the arm's SQL is compiled once


def _newest_keys_by_label(qs: QuerySet, label_ids: list[int], n: int) -> list[int]:  # type: ignore[type-arg]
    """Primary keys of the newest ``n`` rows of ``qs`` over all of ``label_ids``, as a merge of per-label top-n.

    Why: ``label_id IN (...) ORDER BY created_at DESC LIMIT n`` makes SQLite fetch every visible row and sort (200 ms
    at a million reports), or scan in date order past every invisible row. Taking the newest n of each visible
    label along an index on (label, ..., created_at, id) and merging costs (visible labels x n) index entries, which
    depends on the number of labels, never on the number of records. Each arm is ``qs`` (with its label filter)
    narrowed to one of the labels visible_to() allowed, so the arms can return nothing the subject may not see.
    """
    arm = qs.order_by("-created_at", "-id").values_list("id", "created_at").filter(label_id=_SENTINEL)[:n]
    arm_sql, arm_params = arm.query.sql_with_params()
    slots = [i for i, value in enumerate(arm_params) if value == _SENTINEL]
    if len(slots) != 1:  # cannot tell which parameter is the label: take the plain path
        return list(qs.order_by("-created_at", "-id").values_list("id", flat=True)[:n])
    slot = slots[0]
    per_query = max(1, min(_MAX_ARMS, _MAX_PARAMS // max(1, len(arm_params))))
    merged: list[tuple[Any, int]] = []
    with connections[qs.db].cursor() as cursor:
        for start in range(0, len(label_ids), per_query):
            chunk = label_ids[start : start + per_query]
            arms = [f"SELECT * FROM ({arm_sql}) AS arm{index}" for index in range(len(chunk))]  # noqa: S608
            params: list[Any] = []
            for label_id in chunk:
                params.extend(label_id if i == slot else value for i, value in enumerate(arm_params))
            # Only compiled SQL and an int are joined here; every value travels as a parameter.
            union = " UNION ALL ".join(arms)
            cursor.execute(f"SELECT * FROM ({union}) AS merged ORDER BY 2 DESC, 1 DESC LIMIT {int(n)}", params)  # noqa: S608
            merged.extend((created, pk) for pk, created in cursor.fetchall())
    merged.sort(key=lambda row: (row[0], row[1]), reverse=True)
    return [pk for _, pk in merged[:n]]
