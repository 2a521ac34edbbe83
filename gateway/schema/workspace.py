"""Applying a workspace file from the UI or any admin client."""

from __future__ import annotations

import strawberry

from gateway.context import Info
from gateway.schema.types import ApplyResult, Problem
from leadrouter.errors import BadInput
from leadrouter.workspace_apply import apply_workspace

MAX_WORKSPACE_BYTES = 1_000_000


@strawberry.type
class WorkspaceMutations:
    @strawberry.mutation(
        description="Validates and applies a workspace YAML (all or nothing); "
        "with dryRun only validates."
    )
    async def apply_workspace(
        self, info: Info, yaml: str, dry_run: bool = False
    ) -> ApplyResult:
        ctx = info.context
        caller = ctx.require("admin")
        if len(yaml.encode()) > MAX_WORKSPACE_BYTES:
            raise BadInput("the workspace file is larger than 1 MB")
        report = await apply_workspace(
            ctx.clients, yaml, caller.account, dry_run=dry_run
        )
        return ApplyResult(
            ok=report.ok,
            changes=report.changes,
            problems=[Problem(path=p.path, message=p.message) for p in report.problems],
        )
