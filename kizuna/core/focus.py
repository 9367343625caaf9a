"""The office's focus areas (DESIGN.md, "Who uses it"): the subjects a report, a consultation series or any later
module's record may be tagged with. Stored as their values in a JSON list; shared by every module."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class FocusArea(models.TextChoices):
    CYBER = "cyber", _("Cyber defence")
    MARITIME = "maritime", _("Maritime security")
    HADR = "hadr", _("Disaster relief")
    SPACE = "space", _("Space")
    EDT = "edt", _("Emerging and disruptive technologies")
    DISINFO = "disinfo", _("Disinformation")
    STRATEGIC = "strategic", _("Strategic developments")
    ECONOMIC = "economic", _("Economic and technology cooperation")
