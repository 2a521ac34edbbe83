"""Manual mode: an admin assigns and transfers leads by hand, with a preview."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.context import Info
from gateway.schema.types import Decision
from leadrouter import messages
from leadrouter.assigner.v1 import assigner_pb2
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import BadInput
from leadrouter.timestamps import to_ts


@strawberry.input(
    description="Which leads a transfer takes, or the leads list shows; empty = all."
)
class LeadFilter:
    lead_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only these leads (a selection, or one batch of it)."
    )
    pipeline: str | None = None
    stages: list[str] | None = strawberry.field(
        default=None,
        description="'pipeline/stage', or a stage id in any pipeline.",
    )
    created_from: datetime | None = strawberry.field(
        default=None, description="Created at or after (inclusive)."
    )
    created_to: datetime | None = strawberry.field(
        default=None, description="Created before (exclusive)."
    )
    no_open_task: bool = strawberry.field(
        default=False, description="Only leads without an open task."
    )

    def message(self) -> crm_pb2.LeadFilter:
        msg = crm_pb2.LeadFilter(
            lead_ids=[str(x) for x in self.lead_ids or []],
            pipeline=self.pipeline or "",
            stages=self.stages or [],
            no_open_task=self.no_open_task,
        )
        for name, value in (
            ("created_from", self.created_from),
            ("created_to", self.created_to),
        ):
            if value is not None:
                if value.tzinfo is None:
                    raise BadInput(messages.needs_offset(name))
                getattr(msg, name).CopyFrom(to_ts(value))
        return msg


@strawberry.type(
    description="What a manual assignment or transfer moved, or with dryRun "
    "what it would move."
)
class ManualResult:
    dry_run: bool
    batch_id: str = strawberry.field(
        description="The idempotencyKey, given or generated: send it again to "
        "finish an interrupted run without moving anything twice."
    )
    leads: int
    tasks: int
    contacts: int
    companies: int
    lead_ids: list[strawberry.ID]
    skipped_lead_ids: list[strawberry.ID] = strawberry.field(
        description="Leads left alone: already the receiver's, or changed owner "
        "meanwhile."
    )
    batches: int = strawberry.field(description="Batches of at most 50 leads.")
    decisions: list[Decision]

    @classmethod
    def of(cls, r: assigner_pb2.ManualResult) -> ManualResult:
        return cls(
            dry_run=r.dry_run,
            batch_id=r.batch_id,
            leads=r.leads,
            tasks=r.tasks,
            contacts=r.contacts,
            companies=r.companies,
            lead_ids=[strawberry.ID(x) for x in r.lead_ids],
            skipped_lead_ids=[strawberry.ID(x) for x in r.skipped_lead_ids],
            batches=r.batches,
            decisions=[Decision.of(d) for d in r.decisions],
        )


@strawberry.type
class ManualMutations:
    @strawberry.mutation(
        description="Admins: give leads by hand to one user, or round robin over "
        "several in the order given. A lead in a group's source stage moves to the "
        "group's target stage. With cascade its open tasks, contacts and companies "
        "follow. dryRun counts without moving anything."
    )
    async def assign_leads(
        self,
        info: Info,
        lead_ids: list[strawberry.ID],
        user_ids: list[strawberry.ID],
        cascade: bool = False,
        idempotency_key: str | None = None,
        dry_run: bool = False,
    ) -> ManualResult:
        ctx = info.context
        caller = ctx.require("admin")
        reply = await ctx.clients.assigner.assign_leads(
            assigner_pb2.AssignLeadsRequest(
                account=caller.account,
                actor=caller.user_id,
                lead_ids=[str(x) for x in lead_ids],
                user_ids=[str(x) for x in user_ids],
                cascade=cascade,
                idempotency_key=idempotency_key or "",
                dry_run=dry_run,
            ),
        )
        return ManualResult.of(reply)

    @strawberry.mutation(
        description="Admins: move a user's leads, all or those the filter selects, "
        "to another user; with cascade their open tasks, contacts and companies "
        "too. dryRun returns the same counts without moving anything."
    )
    async def transfer_leads(
        self,
        info: Info,
        from_user_id: strawberry.ID,
        to_user_id: strawberry.ID,
        filter: LeadFilter | None = None,
        cascade: bool = False,
        idempotency_key: str | None = None,
        dry_run: bool = False,
    ) -> ManualResult:
        ctx = info.context
        caller = ctx.require("admin")
        reply = await ctx.clients.assigner.transfer_leads(
            assigner_pb2.TransferLeadsRequest(
                account=caller.account,
                actor=caller.user_id,
                from_user_id=str(from_user_id),
                to_user_id=str(to_user_id),
                filter=filter.message() if filter else crm_pb2.LeadFilter(),
                cascade=cascade,
                idempotency_key=idempotency_key or "",
                dry_run=dry_run,
            ),
        )
        return ManualResult.of(reply)
