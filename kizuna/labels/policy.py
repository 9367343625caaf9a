"""Security policies as data, in the spirit of a SPIF: ordered classifications and typed categories.

A policy file is JSON. Classifications are listed from lowest to highest; each category names its type, the values it
allows, how it is shown, and which attribute of a subject it is checked against (``nations`` or ``communities``).
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kizuna.labels.messages import gettext_noop
from kizuna.labels.model import LabelError

POLICY_DIR = Path(__file__).parent / "policies"


class CategoryType(enum.StrEnum):
    PERMISSIVE = "PERMISSIVE"
    RESTRICTIVE = "RESTRICTIVE"
    INFORMATIVE = "INFORMATIVE"


@dataclass(frozen=True)
class Classification:
    name: str
    display: str
    banner_colour: str
    text_colour: str


@dataclass(frozen=True)
class Category:
    name: str
    type: CategoryType
    values: tuple[str, ...]  # in the policy's display order
    display_prefix: str
    subject_attribute: str  # "nations" or "communities": what a subject must hold to satisfy the category
    label: str = ""
    display_with_classification: bool = False  # "NATO UNCLASSIFIED REL TO ..." rather than "... // REL TO ..."


@dataclass(frozen=True)
class Policy:
    identifier: str
    name: str
    classifications: tuple[Classification, ...]
    categories: dict[str, Category] = field(hash=False)

    def rank(self, classification: str) -> int:
        """Position of a classification in the policy's order; unknown classifications raise LabelError."""
        for index, level in enumerate(self.classifications):
            if level.name == classification:
                return index
        raise LabelError(gettext_noop("classification %(classification)s is not defined by policy %(policy)s"),
                         classification=repr(classification), policy=self.identifier)

    def has_classification(self, classification: str) -> bool:
        return any(level.name == classification for level in self.classifications)

    def classification(self, name: str) -> Classification:
        return self.classifications[self.rank(name)]

    @property
    def lowest(self) -> Classification:
        return self.classifications[0]


def policy_from_dict(data: dict[str, Any]) -> Policy:
    try:
        classifications = tuple(
            Classification(
                name=str(item["name"]),
                display=str(item.get("display", item["name"])),
                banner_colour=str(item.get("banner_colour", "#007a33")),
                text_colour=str(item.get("text_colour", "#ffffff")),
            )
            for item in data["classifications"]
        )
        categories = {
            str(name): Category(
                name=str(name),
                type=CategoryType(item["type"]),
                values=tuple(str(v) for v in item.get("values", [])),
                display_prefix=str(item.get("display_prefix", "")),
                subject_attribute=str(item.get("subject_attribute", "communities")),
                label=str(item.get("label", name)),
                display_with_classification=bool(item.get("display_with_classification", False)),
            )
            for name, item in data.get("categories", {}).items()
        }
        policy = Policy(
            identifier=str(data["identifier"]),
            name=str(data.get("name", data["identifier"])),
            classifications=classifications,
            categories=categories,
        )
    except KeyError as exc:
        raise LabelError(f"policy file is malformed: required field {exc} is missing") from exc
    except (TypeError, ValueError, AttributeError) as exc:
        # AttributeError: a list or string where an object was expected (e.g. "categories": [...]).
        raise LabelError(f"policy file is malformed: {exc}") from exc
    if not classifications:
        raise LabelError(f"policy {policy.identifier} defines no classification")
    names = [level.name for level in classifications]
    if len(set(names)) != len(names):
        # rank() takes the first match, so a repeated name would make the order ambiguous.
        raise LabelError(f"policy {policy.identifier} lists a classification more than once")
    for category in categories.values():
        if category.subject_attribute not in ("nations", "communities"):
            raise LabelError(f"category {category.name}: unknown subject_attribute {category.subject_attribute!r}")
    return policy


def load_policy(path: Path | str) -> Policy:
    """Read a policy file; every problem (missing file, bad JSON, bad content) is one readable LabelError."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise LabelError(f"cannot read policy file {path}: {exc.strerror or exc}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise LabelError(f"policy file {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise LabelError(f"policy file {path} must hold a JSON object")
    return policy_from_dict(data)


class PolicyRegistry:
    """The policies a node knows. A label under a policy that is not registered is never visible (deny by default)."""

    def __init__(self, policies: list[Policy] | None = None) -> None:
        self._policies: dict[str, Policy] = {p.identifier: p for p in policies or []}

    def get(self, identifier: str) -> Policy | None:
        return self._policies.get(identifier)

    def require(self, identifier: str) -> Policy:
        policy = self._policies.get(identifier)
        if policy is None:
            raise LabelError(gettext_noop("unknown policy %(policy)s"), policy=repr(identifier))
        return policy

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._policies.values())

    def community_values(self) -> list[str]:
        """The communities a subject may hold: every value of the restrictive and permissive categories checked against
        a subject's communities, in every policy, in the order the policy files list them (first seen first).
        Informative categories are left out: holding one of their values would change nothing."""
        values: dict[str, None] = {}
        for policy in self._policies.values():
            for category in policy.categories.values():
                if category.subject_attribute == "communities" and category.type is not CategoryType.INFORMATIVE:
                    values.update(dict.fromkeys(category.values))
        return list(values)

    @classmethod
    def default(cls) -> PolicyRegistry:
        return cls([load_policy(p) for p in sorted(POLICY_DIR.glob("*.json"))])
