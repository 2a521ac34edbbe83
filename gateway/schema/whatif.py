"""What-if: a proposed workspace replayed over the account's past, for admins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from gateway.context import Info
from gateway.schema.types import Problem
from gateway.schema.workspace import MAX_WORKSPACE_BYTES
from leadrouter.errors import BadInput
from leadrouter.simulate import simulate


@strawberry.type
class ManagerComparison:
    user: str
    proposed: int
    actual: int


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
        ctx = info.context
        caller = ctx.require("admin")
        if len(workspace_yaml.encode()) > MAX_WORKSPACE_BYTES:
            raise BadInput("the workspace file is larger than 1 MB")
        if from_.tzinfo is None or to.tzinfo is None:
            raise BadInput("from and to need a UTC offset")
        result, problems = await simulate(
            ctx.clients, caller.account, workspace_yaml, from_, to
        )
        if result is None:
            return Simulation(
                ok=False,
                problems=[Problem(path=p.path, message=p.message) for p in problems],
                managers=[],
                templates=[],
                claims=0,
                refused_claims=0,
                refusals=[],
                held_leads=0,
                held_minutes=0,
            )
        users = sorted(set(result.proposed) | set(result.actual))
        return Simulation(
            ok=True,
            problems=[],
            managers=[
                ManagerComparison(
                    user=u,
                    proposed=result.proposed.get(u, 0),
                    actual=result.actual.get(u, 0),
                )
                for u in users
            ],
            templates=[
                TemplateFairness(template_id=t, max_deviation=d)
                for t, d in result.max_deviation.items()
            ],
            claims=result.claims,
            refused_claims=result.refused_claims,
            refusals=[
                ClaimRefusals(user=u, limit=limit, count=n)
                for u, limits in result.refused.items()
                for limit, n in limits.items()
            ],
            held_leads=result.held_leads,
            held_minutes=result.held_minutes,
        )
