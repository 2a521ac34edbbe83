"""What-if: a proposed workspace replayed over the account's past, for admins."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated

import strawberry

from gateway.context import Context, Info
from gateway.schema.types import Problem
from gateway.schema.workspace import MAX_WORKSPACE_BYTES
from leadrouter import messages
from leadrouter.assigner.v1 import assigner_pb2
from leadrouter.errors import BadInput
from leadrouter.simulate import Reply, fairness, refusal_text, simulate
from leadrouter.timestamps import from_ts


@strawberry.type
class LimitCount:
    limit: str = strawberry.field(
        description="A limit's name, or not_a_member / disabled for who pressed."
    )
    count: int
    text: str = strawberry.field(
        default="", description="The refusal's reason as a person reads it."
    )


@strawberry.type
class WhatIfFigures:
    leads: int = strawberry.field(
        description="Inbox leads push placed first with them."
    )
    held: int = strawberry.field(description="Of those, the ones that waited first.")
    sla: int = strawberry.field(description="Leads received by SLA reassignment.")
    handovers: int = strawberry.field(
        description="Leads received at someone's shift end."
    )
    claimed: int = strawberry.field(
        description="Presses of the button that took a lead."
    )
    refusals: list[LimitCount]


@strawberry.type
class ManagerComparison:
    user: str
    proposed: int
    actual: int
    name: str = strawberry.field(default="", description="The manager's name.")
    proposed_figures: WhatIfFigures | None = strawberry.field(
        default=None, description="Everything counted for them under the proposal."
    )
    actual_figures: WhatIfFigures | None = strawberry.field(
        default=None, description="The same as it happened; null when not known."
    )
    proposed_share: float = strawberry.field(
        default=0.0,
        description="Share of the template-pushed leads under the proposal, 0..1.",
    )
    actual_share: float = strawberry.field(
        default=0.0, description="Share of the template-pushed leads as it happened."
    )
    ideal_share: float = strawberry.field(
        default=0.0,
        description="Share the proposed templates' weights give over the "
        "proposal's pushes.",
    )
    actual_ideal_share: float = strawberry.field(
        default=0.0,
        description="Share the proposed weights give over the real pushes.",
    )


@strawberry.type
class TemplateFairness:
    template_id: str
    name: str
    max_deviation: float = strawberry.field(
        description="Largest gap, in leads, between a participant's pushed leads "
        "and its ideal weighted share."
    )


@strawberry.type
class ClaimRefusals:
    user: str
    limit: str
    count: int
    name: str = ""
    text: str = strawberry.field(
        default="", description="The refusal's reason as a person reads it."
    )


@strawberry.type
class UserCount:
    user: str
    count: int
    name: str = ""


@strawberry.type
class TemplateWindow:
    template_id: str
    name: str
    window: str = strawberry.field(
        description="The template's schedule window, e.g. 'Mon–Fri 09:00–16:00'; "
        "empty for a template the proposal does not have."
    )
    proposed: list[UserCount]
    actual: list[UserCount]
    proposed_total: int
    actual_total: int


@strawberry.type
class BlockedSpan:
    from_: datetime = strawberry.field(name="from")
    to: datetime


@strawberry.type
class BlockedTime:
    user: str
    name: str
    limit: str
    hours: float
    spans: list[BlockedSpan]


@strawberry.type
class HeldLeads:
    leads: int
    total_minutes: int
    max_minutes: int


@strawberry.type
class Simulation:
    ok: bool
    problems: list[Problem]
    managers: list[ManagerComparison]
    templates: list[TemplateFairness]
    claims: int
    refused_claims: int
    refusals: list[ClaimRefusals]
    held_leads: int
    held_minutes: int
    held_max_minutes: int = 0
    fairness: float | None = strawberry.field(
        default=None,
        description="Largest gap between a manager's share and its ideal share "
        "under the proposal, 0..1; null with no pushed leads.",
    )
    actual_fairness: float | None = None
    blocked: list[BlockedTime] = strawberry.field(
        default_factory=list,
        description="When a limit would refuse a member's press under the "
        "proposal, over the whole range.",
    )
    actual_refused_claims: int | None = None
    actual_refusals: list[ClaimRefusals] = strawberry.field(default_factory=list)
    actual_held: HeldLeads | None = None
    sla_reassignments: int = 0
    handovers: int = 0
    actual_sla_reassignments: int | None = None
    actual_handovers: int | None = None
    windows: list[TemplateWindow] = strawberry.field(default_factory=list)
    differences: list[str] = strawberry.field(
        default_factory=list,
        description="Where the proposal and what happened differ, a line each; "
        "empty when they agree.",
    )


BUCKET_NAMES = {"(button)": "left for the button", "(held)": "still waiting at the end"}


def _figures(f: assigner_pb2.WhatIfFigures) -> WhatIfFigures:
    return WhatIfFigures(
        leads=f.leads,
        held=f.held,
        sla=f.sla,
        handovers=f.handovers,
        claimed=f.claimed,
        refusals=[
            LimitCount(limit=k, count=v, text=refusal_text(k))
            for k, v in sorted(f.refused.items())
        ],
    )


def _counts(counts: Iterable[assigner_pb2.UserCount]) -> list[UserCount]:
    return [UserCount(user=c.user_id, name=c.name, count=c.count) for c in counts]


def _refusals(reply: Reply, actual: bool) -> list[ClaimRefusals]:
    return [
        ClaimRefusals(
            user=m.user_id, name=m.name, limit=limit, count=n, text=refusal_text(limit)
        )
        for m in reply.managers
        for limit, n in sorted((m.actual if actual else m.proposed).refused.items())
    ]


def _held(held: assigner_pb2.HeldLeads) -> HeldLeads:
    return HeldLeads(
        leads=held.leads, total_minutes=held.total_minutes, max_minutes=held.max_minutes
    )


def simulation_of(reply: Reply) -> Simulation:
    """The assigner's answer as the GraphQL type."""
    p = reply.proposed
    known = reply.HasField("actual")
    a = reply.actual
    managers = [
        ManagerComparison(
            user=m.user_id,
            name=m.name,
            proposed=m.proposed.leads,
            actual=m.actual.leads,
            proposed_share=m.proposed_share,
            actual_share=m.actual_share,
            ideal_share=m.ideal_share,
            actual_ideal_share=m.actual_ideal_share,
            proposed_figures=_figures(m.proposed),
            actual_figures=_figures(m.actual) if m.HasField("actual") else None,
        )
        for m in reply.managers
    ]
    for bucket, field in (("(button)", "left_to_button"), ("(held)", "still_held")):
        mine, theirs = getattr(p, field), getattr(a, field)
        if mine or theirs:
            managers.append(
                ManagerComparison(
                    user=bucket, name=BUCKET_NAMES[bucket], proposed=mine, actual=theirs
                )
            )
    return Simulation(
        ok=True,
        problems=[],
        managers=managers,
        templates=[
            TemplateFairness(
                template_id=t.id, name=t.name, max_deviation=t.max_deviation
            )
            for t in reply.templates
            if t.HasField("max_deviation")
        ],
        claims=p.presses,
        refused_claims=p.refused_presses,
        refusals=_refusals(reply, actual=False),
        held_leads=p.held.leads,
        held_minutes=p.held.total_minutes,
        held_max_minutes=p.held.max_minutes,
        fairness=fairness(reply)[0],
        actual_fairness=fairness(reply)[1],
        blocked=[
            BlockedTime(
                user=b.user_id,
                name=b.name,
                limit=b.limit,
                hours=b.hours,
                spans=[
                    BlockedSpan(from_=from_ts(x.start), to=from_ts(x.end))
                    for x in b.spans
                ],
            )
            for b in reply.blocked
        ],
        actual_refused_claims=a.refused_presses if known else None,
        actual_refusals=_refusals(reply, actual=True) if known else [],
        actual_held=_held(a.held) if known else None,
        sla_reassignments=p.sla_reassignments,
        handovers=p.handovers,
        actual_sla_reassignments=a.sla_reassignments if known else None,
        actual_handovers=a.handovers if known else None,
        windows=[
            TemplateWindow(
                template_id=t.id,
                name=t.name,
                window=t.window,
                proposed=_counts(t.proposed),
                actual=_counts(t.actual),
                proposed_total=sum(c.count for c in t.proposed),
                actual_total=sum(c.count for c in t.actual),
            )
            for t in reply.templates
        ],
        differences=list(reply.differences),
    )


def failed(problems: list[Problem]) -> Simulation:
    return Simulation(
        ok=False,
        problems=problems,
        managers=[],
        templates=[],
        claims=0,
        refused_claims=0,
        refusals=[],
        held_leads=0,
        held_minutes=0,
    )


async def run_simulation(
    ctx: Context, yaml: str, start: datetime, end: datetime
) -> Reply | list[Problem]:
    """Checks the caller and the input, then replays; problems when it cannot."""
    caller = ctx.require("admin")
    if len(yaml.encode()) > MAX_WORKSPACE_BYTES:
        raise BadInput(messages.workspace_too_large())
    if start.tzinfo is None or end.tzinfo is None:
        raise BadInput(messages.needs_offset("from" if start.tzinfo is None else "to"))
    result, problems = await simulate(ctx.clients, caller.account, yaml, start, end)
    if result is None:
        return [Problem(path=p.path, message=p.message) for p in problems]
    return result


@strawberry.type
class WhatIfQueries:
    @strawberry.field(
        description="Replays the account's history in [from, to) under a proposed "
        "workspace YAML, next to what happened; nothing live changes."
    )
    async def simulate(
        self,
        info: Info,
        workspace_yaml: str,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
    ) -> Simulation:
        result = await run_simulation(info.context, workspace_yaml, from_, to)
        if isinstance(result, list):
            return failed(result)
        return simulation_of(result)
