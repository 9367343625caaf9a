"""The classification banner: views note the labels they show; the banner at the top and bottom of the page shows
the highest of them (the full label on a page that shows one item, the highest classification on a list)."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from kizuna.core.access import label_display, label_of, registry
from kizuna.core.models import LabelRecord
from kizuna.labels import Label
from kizuna.labels.decision import highest

DEFAULT_POLICY = "NATO"


@dataclass(frozen=True)
class Banner:
    text: str
    background: str
    foreground: str


def note_labels(request: HttpRequest, *records: LabelRecord | Label) -> None:
    noted: list[Label] = request.__dict__.setdefault("_kizuna_labels", [])
    for record in records:
        noted.append(record if isinstance(record, Label) else label_of(record))


def banner_for(request: HttpRequest) -> Banner:
    labels: list[Label] = request.__dict__.get("_kizuna_labels", [])
    reg = registry()
    top = highest(labels, reg)
    if top is None:
        policy = reg.require(DEFAULT_POLICY)
        level = policy.lowest
        return Banner(level.display, level.banner_colour, level.text_colour)
    policy = reg.require(top.policy)
    level = policy.classification(top.classification)
    distinct = {label.key() for label in labels}
    text = label_display(top) if len(distinct) == 1 else level.display
    return Banner(text, level.banner_colour, level.text_colour)
