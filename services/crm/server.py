"""gRPC entry point of the crm service: translates messages and calls the store."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from leadrouter.clients import Clients
from leadrouter.clock import Clock
from leadrouter.config import Settings
from leadrouter.crm.v1 import crm_pb2, crm_pb2_grpc
from leadrouter.db import Database
from leadrouter.rpc import ServiceRunner
from services.crm.rpcs.assignments import AssignmentRpcs
from services.crm.rpcs.directory import DirectoryRpcs
from services.crm.rpcs.events import EventRpcs
from services.crm.rpcs.leads import LeadRpcs
from services.crm.rpcs.pool import PoolRpcs
from services.crm.store import CrmStore
from services.crm.tables import metadata


class CrmServicer(DirectoryRpcs, LeadRpcs, PoolRpcs, AssignmentRpcs, EventRpcs):
    """The crm's gRPC API: each use case's methods from services/crm/rpcs/."""


def build(
    settings: Settings, clock: Clock, clients: Clients
) -> tuple[ServiceRunner, Database]:
    """The built-in CRM's server (services/crm/process.py chooses it)."""
    db = Database(settings.database_url_for("crm"), "crm", metadata)
    db.create_all()
    servicer = CrmServicer(CrmStore(db, clock))

    def register(server: grpc.aio.Server) -> Sequence[str]:
        crm_pb2_grpc.add_CrmServicer_to_server(servicer, server)
        return [crm_pb2.DESCRIPTOR.services_by_name["Crm"].full_name]

    async def healthy() -> bool:
        return await db.run(db.ping)

    return ServiceRunner("crm", register, healthy), db
