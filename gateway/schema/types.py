"""GraphQL types shared by the schema's domains."""

from __future__ import annotations

import json
from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from gateway.context import Info
from gateway.names import names
from leadrouter.assigner.v1 import assigner_pb2
from leadrouter.crm.v1 import crm_pb2
from leadrouter.limits.v1 import limits_pb2
from leadrouter.reason_texts import reason_text
from leadrouter.setup_changes import ChangeReport
from leadrouter.setup_diff import Change
from leadrouter.timestamps import from_ts, optional_ts


@strawberry.enum
class Role(Enum):
    ADMIN = "admin"
    MANAGER = "manager"
    PARTNER = "partner"
    VIEWER = "viewer"


@strawberry.type(
    description="Where a page lies in its list (Relay Cursor Connections, section 5)."
)
class PageInfo:
    has_next_page: bool
    end_cursor: str | None = strawberry.field(
        description="The last edge's cursor; null when the page has no edges."
    )
    has_previous_page: bool = strawberry.field(
        description="With `last`: whether edges come before this page; with "
        "`after`: whether any come before that cursor."
    )
    start_cursor: str | None = strawberry.field(
        description="The first edge's cursor; null when the page has no edges."
    )


@strawberry.type
class Problem:
    path: str
    message: str
    line: int | None = strawberry.field(
        default=None,
        description="The line of the file the problem is on (from 1), for a "
        "problem of a workspace file.",
    )


@strawberry.type(description="One change of the setup: what, and field from → to.")
class SetupChange:
    text: str = strawberry.field(
        description="The change in words: 'group main: cascade true → false'."
    )
    kind: str = strawberry.field(description="added, changed, removed or reordered.")
    what: str = strawberry.field(description="The thing: 'group main', 'template x'.")
    field: str | None = strawberry.field(description="The setting that changes.")
    before: str | None = strawberry.field(name="from")
    after: str | None = strawberry.field(name="to")
    removal: bool = strawberry.field(
        description="Something goes (removed, deactivated, archived): needs leave."
    )

    @classmethod
    def of(cls, c: Change) -> SetupChange:
        return cls(
            text=str(c),
            kind=c.kind,
            what=c.what,
            field=c.field or None,
            before=c.before_words or None,
            after=c.after_words or None,
            removal=c.removal,
        )


@strawberry.type
class ApplyResult:
    ok: bool
    applied: bool = strawberry.field(
        description="The setup was changed (false for a dry run or a refusal)."
    )
    changes: list[str] = strawberry.field(
        description="The change list in words, removals first."
    )
    change_list: list[SetupChange] = strawberry.field(
        description="The same changes, field by field with old and new values."
    )
    problems: list[Problem]
    kept: list[str] = strawberry.field(
        description="What the file leaves out and stays as it is; allowRemovals "
        "would remove it."
    )
    version: int | None = strawberry.field(
        description="The number the applied change is kept under."
    )

    @classmethod
    def of(cls, report: ChangeReport) -> ApplyResult:
        return cls(
            ok=report.ok,
            applied=report.applied,
            kept=report.kept,
            version=report.version,
            changes=report.lines,
            change_list=[SetupChange.of(c) for c in report.changes],
            problems=[
                Problem(path=p.path, message=p.message, line=p.line)
                for p in report.problems
            ],
        )


@strawberry.type
class Lead:
    id: strawberry.ID
    name: str
    budget: float
    pipeline: str
    stage: str
    responsible: strawberry.ID
    channel: str
    contacts: list[strawberry.ID]
    companies: list[strawberry.ID]
    tags: list[str]
    created_at: datetime
    closed_at: datetime | None
    loss_reason: str | None

    @classmethod
    def of(cls, m: crm_pb2.Lead) -> Lead:
        return cls(
            id=strawberry.ID(m.id),
            name=m.name,
            budget=float(m.budget),
            pipeline=m.pipeline,
            stage=m.stage,
            responsible=strawberry.ID(m.responsible),
            channel=m.channel,
            contacts=[strawberry.ID(c) for c in m.contacts],
            companies=[strawberry.ID(c) for c in m.companies],
            tags=list(m.tags),
            created_at=from_ts(m.created_at),
            closed_at=optional_ts(m, "closed_at"),
            loss_reason=m.loss_reason or None,
        )


@strawberry.type
class LeadEdge:
    cursor: str
    node: Lead


@strawberry.type
class LeadConnection:
    edges: list[LeadEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type(description="One limit's verdict: measured value against threshold.")
class LimitVerdict:
    limit: str
    value: int | None
    threshold: int
    passed: bool
    passes_at: datetime | None = strawberry.field(
        description="Earliest instant it passes if nothing else happens; null when "
        "only the user's own work unblocks it."
    )
    period_count: int | None = strawberry.field(
        description="The two minimum limits: the count of the period in progress."
    )

    @classmethod
    def of(cls, v: limits_pb2.Verdict) -> LimitVerdict:
        return cls(
            limit=v.limit,
            value=v.value if v.HasField("value") else None,
            threshold=v.threshold,
            passed=v.passed,
            passes_at=optional_ts(v, "passes_at"),
            period_count=v.period_count if v.HasField("period_count") else None,
        )


@strawberry.type(
    description="Why a claim was refused: a failing limit (code 'limit', with its "
    "verdict), or pool_empty, not_a_member, disabled, off_duty; held pushes: "
    "no_template, nobody_on_duty, nobody_else_on_duty, taken_meanwhile."
)
class Reason:
    code: str
    limit: str | None
    value: int | None
    threshold: int | None
    passes_at: datetime | None
    period_count: int | None

    @strawberry.field(
        description="Why, in the words and language of the person who asks: "
        "the limit's for a failing limit, else the code's."
    )
    def text(self) -> str:
        return reason_text(self.limit or self.code)

    @classmethod
    def of(cls, r: assigner_pb2.Reason) -> Reason:
        if not r.HasField("verdict"):
            return cls(
                code=r.code,
                limit=None,
                value=None,
                threshold=None,
                passes_at=None,
                period_count=None,
            )
        v = LimitVerdict.of(r.verdict)
        return cls(
            code=r.code,
            limit=v.limit,
            value=v.value,
            threshold=v.threshold,
            passes_at=v.passes_at,
            period_count=v.period_count,
        )


@strawberry.type
class Decision:
    id: strawberry.ID
    kind: str
    outcome: str
    group_id: strawberry.ID | None
    actor: strawberry.ID
    lead_id: strawberry.ID | None
    assignee: strawberry.ID | None
    at: datetime
    reasons: list[Reason]
    details: JSON
    template_id: str | None
    algorithm: str | None
    trace_id: str | None

    @classmethod
    def of(cls, d: assigner_pb2.Decision) -> Decision:
        details: Any = json.loads(d.details_json) if d.details_json else {}
        return cls(
            id=strawberry.ID(d.id),
            kind=d.kind,
            outcome=d.outcome,
            group_id=strawberry.ID(d.group_id) if d.group_id else None,
            actor=strawberry.ID(d.actor),
            lead_id=strawberry.ID(d.lead_id) if d.lead_id else None,
            assignee=strawberry.ID(d.assignee) if d.assignee else None,
            at=from_ts(d.at),
            reasons=[Reason.of(r) for r in d.reasons],
            details=details,
            template_id=d.template_id or None,
            algorithm=d.algorithm or None,
            trace_id=d.trace_id or None,
        )

    @strawberry.field(description="The name of who decided: who pressed or assigned.")
    async def actor_name(self, info: Info) -> str | None:
        return await names(info.context).users.load(str(self.actor))

    @strawberry.field(description="The name of who got the lead.")
    async def assignee_name(self, info: Info) -> str | None:
        if not self.assignee:
            return None
        return await names(info.context).users.load(str(self.assignee))

    @strawberry.field(description="The lead's name, as the CRM holds it.")
    async def lead_name(self, info: Info) -> str | None:
        if not self.lead_id:
            return None
        return await names(info.context).leads.load(str(self.lead_id))

    @strawberry.field(description="The distribution group's name.")
    async def group_name(self, info: Info) -> str | None:
        if not self.group_id:
            return None
        return await names(info.context).groups.load(str(self.group_id))


@strawberry.type
class DecisionEdge:
    cursor: str
    node: Decision


@strawberry.type
class DecisionConnection:
    edges: list[DecisionEdge]
    page_info: PageInfo


@strawberry.type
class Claimed:
    lead: Lead
    decision: Decision


@strawberry.type
class Refused:
    reasons: list[Reason]
    decision: Decision


ClaimResult = Annotated[Claimed | Refused, strawberry.union("ClaimResult")]
