"""Changing the setup from the UI or any admin client: preview, apply."""

from __future__ import annotations

import strawberry

from gateway.context import Info
from gateway.schema.types import ApplyResult
from leadrouter import messages
from leadrouter.errors import BadInput
from leadrouter.setup_changes import apply_file

MAX_WORKSPACE_BYTES = 1_000_000


@strawberry.type
class WorkspaceMutations:
    @strawberry.mutation(
        description="Checks a workspace YAML and applies it, all or nothing. It "
        "changes only what the file names; with allowRemovals the file is the whole "
        "setup and what it leaves out is removed (removals are listed first). With "
        "dryRun nothing is written and the answer is exactly the change list the "
        "same call without dryRun makes."
    )
    async def apply_workspace(
        self,
        info: Info,
        yaml: str,
        dry_run: bool = False,
        allow_removals: bool = False,
    ) -> ApplyResult:
        ctx = info.context
        caller = ctx.require("admin")
        if len(yaml.encode()) > MAX_WORKSPACE_BYTES:
            raise BadInput(messages.workspace_too_large())
        report = await apply_file(
            ctx.clients,
            yaml,
            caller.account,
            dry_run=dry_run,
            allow_removals=allow_removals,
        )
        return ApplyResult.of(report)
