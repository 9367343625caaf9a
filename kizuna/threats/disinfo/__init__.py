"""Disinformation incidents as STIX ``incident`` objects with a Kizuna extension (narratives, platforms, languages,
target audiences), tagged with DISARM tactics and techniques; and the pinned DISARM framework version."""
