"""Assignments by hand: one lead, or a batch of leads over users."""

from __future__ import annotations

from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import BadInput
from leadrouter.i18n import _
from leadrouter.rpc import handles_errors
from leadrouter.timestamps import optional_ts
from services.crm.rpcs.common import (
    MAX_MANUAL_BATCH,
    Ctx,
    ServicerBase,
    _moved,
    lead_message,
)
from services.crm.store import ManualAssignment


class AssignmentRpcs(ServicerBase):
    """Manual assignment of one lead or a batch."""

    @handles_errors
    async def AssignLead(
        self, request: crm_pb2.AssignLeadRequest, context: Ctx
    ) -> crm_pb2.AssignLeadResponse:
        result = await self.store.db.run(
            self.store.assign_lead,
            account=request.account,
            operation_id=request.operation_id,
            lead_id=request.lead_id,
            user=request.user_id,
            target_stage=request.target_stage,
            cascade=request.cascade,
            expected_responsible=request.expected_responsible
            if request.HasField("expected_responsible")
            else None,
            at=optional_ts(request, "at"),
        )
        reply = crm_pb2.AssignLeadResponse(
            assigned=not result.conflict,
            moved=_moved(result.moved),
            conflict=result.conflict,
        )
        if result.lead is not None:
            reply.lead.CopyFrom(lead_message(result.lead))
        if not result.conflict:
            self._notify()
        return reply

    @handles_errors
    async def AssignLeads(
        self, request: crm_pb2.AssignLeadsRequest, context: Ctx
    ) -> crm_pb2.AssignLeadsResponse:
        if len(request.assignments) > MAX_MANUAL_BATCH:
            raise BadInput(
                _("at most {limit} assignments per batch").format(
                    limit=MAX_MANUAL_BATCH
                )
            )
        outcomes = await self.store.db.run(
            self.store.assign_leads,
            account=request.account,
            assignments=[
                ManualAssignment(
                    operation_id=a.operation_id,
                    lead_id=a.lead_id,
                    user=a.user_id,
                    target_stage=a.target_stage,
                    expected_responsible=a.expected_responsible
                    if a.HasField("expected_responsible")
                    else None,
                )
                for a in request.assignments
            ],
            cascade=request.cascade,
            at=optional_ts(request, "at"),
        )
        if any(o.assigned and not o.replayed for o in outcomes):
            self._notify()
        return crm_pb2.AssignLeadsResponse(
            outcomes=[
                crm_pb2.ManualOutcome(
                    lead_id=o.lead_id,
                    assigned=o.assigned,
                    previous_responsible=o.previous_responsible,
                    moved=_moved(o.moved),
                    conflict=o.conflict,
                    replayed=o.replayed,
                )
                for o in outcomes
            ]
        )
