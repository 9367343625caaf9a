"""The Label value object, TLP 2.0, and the Subject that a decision is made for."""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kizuna.labels.messages import gettext_noop, translate


class LabelError(ValueError):
    """A label, policy or subject that cannot be used; the message is safe to show to the user.

    ``LabelError(gettext_noop("unknown policy %(policy)s"), policy="X")``: ``str()`` gives the template translated into
    the active language (kizuna/labels/messages.py) with the values filled in; ``args[0]`` is the English text."""

    def __init__(self, template: str, **values: object) -> None:
        self.template = template
        self.values = values
        super().__init__(template % values if values else template)

    def __str__(self) -> str:
        text = translate(self.template)
        return text % self.values if self.values else text


class TLP(enum.StrEnum):
    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"


@dataclass(frozen=True)
class Label:
    """A confidentiality label. Category values and recipients are kept sorted so that equal labels compare equal."""

    policy: str
    classification: str
    categories: tuple[tuple[str, tuple[str, ...]], ...] = ()
    tlp: TLP = TLP.AMBER
    recipients: tuple[str, ...] = ()

    @classmethod
    def build(
        cls,
        policy: str,
        classification: str,
        categories: Mapping[str, Iterable[str]] | None = None,
        tlp: str | TLP = TLP.AMBER,
        recipients: list[str] | tuple[str, ...] | None = None,
    ) -> Label:
        try:
            tlp_value = TLP(tlp)
        except ValueError:
            raise LabelError(gettext_noop("unknown TLP %(tlp)s; use one of %(choices)s"), tlp=repr(tlp),
                             choices=", ".join(t.value for t in TLP)) from None
        cats = tuple(
            sorted((str(name), tuple(sorted({str(v) for v in values}))) for name, values in (categories or {}).items() if values)
        )
        return cls(
            policy=str(policy),
            classification=str(classification),
            categories=cats,
            tlp=tlp_value,
            recipients=tuple(sorted({str(r) for r in recipients or []})),
        )

    @classmethod
    def from_api(cls, data: Any) -> Label:
        """Parse the API form ``{"policy", "classification", "categories", "tlp", "recipients"}``."""
        if not isinstance(data, dict):
            raise LabelError(gettext_noop("a label must be an object with policy, classification, categories, tlp and "
                                          "recipients"))
        unknown = set(data) - {"policy", "classification", "categories", "tlp", "recipients"}
        if unknown:
            raise LabelError(gettext_noop("unknown label field(s): %(fields)s"), fields=", ".join(sorted(unknown)))
        for required in ("policy", "classification"):
            if not isinstance(data.get(required), str) or not data[required]:
                raise LabelError(gettext_noop("label field %(field)s is required and must be a string"), field=repr(required))
        # Absent or null means "none"; any other non-object (a list, a string, false) is an error, not "none".
        categories = data.get("categories")
        if categories is None:
            categories = {}
        if not isinstance(categories, dict) or not all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(x, str) for x in v)
            for k, v in categories.items()
        ):
            raise LabelError(gettext_noop("label categories must map a category name to a list of strings"))
        recipients = data.get("recipients")
        if recipients is None:
            recipients = []
        if not isinstance(recipients, list) or not all(isinstance(r, str) for r in recipients):
            raise LabelError(gettext_noop("label recipients must be a list of strings"))
        tlp = data.get("tlp", TLP.AMBER.value)
        if not isinstance(tlp, str):
            raise LabelError(gettext_noop("label tlp must be a string"))
        return cls.build(data["policy"], data["classification"], categories, tlp, recipients)

    @classmethod
    def from_api_key(cls, key: str) -> Label:
        """Inverse of ``key()``."""
        return cls.from_api(json.loads(key))

    def category(self, name: str) -> tuple[str, ...]:
        for cat_name, values in self.categories:
            if cat_name == name:
                return values
        return ()

    def as_api(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "classification": self.classification,
            "categories": {name: list(values) for name, values in self.categories},
            "tlp": self.tlp.value,
            "recipients": list(self.recipients),
        }

    def key(self) -> str:
        """Canonical text of the label: equal labels have equal keys (used to intern labels)."""
        return json.dumps(self.as_api(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def with_recipient(self, recipient: str) -> Label:
        return Label.build(self.policy, self.classification, dict(self.categories), self.tlp, [*self.recipients, recipient])


@dataclass(frozen=True)
class Subject:
    """Whoever a decision is made for: a person, an API token acting for one, or a federation peer.

    ``nations`` holds the subject's nationality and every group that contains it (e.g. JPN, IP4), so a permissive
    ``releasable_to`` value matches without knowing the directory. ``principals`` are the names under which the
    subject may be a TLP:RED recipient (username, organisation code, nation code).
    """

    key: str
    nations: frozenset[str] = frozenset()
    communities: frozenset[str] = frozenset()
    clearances: dict[str, str] = field(default_factory=dict, hash=False)
    principals: frozenset[str] = frozenset()

    def cache_key(self) -> str:
        """Changes whenever anything the decision reads changes, so cached decisions stay correct."""
        return json.dumps(
            [self.key, sorted(self.nations), sorted(self.communities), sorted(self.clearances.items()), sorted(self.principals)],
            separators=(",", ":"),
        )
