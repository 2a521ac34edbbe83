"""The canonical CRM event: parsing and checking one JSON line of a history file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)

from leadrouter import messages
from leadrouter.errors import Problem
from leadrouter.i18n import _
from leadrouter.validation import field_message


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError(_("needs a UTC offset, e.g. 2026-11-02T09:00:00+07:00"))
    return at.astimezone(UTC)


def _tag(tag: str) -> str:
    if "," in tag:
        raise ValueError(messages.tag_with_comma())
    return tag


Instant = Annotated[datetime, AfterValidator(_aware)]
Id = Annotated[str, Field(min_length=1, max_length=200)]
Tag = Annotated[str, AfterValidator(_tag)]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    at: Instant


class LeadCreated(_Event):
    type: Literal["lead_created"]
    lead: Id
    name: str = ""
    pipeline: Id
    stage: Id
    responsible: Id
    channel: str = ""
    contacts: list[Id] = []
    companies: list[Id] = []
    tags: list[Tag] = []
    budget: int = Field(default=0, ge=0)


class StageChanged(_Event):
    type: Literal["stage_changed"]
    lead: Id
    to: Id
    pipeline: Id | None = None  # when the lead moves to another pipeline
    loss_reason: str | None = None
    by: Id | None = None  # who moved it, when the CRM says


class ResponsibleChanged(_Event):
    type: Literal["responsible_changed"]
    lead: Id
    to: Id


class TaskCreated(_Event):
    type: Literal["task_created"]
    task: Id
    lead: Id | None = None
    responsible: Id
    deadline: Instant
    text: str = ""


class TaskCompleted(_Event):
    type: Literal["task_completed"]
    task: Id


class TaskResponsibleChanged(_Event):
    type: Literal["task_responsible_changed"]
    task: Id
    to: Id


class LeadReopened(_Event):
    type: Literal["lead_reopened"]
    lead: Id
    by: Id


class LeadDeleted(_Event):
    """The lead left the CRM (deleted, or merged into another lead)."""

    type: Literal["lead_deleted"]
    lead: Id
    by: Id | None = None  # who deleted it, when the CRM says
    merged_into: Id | None = None  # a merge: the lead that took this one in


class LeadRestored(_Event):
    """A deleted lead is back, as it was when it was deleted."""

    type: Literal["lead_restored"]
    lead: Id
    by: Id | None = None


class TaskDeleted(_Event):
    type: Literal["task_deleted"]
    task: Id
    by: Id | None = None


class ContactCreated(_Event):
    type: Literal["contact_created"]
    contact: Id
    responsible: Id


class CompanyCreated(_Event):
    type: Literal["company_created"]
    company: Id
    responsible: Id


class ContactResponsibleChanged(_Event):
    type: Literal["contact_responsible_changed"]
    contact: Id
    to: Id


class CompanyResponsibleChanged(_Event):
    type: Literal["company_responsible_changed"]
    company: Id
    to: Id


CanonicalEvent = Annotated[
    LeadCreated
    | StageChanged
    | ResponsibleChanged
    | TaskCreated
    | TaskCompleted
    | TaskResponsibleChanged
    | LeadReopened
    | LeadDeleted
    | LeadRestored
    | TaskDeleted
    | ContactCreated
    | CompanyCreated
    | ContactResponsibleChanged
    | CompanyResponsibleChanged,
    Field(discriminator="type"),
]

_adapter: TypeAdapter[CanonicalEvent] = TypeAdapter(CanonicalEvent)


def parse_event(data: Any) -> CanonicalEvent:
    return _adapter.validate_python(data)


def parse_line(line: str, where: str) -> tuple[CanonicalEvent | None, list[Problem]]:
    """One history line as an event, or the problems that keep it from being one."""
    data, problems = parse_object(line, where)
    if data is None:
        return None, problems
    return parse_data(data, where)


def parse_object(line: str, where: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    """One line as a JSON object, or why it is not one."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        return None, [
            Problem(where, _("not valid JSON ({detail})").format(detail=error.msg))
        ]
    except RecursionError:
        return None, [Problem(where, _("not valid JSON: nested too deeply"))]
    if not isinstance(data, dict):
        return None, [Problem(where, _("must be a JSON object"))]
    return data, []


def parse_data(
    data: dict[str, Any], where: str
) -> tuple[CanonicalEvent | None, list[Problem]]:
    """A JSON object as an event, or the problems that keep it from being one."""
    try:
        return parse_event(data), []
    except ValidationError as error:
        return None, [
            Problem(
                f"{where}: {'.'.join(str(p) for p in e['loc'][1:]) or 'type'}",
                _plain(e),
            )
            for e in error.errors()
        ]


def _plain(error: Any) -> str:
    if error["type"] == "union_tag_invalid":
        return _("unknown event type {type}").format(
            type=repr(error["input"].get("type"))
        )
    if error["type"] == "union_tag_not_found":
        return _("missing 'type'")
    return field_message(error)


def to_json(event: _Event) -> str:
    return event.model_dump_json(exclude_none=True)
