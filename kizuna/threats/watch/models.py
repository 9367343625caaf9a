"""Sightings and watch filters (their inbox entries are ``kizuna.notifications`` rows of the "threats" module).

The shared record of a sighting is the STIX ``sighting`` object in the store (it travels, carries a label and is
counted by nation from there). ``Sighting`` here is only the local trace of who pressed "Seen it too", so that a user
is not counted twice. A watch notification names an object by its STIX id only; what the inbox shows about it is read
again through ``visible_to`` every time, so a label that narrows later hides the entry.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Sighting(models.Model):
    """One user's "Seen it too" on one object, and the STIX sighting (its organisation's) that it counted in."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey("directory.Organisation", on_delete=models.PROTECT, related_name="+")
    object_stix_id = models.CharField(max_length=128)
    sighting_stix_id = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "object_stix_id"], name="sighting_once_per_user")]
        indexes = [models.Index(fields=["organisation", "object_stix_id"], name="sighting_by_org")]

    def __str__(self) -> str:
        return f"{self.user_id} saw {self.object_stix_id}"


class WatchFilter(models.Model):
    """What a user wants to hear about. Every criterion that is set must match; an empty one matches anything."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watch_filters")
    name = models.CharField(_("name"), max_length=100)
    types = models.JSONField(_("object types"), default=list, blank=True)  # STIX types; empty = any type
    value_contains = models.CharField(_("value contains"), max_length=200, blank=True)
    area_text = models.CharField(_("focus or area text"), max_length=200, blank=True)
    releasable_to = models.CharField(_("label releasable to"), max_length=32, blank=True)
    community = models.CharField(_("label community"), max_length=64, blank=True)
    tlp = models.CharField(_("label TLP"), max_length=16, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["active"], name="watch_active")]

    def __str__(self) -> str:
        return self.name
