"""The crm's directory (users, pipelines, stages), history import, the
connection and webhooks."""

from __future__ import annotations

from leadrouter.common.v1 import common_pb2
from leadrouter.crm.v1 import crm_pb2
from leadrouter.directory_message import directory_message
from leadrouter.errors import BadInput
from leadrouter.i18n import _
from leadrouter.rpc import handles_errors
from leadrouter.stage_kinds import stage_kind_name
from services.crm.directory_store import (
    DirectorySpec,
    PipelineSpec,
    StageSpec,
    UserSpec,
)
from services.crm.recording import record_events
from services.crm.rpcs.common import Ctx, ServicerBase


class DirectoryRpcs(ServicerBase):
    """The directory, history import, the connection and webhooks."""

    @handles_errors
    async def ApplyDirectory(
        self, request: crm_pb2.ApplyDirectoryRequest, context: Ctx
    ) -> common_pb2.ApplyResult:
        d = request.directory
        spec = DirectorySpec(
            account=d.account,
            timezone=d.timezone or "UTC",
            users=tuple(UserSpec(u.id, u.name, u.technical, u.active) for u in d.users),
            pipelines=tuple(
                PipelineSpec(
                    p.id,
                    p.name,
                    p.archived,
                    tuple(
                        StageSpec(
                            s.id,
                            s.name,
                            stage_kind_name(s.kind),
                            tuple(s.loss_reasons),
                            s.require_loss_reason,
                        )
                        for s in p.stages
                    ),
                )
                for p in d.pipelines
            ),
        )
        changes = await self.store.db.run(
            self.store.apply_directory, spec=spec, dry_run=request.dry_run
        )
        return common_pb2.ApplyResult(changes=changes)

    @handles_errors
    async def GetDirectory(
        self, request: crm_pb2.GetDirectoryRequest, context: Ctx
    ) -> crm_pb2.Directory:
        spec = await self.store.db.run(
            self.store.get_directory,
            account=request.account,
            user_ids=list(request.user_ids),
        )
        return directory_message(
            spec.account, spec.timezone, spec.users, spec.pipelines
        )

    @handles_errors
    async def ImportHistory(
        self, request: crm_pb2.ImportHistoryRequest, context: Ctx
    ) -> crm_pb2.ImportHistoryResponse:
        if request.by_event_id:
            done = await self.store.db.run(
                record_events,
                db=self.store.db,
                account=request.account,
                lines=list(request.lines),
                dry_run=request.dry_run,
            )
            applied, already, problems = done.applied, done.already, done.problems
        else:
            applied, problems = await self.store.db.run(
                self.store.import_history,
                account=request.account,
                lines=list(request.lines),
                dry_run=request.dry_run,
            )
            already = 0
        if applied and not request.dry_run:
            self._notify()
        return crm_pb2.ImportHistoryResponse(
            applied=applied,
            already_recorded=already,
            problems=[
                common_pb2.Problem(path=p.path, message=p.message) for p in problems
            ],
        )

    @handles_errors
    async def GetConnection(
        self, request: crm_pb2.GetConnectionRequest, context: Ctx
    ) -> crm_pb2.Connection:
        return crm_pb2.Connection(crm="builtin")  # the CRM of record is this one

    @handles_errors
    async def AcceptWebhook(
        self, request: crm_pb2.AcceptWebhookRequest, context: Ctx
    ) -> crm_pb2.AcceptWebhookResponse:
        raise BadInput(_("amoCRM webhooks are taken only with LEADROUTER_CRM=amocrm"))
