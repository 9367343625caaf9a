"""Consultations: series of dialogues, meetings across time zones, agendas and action items (issue 5)."""
