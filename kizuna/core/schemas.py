"""The API shapes every module shares (Django Ninja / Pydantic): the base classes for input and output, a label in its
API form (DESIGN.md), a reference to an organisation, and the error body with the statuses every operation may
answer. Domain apps build their own schemas on these; none imports another app's schemas for them."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import BaseModel, ConfigDict, Field

from kizuna.labels import Label


class Strict(Schema):
    """Input schemas refuse unknown fields: a misspelt field name is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    """Output schemas are plain Pydantic models, validated from the dicts the apps build. Why not Ninja's ``Schema``:
    its attribute-reading validator costs about 4 ms on a page of 25 reports, for dicts that need none of it."""


class ErrorOut(Out):
    message: str
    field: str | None = None


# Every operation may answer these; the bodies are always {"message": ..., "field"?: ...}.
ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 404: ErrorOut}


class LabelIn(Strict):
    """A label in API form: ``{"policy", "classification", "categories", "tlp", "recipients"}``."""

    policy: str = Field(examples=["NATO"])
    classification: str = Field(examples=["UNCLASSIFIED"])
    categories: dict[str, list[str]] | None = Field(
        default=None, examples=[{"releasable_to": ["NATO", "IP4"], "communities": ["CYBER"]}]
    )
    tlp: str = Field(default="AMBER", examples=["AMBER"])
    recipients: list[str] | None = Field(default=None, description="TLP:RED principals: user:USERNAME or org:ORGCODE")

    def to_label(self) -> Label:
        """Raises LabelError (a 400 with a message) when the label does not parse."""
        return Label.from_api(self.model_dump())


class LabelOut(Out):
    policy: str
    classification: str
    categories: dict[str, list[str]]
    tlp: str
    recipients: list[str]


class OrganisationOut(Out):
    code: str
    name: str
