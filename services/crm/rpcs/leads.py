"""A lead's life in the crm: intake, reading and finding, its history, moves
and reopening, and the counts the limits read."""

from __future__ import annotations

from pydantic import ValidationError

from leadrouter.crm.v1 import crm_pb2
from leadrouter.cursors import decode_lead_cursor
from leadrouter.errors import BadInput, Problem
from leadrouter.i18n import _
from leadrouter.keyset import page_request
from leadrouter.rpc import handles_errors
from leadrouter.timestamps import from_ts, optional_ts, set_ts
from leadrouter.validation import field_message
from services.crm import history as h
from services.crm.lead_history import lead_history
from services.crm.rpcs.common import Ctx, ServicerBase, lead_message
from services.crm.store import LeadFilter


class LeadRpcs(ServicerBase):
    """Intake, reading, finding, history, moves and reopening of leads."""

    @handles_errors
    async def SubmitLead(
        self, request: crm_pb2.SubmitLeadRequest, context: Ctx
    ) -> crm_pb2.Lead:
        lead = request.lead
        at = optional_ts(lead, "created_at") or self.store.clock.now()
        try:
            event = h.LeadCreated(
                type="lead_created",
                at=at,
                lead=lead.id or self.store.new_lead_id(),
                name=lead.name,
                pipeline=lead.pipeline,
                stage=lead.stage,
                responsible=lead.responsible,
                channel=lead.channel,
                contacts=list(lead.contacts),
                companies=list(lead.companies),
                tags=list(lead.tags),
                budget=lead.budget,
            )
        except ValidationError as error:
            # Field and reason only: the validator's own text links to its docs.
            problems = [
                Problem(".".join(str(p) for p in e["loc"]), field_message(e))
                for e in error.errors()
            ]
            raise BadInput("; ".join(map(str, problems)), problems) from error
        view = await self.store.db.run(
            self.store.submit_lead,
            account=request.account,
            event=event,
            operation_id=request.operation_id,
        )
        self._notify()
        return lead_message(view)

    @handles_errors
    async def GetLeads(
        self, request: crm_pb2.GetLeadsRequest, context: Ctx
    ) -> crm_pb2.LeadList:
        views = await self.store.db.run(
            self.store.get_leads, account=request.account, ids=list(request.ids)
        )
        return crm_pb2.LeadList(leads=[lead_message(v) for v in views])

    @handles_errors
    async def GetLeadHistory(
        self, request: crm_pb2.GetLeadHistoryRequest, context: Ctx
    ) -> crm_pb2.LeadHistory:
        entries, reopens_to = await self.store.db.run(
            lead_history,
            db=self.store.db,
            account=request.account,
            lead_id=request.lead_id,
        )
        reply = crm_pb2.LeadHistory(reopens_to=reopens_to)
        for e in entries:
            m = reply.entries.add(
                offset=e.offset,
                type=e.type,
                by=e.by,
                stage=e.stage,
                responsible=e.responsible,
                loss_reason=e.loss_reason,
                task=e.task,
            )
            set_ts(m, "at", e.at)
        return reply

    @handles_errors
    async def ReopenLead(
        self, request: crm_pb2.ReopenLeadRequest, context: Ctx
    ) -> crm_pb2.Lead:
        view = await self.store.db.run(
            self.store.reopen_lead,
            account=request.account,
            lead_id=request.lead_id,
            by=request.by,
            at=optional_ts(request, "at"),
        )
        self._notify()
        return lead_message(view)

    @handles_errors
    async def MoveLead(
        self, request: crm_pb2.MoveLeadRequest, context: Ctx
    ) -> crm_pb2.Lead:
        view = await self.store.db.run(
            self.store.move_lead,
            account=request.account,
            lead_id=request.lead_id,
            stage=request.stage,
            loss_reason=request.loss_reason,
            by=request.by,
            at=optional_ts(request, "at"),
        )
        self._notify()
        return lead_message(view)

    @handles_errors
    async def CountOpenLeads(
        self, request: crm_pb2.CountOpenLeadsRequest, context: Ctx
    ) -> crm_pb2.CountOpenLeadsResponse:
        counts = await self.store.db.run(
            self.store.count_open_leads,
            account=request.account,
            users=list(request.user_ids),
        )
        return crm_pb2.CountOpenLeadsResponse(open_leads=counts)

    @handles_errors
    async def GetLeadWork(
        self, request: crm_pb2.GetLeadWorkRequest, context: Ctx
    ) -> crm_pb2.GetLeadWorkResponse:
        work = await self.store.db.run(
            self.store.lead_work,
            account=request.account,
            queries=[(q.lead_id, from_ts(q.since)) for q in request.leads],
        )
        return crm_pb2.GetLeadWorkResponse(
            leads=[
                crm_pb2.LeadWork(
                    lead_id=w.lead_id,
                    found=w.found,
                    stage=w.stage,
                    responsible=w.responsible,
                    open=w.open,
                    tasks_completed=w.tasks_completed,
                )
                for w in work
            ]
        )

    @handles_errors
    async def FindLeads(
        self, request: crm_pb2.FindLeadsRequest, context: Ctx
    ) -> crm_pb2.FindLeadsResponse:
        f = request.filter
        lead_filter = LeadFilter(
            lead_ids=tuple(f.lead_ids),
            responsible=f.responsible,
            pipeline=f.pipeline,
            stages=tuple(f.stages),
            created_from=optional_ts(f, "created_from"),
            created_to=optional_ts(f, "created_to"),
            no_open_task=f.no_open_task,
        )
        if request.offset < 0 or request.limit < 0:
            raise BadInput(_("offset and limit must not be negative"))
        if request.ids_only and (request.HasField("first") or request.HasField("last")):
            page, total = await self.store.db.run(
                self.store.lead_ids_page,
                account=request.account,
                f=lead_filter,
                want=page_request(request, decode_lead_cursor),
            )
            return crm_pb2.FindLeadsResponse(
                leads=[crm_pb2.LeadScope(lead_id=x) for x in page.rows],
                total=total,
                has_next_page=page.has_next,
                has_previous_page=page.has_previous,
            )
        if request.ids_only:
            ids, total = await self.store.db.run(
                self.store.find_lead_ids,
                account=request.account,
                f=lead_filter,
                offset=request.offset,
                limit=request.limit,
            )
            return crm_pb2.FindLeadsResponse(
                leads=[crm_pb2.LeadScope(lead_id=x) for x in ids], total=total
            )
        scopes, missing = await self.store.db.run(
            self.store.find_leads,
            account=request.account,
            f=lead_filter,
            operation_prefix=request.operation_prefix,
        )
        return crm_pb2.FindLeadsResponse(
            total=len(scopes),
            leads=[
                crm_pb2.LeadScope(
                    lead_id=x.lead_id,
                    responsible=x.responsible,
                    stage=x.stage,
                    done=x.done,
                    items=[
                        crm_pb2.OwnedItem(
                            id=i.id, kind=i.kind, responsible=i.responsible
                        )
                        for i in x.items
                    ],
                )
                for x in scopes
            ],
            missing=missing,
        )
