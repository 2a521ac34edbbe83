"""Changing the setup from the UI or any admin client: export, preview, apply,
versions and restore."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.context import Info
from gateway.schema.types import ApplyResult
from leadrouter import messages
from leadrouter.errors import BadInput
from leadrouter.limits.v1 import limits_pb2
from leadrouter.setup_changes import Actor, apply_file, export_setup, restore_version
from leadrouter.setup_words import stored_line
from leadrouter.timestamps import from_ts

MAX_WORKSPACE_BYTES = 1_000_000


@strawberry.type(description="One applied change of the setup, kept with its number.")
class WorkspaceVersion:
    number: int
    at: datetime
    author: str = strawberry.field(description="Who: a user id, or a login.")
    source: str = strawberry.field(description="By what: 'applyWorkspace', ...")
    changes: list[str] = strawberry.field(description="What changed, removals first.")


@strawberry.type
class WorkspaceQueries:
    @strawberry.field(
        description="The setup in force as workspace YAML (admins). Applied back "
        "unchanged, it changes nothing; it is the file to edit."
    )
    async def export_workspace(self, info: Info) -> str:
        ctx = info.context
        caller = ctx.require("admin")
        return await export_setup(ctx.clients, caller.account)

    @strawberry.field(
        description="Every applied change of the setup, newest first (admins)."
    )
    async def workspace_versions(self, info: Info) -> list[WorkspaceVersion]:
        ctx = info.context
        caller = ctx.require("admin")
        reply = await ctx.clients.limits.list_setup_versions(
            limits_pb2.ListSetupVersionsRequest(account=caller.account),
        )
        return [
            WorkspaceVersion(
                number=v.number,
                at=from_ts(v.at),
                author=v.author,
                source=v.source,
                changes=[stored_line(c) for c in v.changes],
            )
            for v in reply.versions
        ]


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
            actor=Actor(caller.user_id, "applyWorkspace"),
            dry_run=dry_run,
            allow_removals=allow_removals,
        )
        return ApplyResult.of(report)

    @strawberry.mutation(
        description="Goes back to version `version` of the setup through the same "
        "change as applyWorkspace, with its own preview (dryRun). What was added "
        "since stays unless allowRemovals."
    )
    async def restore_workspace(
        self,
        info: Info,
        version: int,
        dry_run: bool = False,
        allow_removals: bool = False,
    ) -> ApplyResult:
        ctx = info.context
        caller = ctx.require("admin")
        report = await restore_version(
            ctx.clients,
            caller.account,
            version,
            actor=Actor(caller.user_id, f"restoreWorkspace of version {version}"),
            dry_run=dry_run,
            allow_removals=allow_removals,
        )
        return ApplyResult.of(report)
