"""How the CRM of record is reached: in amoCRM mode, a block of the whole
account, the changes that wait for it, the first sync and the webhooks.

The widget's banner reads this ("amoCRM has blocked this account until 14:05;
3 changes wait"), and so does the gateway's /readyz.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.context import Info
from leadrouter.auth import ROLES
from leadrouter.crm.v1 import crm_pb2
from leadrouter.timestamps import optional_ts

WEBHOOK_STATES = (
    "working, missing (not registered in amoCRM), disabled (switched off by "
    "amoCRM after failed answers), not_allowed (the account's plan does not "
    "allow webhooks through the API), no_public_url (LEADROUTER_AMOCRM_PUBLIC_"
    "URL is not set, so amoCRM cannot reach this service) or unknown"
)


@strawberry.type(description="How the CRM of record is reached.")
class CrmConnection:
    crm: str = strawberry.field(description="builtin or amocrm.")
    subdomain: str
    account_id: strawberry.ID | None = strawberry.field(
        description="amoCRM's id of the account, once the first sync read it."
    )
    synced: bool = strawberry.field(description="The first sync has finished.")
    sync_progress: str
    block: str | None = strawberry.field(
        description="Null while amoCRM serves the account; blocked (403: too many "
        "requests) or not_paid (402: the subscription has ended) while it "
        "refuses the whole account. Changes wait meanwhile; none is given up."
    )
    blocked_since: datetime | None
    next_attempt_at: datetime | None = strawberry.field(
        description="While blocked: when amoCRM is asked again."
    )
    waiting_changes: int = strawberry.field(
        description="Changes made here that amoCRM has still to take."
    )
    webhook: str = strawberry.field(description=f"One of: {WEBHOOK_STATES}.")
    webhook_checked_at: datetime | None
    reconcile_every_seconds: float = strawberry.field(
        description="How often amoCRM's events are read to mend what webhooks "
        "missed: every minute while no webhook works."
    )
    reconciled_until: datetime | None

    @classmethod
    def of(cls, msg: crm_pb2.Connection) -> CrmConnection:
        return cls(
            crm=msg.crm,
            subdomain=msg.subdomain,
            account_id=strawberry.ID(str(msg.account_id)) if msg.account_id else None,
            synced=msg.synced if msg.crm == "amocrm" else True,
            sync_progress=msg.sync_progress,
            block=msg.block or None,
            blocked_since=optional_ts(msg, "blocked_since"),
            next_attempt_at=optional_ts(msg, "next_attempt_at"),
            waiting_changes=msg.waiting_writes,
            webhook=msg.webhook,
            webhook_checked_at=optional_ts(msg, "webhook_checked_at"),
            reconcile_every_seconds=msg.reconcile_every_seconds,
            reconciled_until=optional_ts(msg, "reconciled_until"),
        )


@strawberry.type
class ConnectionQueries:
    @strawberry.field(
        description="How the CRM of record is reached. Everyone signed in: a "
        "block of the amoCRM account holds everybody's changes."
    )
    async def crm_connection(self, info: Info) -> CrmConnection:
        ctx = info.context
        caller = ctx.require(*ROLES)
        msg = await ctx.clients.crm.get_connection(
            crm_pb2.GetConnectionRequest(account=caller.account)
        )
        return CrmConnection.of(msg)
