"""The classification banner: views note the labels they show; the banner at the top and bottom of the page shows
their overall marking.

- A page that shows one record with its parts (a meeting with its agenda, minutes, decisions and actions; the printed
  minutes; a report with its versions; a threat object with its relationships) is a document made of parts and
  carries their least upper bound (``kizuna.labels.lattice.least_upper_bound`` through ``core.access.label_lub``):
  the highest classification, releasability narrowed to the nations every part allows, communities joined, the
  strictest TLP. The view says so with ``note_document``. When no single label expresses that bound (parts of
  different policies, or with no releasable value in common) the banner falls back to the highest classification.
- Any other page (a list) shows the full label when it shows one label only, else the highest classification.

Colours come from the policy files. They reach the browser through a stylesheet generated from the policies
(``/banners.css``), never through a ``style=`` attribute, because the Content-Security-Policy forbids inline styles.
Each policy classification gets ``.banner-POLICY-CLASSIFICATION`` (the banner) and ``.chip-POLICY-CLASSIFICATION``
(a label chip beside an item).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.http import HttpRequest

from kizuna.core.access import label_display, label_lub, label_of, registry
from kizuna.core.models import LabelRecord
from kizuna.labels import Label, LabelError
from kizuna.labels.decision import highest
from kizuna.labels.policy import PolicyRegistry

DEFAULT_POLICY = "NATO"
_UNSAFE_CLASS_CHARS = re.compile(r"[^A-Za-z0-9_-]")
# Policy files are data, possibly written by hand: only plain hex colours may reach the stylesheet.
_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
_FALLBACK_BACKGROUND, _FALLBACK_FOREGROUND = "#555555", "#ffffff"


@dataclass(frozen=True)
class Banner:
    text: str
    background: str
    foreground: str
    css_class: str  # e.g. "banner-NATO-RESTRICTED", styled by /banners.css


def _class_token(policy: str, classification: str) -> str:
    return _UNSAFE_CLASS_CHARS.sub("-", f"{policy}-{classification}")


def banner_class(policy: str, classification: str) -> str:
    """The CSS class of the banner for one classification of one policy."""
    return f"banner-{_class_token(policy, classification)}"


def chip_class(policy: str, classification: str) -> str:
    """The CSS class that colours a label chip (``<span class="label-chip chip-...">``) by its classification."""
    return f"chip-{_class_token(policy, classification)}"


def note_labels(request: HttpRequest, *records: LabelRecord | Label) -> None:
    """Note labels the page shows, for its banner."""
    noted: list[Label] = request.__dict__.setdefault("_kizuna_labels", [])
    for record in records:
        noted.append(record if isinstance(record, Label) else label_of(record))


def note_document(request: HttpRequest, *records: LabelRecord | Label) -> None:
    """Note the labels of a page that shows one record with its parts: its banner is their least upper bound."""
    request.__dict__["_kizuna_document"] = True
    note_labels(request, *records)


def default_banner() -> Banner:
    """The banner of a page that shows no labelled item: the lowest classification of the default policy."""
    policy = registry().require(DEFAULT_POLICY)
    level = policy.lowest
    return Banner(level.display, level.banner_colour, level.text_colour, banner_class(policy.identifier, level.name))


def banner_for(request: HttpRequest) -> Banner:
    labels: list[Label] = request.__dict__.get("_kizuna_labels", [])
    reg = registry()
    top = highest(labels, reg)
    if top is None:
        return default_banner()
    distinct = {label.key() for label in labels}
    overall: Label | None = top if len(distinct) == 1 else None
    if overall is None and request.__dict__.get("_kizuna_document"):
        try:
            overall = label_lub(labels)
        except LabelError:
            overall = None  # no one label says "whoever may see every part": the highest classification below
    if overall is not None:
        top = overall
    policy = reg.require(top.policy)
    level = policy.classification(top.classification)
    text = label_display(overall) if overall is not None else level.display
    return Banner(text, level.banner_colour, level.text_colour, banner_class(policy.identifier, level.name))


def _colour(value: str, fallback: str) -> str:
    return value if _COLOUR.match(value) else fallback


def banners_css(reg: PolicyRegistry | None = None) -> str:
    """The stylesheet behind ``/banners.css``: one rule per classification of every policy the node knows."""
    rules = ["/* Generated from the node's security policies: banner and label-chip colours per classification. */"]
    for policy in reg or registry():
        for level in policy.classifications:
            background = _colour(level.banner_colour, _FALLBACK_BACKGROUND)
            foreground = _colour(level.text_colour, _FALLBACK_FOREGROUND)
            selectors = f".{banner_class(policy.identifier, level.name)}, .label-chip.{chip_class(policy.identifier, level.name)}"
            rules.append(f"{selectors} {{ background-color: {background}; color: {foreground}; border-color: {background}; }}")
    return "\n".join(rules) + "\n"
