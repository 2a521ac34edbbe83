"""What-if: a proposed workspace replayed over the account's past, for admins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from gateway.context import Context, Info
from gateway.schema.types import Problem
from gateway.schema.workspace import MAX_WORKSPACE_BYTES
from leadrouter.errors import BadInput
from leadrouter.simulate import simulate
from services.assigner.whatif import Held, WhatIfResult


@strawberry.type
class ManagerComparison:
    user: str
    proposed: int
    actual: int
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
    max_deviation: float = strawberry.field(
        description="Largest gap, in leads, between a participant's pushed leads "
        "and its ideal weighted share."
    )


@strawberry.type
class ClaimRefusals:
    user: str
    limit: str
    count: int


@strawberry.type
class UserCount:
    user: str
    count: int


@strawberry.type
class TemplateWindow:
    template_id: str
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


def _counts(per_user: dict[str, int]) -> list[UserCount]:
    return [UserCount(user=u, count=n) for u, n in sorted(per_user.items())]


def _refusals(refused: dict[str, dict[str, int]]) -> list[ClaimRefusals]:
    return [
        ClaimRefusals(user=u, limit=limit, count=n)
        for u, limits in refused.items()
        for limit, n in limits.items()
    ]


def _held(held: Held) -> HeldLeads:
    return HeldLeads(
        leads=held.leads, total_minutes=held.total_minutes, max_minutes=held.max_minutes
    )


def simulation_of(result: WhatIfResult) -> Simulation:
    """The replay's result as the GraphQL type."""
    by_row = {m.user: m for m in result.managers}
    users = sorted(set(result.proposed) | set(result.actual) | set(by_row))
    templates = result.template_ids()
    return Simulation(
        ok=True,
        problems=[],
        managers=[
            ManagerComparison(
                user=u,
                proposed=result.proposed.get(u, 0),
                actual=result.actual.get(u, 0),
                proposed_share=by_row[u].proposed_share if u in by_row else 0.0,
                actual_share=by_row[u].actual_share if u in by_row else 0.0,
                ideal_share=by_row[u].ideal_share if u in by_row else 0.0,
                actual_ideal_share=by_row[u].actual_ideal_share if u in by_row else 0.0,
            )
            for u in users
        ],
        templates=[
            TemplateFairness(template_id=t, max_deviation=d)
            for t, d in result.max_deviation.items()
        ],
        claims=result.claims,
        refused_claims=result.refused_claims,
        refusals=_refusals(result.refused),
        held_leads=result.held_leads,
        held_minutes=result.held_minutes,
        held_max_minutes=result.held_max_minutes,
        fairness=result.fairness,
        actual_fairness=result.actual_fairness,
        blocked=[
            BlockedTime(
                user=user,
                limit=limit,
                hours=result.blocked_hours[user][limit],
                spans=[BlockedSpan(from_=s, to=e) for s, e in spans],
            )
            for user, limits in result.blocked.items()
            for limit, spans in limits.items()
        ],
        actual_refused_claims=result.actual_refused_claims,
        actual_refusals=_refusals(result.actual_refused),
        actual_held=_held(result.actual_held) if result.actual_held else None,
        sla_reassignments=result.sla_reassignments,
        handovers=result.handovers,
        actual_sla_reassignments=result.actual_sla_reassignments,
        actual_handovers=result.actual_handovers,
        windows=[
            TemplateWindow(
                template_id=t,
                window=result.windows.get(t, ""),
                proposed=_counts(result.pushed_by_template.get(t, {})),
                actual=_counts(result.actual_by_template.get(t, {})),
                proposed_total=sum(result.pushed_by_template.get(t, {}).values()),
                actual_total=sum(result.actual_by_template.get(t, {}).values()),
            )
            for t in templates
        ],
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
) -> WhatIfResult | list[Problem]:
    """Checks the caller and the input, then replays; problems when it cannot."""
    caller = ctx.require("admin")
    if len(yaml.encode()) > MAX_WORKSPACE_BYTES:
        raise BadInput("the workspace file is larger than 1 MB")
    if start.tzinfo is None or end.tzinfo is None:
        raise BadInput("from and to need a UTC offset")
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
