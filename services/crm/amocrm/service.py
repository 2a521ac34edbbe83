"""The crm service in amoCRM mode: the same gRPC API over a mirror kept by the
connector, plus webhook intake; writes go to amoCRM through the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import grpc

from leadrouter.clock import Clock
from leadrouter.common.v1 import common_pb2
from leadrouter.config import Settings
from leadrouter.crm.v1 import crm_pb2, crm_pb2_grpc
from leadrouter.db import Database
from leadrouter.errors import BadInput
from leadrouter.rpc import ServiceRunner, handles_errors
from services.crm.amocrm import tables as _tables  # noqa: F401  (creates them)
from services.crm.amocrm.connector import AmoConnector
from services.crm.rpcs.common import Ctx
from services.crm.server import CrmServicer

FROM_AMOCRM = "with LEADROUTER_CRM=amocrm, {what} come from amoCRM; {todo}"


class AmoCrmServicer(CrmServicer):
    def __init__(self, connector: AmoConnector) -> None:
        super().__init__(connector.store)
        self.connector = connector

    def _notify(self) -> None:
        super()._notify()
        self.connector.wake()  # an assignment has an outbox row to send

    @handles_errors
    async def AcceptWebhook(
        self, request: crm_pb2.AcceptWebhookRequest, context: Ctx
    ) -> crm_pb2.AcceptWebhookResponse:
        seq = await self.store.db.run(self.connector.syncer.accept, body=request.body)
        self.connector.wake()
        return crm_pb2.AcceptWebhookResponse(id=seq)

    @handles_errors
    async def GetConnection(
        self, request: crm_pb2.GetConnectionRequest, context: Ctx
    ) -> crm_pb2.Connection:
        return await self.connector.connection()

    @handles_errors
    async def ApplyDirectory(
        self, request: crm_pb2.ApplyDirectoryRequest, context: Ctx
    ) -> common_pb2.ApplyResult:
        raise BadInput(
            FROM_AMOCRM.format(
                what="users and pipelines",
                todo="remove them from the workspace file and refer to amoCRM ids",
            )
        )

    @handles_errors
    async def ImportHistory(
        self, request: crm_pb2.ImportHistoryRequest, context: Ctx
    ) -> crm_pb2.ImportHistoryResponse:
        raise BadInput(
            FROM_AMOCRM.format(what="leads and their history", todo="nothing to import")
        )

    @handles_errors
    async def MoveLead(
        self, request: crm_pb2.MoveLeadRequest, context: Ctx
    ) -> crm_pb2.Lead:
        # amoCRM asks for the account's own loss reasons when a lead is lost
        # there; its reasons come back with the lead ("_embedded[loss_reason]
        # [name] | string | Название причины отказа").
        raise BadInput(
            FROM_AMOCRM.format(
                what="stage changes",
                todo="move the lead in amoCRM, which asks for its loss reason",
            )
        )

    @handles_errors
    async def SubmitLead(
        self, request: crm_pb2.SubmitLeadRequest, context: Ctx
    ) -> crm_pb2.Lead:
        raise BadInput(
            FROM_AMOCRM.format(
                what="new leads",
                todo="create the lead in amoCRM; it is distributed when it arrives",
            )
        )


@dataclass
class AmoServiceRunner(ServiceRunner):
    """The gRPC server, and the connector's worker running beside it."""

    connector: AmoConnector | None = None

    async def start(self, address: str) -> int:
        port = await super().start(address)
        if self.connector is not None:
            self.connector.start()
        return port

    async def stop(self, grace: float = 5.0) -> None:
        if self.connector is not None:
            await self.connector.stop()
        await super().stop(grace)


def build_amocrm(settings: Settings, clock: Clock, db: Database) -> ServiceRunner:
    db.create_all()
    connector = AmoConnector(settings, db, clock)
    servicer = AmoCrmServicer(connector)

    def register(server: grpc.aio.Server) -> Sequence[str]:
        crm_pb2_grpc.add_CrmServicer_to_server(servicer, server)
        return [crm_pb2.DESCRIPTOR.services_by_name["Crm"].full_name]

    async def healthy() -> bool:
        return await db.run(db.ping)

    return AmoServiceRunner("crm", register, healthy, connector=connector)
