"""The workspace file: its specs, each field checked, and the reading of the
file with every problem at its path (the reference checks: workspace_checks.py)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from leadrouter.errors import Problem
from leadrouter.i18n import _
from leadrouter.limit_rules import out_of_range, range_message
from leadrouter.validation import field_message
from leadrouter.windows import parse_window

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALGORITHMS = ("round_robin", "weighted", "random", "least_loaded", "linked")


def _as_text(value: Any) -> Any:
    # YAML reads `id: 42` as a number; ids are strings in the contract.
    return (
        str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    )


Id = Annotated[str, BeforeValidator(_as_text), Field(min_length=1, max_length=200)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _window(text: str) -> str:
    parse_window(text)
    return text


WindowText = Annotated[str, AfterValidator(_window)]
Count = Annotated[int | None, Field(default=None, ge=0, strict=True)]


class AccountSpec(_Spec):
    id: Id | None = None
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(
                _("unknown timezone '{zone}'").format(zone=value)
            ) from error
        return value


class UserSpec(_Spec):
    id: Id
    name: str = ""
    technical: bool = False
    active: bool = True


class StageSpec(_Spec):
    id: Id
    name: str = ""
    kind: Literal["open", "won", "lost"] = "open"
    # Seed 002's "Причины отказа": the reasons a lead may be lost for here.
    loss_reasons: list[Annotated[str, Field(min_length=1, max_length=200)]] = []
    require_loss_reason: bool = False

    @model_validator(mode="after")
    def _reasons(self) -> StageSpec:
        if self.kind != "lost" and (self.loss_reasons or self.require_loss_reason):
            raise ValueError(_("only a lost stage has loss reasons"))
        if self.require_loss_reason and not self.loss_reasons:
            raise ValueError(_("require_loss_reason needs loss_reasons to choose from"))
        folded = [r.casefold() for r in self.loss_reasons]
        if len(set(folded)) != len(folded):
            raise ValueError(_("a loss reason is listed twice"))
        if any(r.casefold().startswith("other:") for r in self.loss_reasons):
            raise ValueError(
                _("a listed reason cannot start with 'other:', the mark of free text")
            )
        return self


class PipelineSpec(_Spec):
    id: Id
    name: str = ""
    archived: bool = False
    stages: list[StageSpec] = Field(min_length=1)


class LimitsSpec(_Spec):
    """The ten limits of domain.md section 4, bounds from `limit_rules`.

    A member's absent value takes the group's default; absent in both = off.
    """

    interval_minutes: Count = None
    max_active: Count = None
    max_new_today: Count = None
    max_overdue_tasks: Count = None
    max_overdue_days: Count = None
    days_without_sales: Count = None
    max_lost_today: Count = None
    max_lost_month: Count = None
    min_sales_last_month: Count = None
    min_key_stage_last_week: Count = None

    @field_validator("*")
    @classmethod
    def _bounds(cls, value: int | None, info: ValidationInfo) -> int | None:
        name = str(info.field_name)
        if value is not None and out_of_range(name, value):
            raise ValueError(range_message(name))
        return value

    def values(self) -> dict[str, int]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class MemberSpec(_Spec):
    user: Id
    enabled: bool = True
    limits: LimitsSpec = LimitsSpec()


class GroupSpec(_Spec):
    id: Id
    name: str = ""
    source_stages: list[str] = Field(min_length=1)
    target_stage: str | None = None
    excluded_stages: list[str] = []
    key_stage: str | None = None
    sale_stages: list[str] | None = None
    loss_stages: list[str] | None = None
    exchange_users: list[Id] = Field(min_length=1, max_length=2)
    cascade: bool = False
    # Seed 000's "По-умолчанию лимиты настроены": what a member without a
    # value of their own takes.
    default_limits: LimitsSpec = LimitsSpec()
    members: list[MemberSpec] = []


class CycleSpec(_Spec):
    on: int = Field(ge=1)
    off: int = Field(ge=0)
    anchor: date
    window: WindowText | None = None


class DateSpec(_Spec):
    date: date
    window: WindowText | None = None


class ExceptionSpec(_Spec):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    from_: date = Field(alias="from")
    to: date
    reason: str = "day_off"


class ScheduleSpec(_Spec):
    user: Id
    weekly: dict[
        Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], list[WindowText]
    ] = {}
    cycle: CycleSpec | None = None
    free: bool = False
    dates: list[DateSpec] = []
    exceptions: list[ExceptionSpec] = []
    presence: Literal["follow_schedule", "manual"] = "manual"


class MatchSpec(_Spec):
    channels: list[str] = []
    channels_except: list[str] = []
    pipelines: list[str] = []
    tags: list[str] = []


class ParticipantSpec(_Spec):
    user: Id
    weight: int = Field(default=1, ge=1, le=1000)


class FallbackUser(_Spec):
    user: Id


class TemplateSpec(_Spec):
    id: Id
    name: str | None = None  # as people call it; absent: the id
    match: MatchSpec = MatchSpec()
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = []
    window: WindowText | None = None
    participants: list[ParticipantSpec] = Field(min_length=1)
    algorithm: Literal[
        "round_robin", "weighted", "random", "least_loaded", "linked"
    ] = "round_robin"
    fallback_algorithm: (
        Literal["round_robin", "weighted", "random", "least_loaded"] | None
    ) = None
    respect_limits: bool = False
    target_stage: str | None = None
    when_nobody: Literal["hold"] | FallbackUser = "hold"
    reassign_after_minutes: int | None = Field(default=None, ge=1)


class Workspace(_Spec):
    account: AccountSpec = AccountSpec()
    users: list[UserSpec] = []
    pipelines: list[PipelineSpec] = []
    groups: list[GroupSpec] = []
    schedules: list[ScheduleSpec] = []
    templates: list[TemplateSpec] = []


def _path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, str) and (
            part[:1].isupper() or part.startswith("literal[")
        ):
            continue  # which arm of a union pydantic tried: noise to a reader
        if part == "[key]":
            continue  # the key itself is wrong; the path already ends with it
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + ("from" if part == "from_" else str(part))
    return out


def _message(error: Any) -> str:
    if error["type"] == "model_type" and "when_nobody" in error["loc"]:
        return _("expected 'hold' or {user: ID}")
    return field_message(error)


class _WorkspaceLoader(yaml.SafeLoader):
    """YAML with the 1.2 core schema's scalars where 1.1 surprises.

    YAML 1.1 reads `on` and `off` as booleans, so a cycle's `{on: 2, off: 2}`
    would lose both keys; only true/false are booleans here. Dates stay text
    so that an impossible one (2026-13-01) is reported with its path by the
    models rather than failing the whole file.
    """


_WorkspaceLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_WorkspaceLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def parse_workspace(text: str) -> tuple[Workspace | None, list[Problem]]:
    """The workspace in `text`, or every problem that keeps it from being valid."""
    try:
        data = yaml.load(text, Loader=_WorkspaceLoader)  # a SafeLoader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = (
            _("line {number}").format(number=mark.line + 1)
            if mark is not None
            else _("file")
        )
        return None, [
            Problem(
                where,
                _("not valid YAML ({detail})").format(
                    detail=getattr(error, "problem", error)
                ),
            )
        ]
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None, [Problem("", _("the workspace must be a YAML mapping"))]
    try:
        ws = Workspace.model_validate(data)
    except ValidationError as error:
        return None, [
            Problem(_path(e["loc"]), _message(e))
            for e in error.errors()
            if not _is_union_noise(e)
        ]
    return ws, []


def _is_union_noise(error: Any) -> bool:
    # `when_nobody` is "hold" or {user}; report the mapping's error, not both arms.
    loc = error["loc"]
    return "when_nobody" in loc and loc[-1] == "literal['hold']"


def dump_schedules(ws: Workspace) -> str:
    import json

    return json.dumps([s.model_dump(mode="json", by_alias=True) for s in ws.schedules])


def dump_templates(ws: Workspace) -> str:
    import json

    return json.dumps([t.model_dump(mode="json") for t in ws.templates])
