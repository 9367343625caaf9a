"""The STIX 2.1 form of consultation records (series, meetings, agenda items, minutes parts, decisions, actions).

CONTRACT STUB (owned by the federation helper): ``publish`` is a no-op until written, so services may already call it.
"""

from __future__ import annotations

from kizuna.consultations.models import ActionItem, AgendaItem, Decision, Meeting, MinutesPart, Series


def publish(record: Series | Meeting | AgendaItem | MinutesPart | Decision | ActionItem, *,
            revoked: bool = False) -> None:
    """Store the record's STIX form as a new version in the threat store, in the caller's transaction."""
    return None
