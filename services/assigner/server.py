"""gRPC entry point of the assigner: groups, claims, push and the decision journal."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Any, TypeAlias

import grpc
from google.protobuf.json_format import ParseDict

from leadrouter import messages, metrics
from leadrouter.assigner.v1 import assigner_pb2, assigner_pb2_grpc
from leadrouter.clients import Clients
from leadrouter.clock import Clock
from leadrouter.common.v1 import common_pb2
from leadrouter.config import Settings
from leadrouter.crm.v1 import crm_pb2
from leadrouter.cursors import decision_cursor, decode_decision_cursor
from leadrouter.db import Database
from leadrouter.errors import BadInput
from leadrouter.i18n import _
from leadrouter.ids import decision_number
from leadrouter.keyset import page_request
from leadrouter.limits.v1 import limits_pb2
from leadrouter.rpc import ServiceRunner, handles_errors
from leadrouter.streams import tail
from leadrouter.timestamps import optional_ts, set_ts
from services.assigner import journal_counts  # noqa: F401  (counts the journal)
from services.assigner.alerts import WaitingAlerts
from services.assigner.background import AssignerRunner, CrmFollower, Ticker
from services.assigner.claim import ClaimLead, pool_query
from services.assigner.claim_attempts import ClaimAttempts, Settler
from services.assigner.manual import ManualMode, ManualOutcome
from services.assigner.past import RecordPast
from services.assigner.push import PushDistribution
from services.assigner.push_store import PushStore
from services.assigner.reopening import Reopening
from services.assigner.simulate import Simulation
from services.assigner.store import AssignerStore, DecisionFilter, Group
from services.assigner.tables import DecisionRow, metadata
from services.assigner.waiting import WaitingLeads

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]
# How often, in real seconds, held leads, SLA timers and shift handovers are
# looked at; what they are checked against is the injected clock's now.
TICK_SECONDS = 5.0


def _decision_key(cursor: str, name: str) -> tuple[int]:
    return (decode_decision_cursor(cursor, name),)


def reason_message(reason: dict[str, Any]) -> assigner_pb2.Reason:
    msg = assigner_pb2.Reason(code=reason["code"])
    if "verdict" in reason:
        msg.verdict.CopyFrom(ParseDict(reason["verdict"], limits_pb2.Verdict()))
    return msg


def decision_message(row: DecisionRow) -> assigner_pb2.Decision:
    msg = assigner_pb2.Decision(
        id=str(row.seq),
        account=row.account,
        kind=row.kind,
        outcome=row.outcome,
        group_id=row.group_id,
        actor=row.actor,
        lead_id=row.lead_id,
        assignee=row.assignee,
        reasons=[reason_message(r) for r in json.loads(row.reasons)],
        details_json=row.details,
        template_id=row.template_id,
        algorithm=row.algorithm,
        trace_id=row.trace_id,
        offset=row.seq or 0,
    )
    set_ts(msg, "at", row.at)
    return msg


def group_message(g: Group) -> assigner_pb2.Group:
    return assigner_pb2.Group(
        id=g.id,
        name=g.name,
        source_stages=g.source_stages,
        target_stage=g.target_stage,
        exchange_users=g.exchange_users,
        cascade=g.cascade,
    )


def manual_message(outcome: ManualOutcome) -> assigner_pb2.ManualResult:
    c = outcome.counts
    return assigner_pb2.ManualResult(
        dry_run=outcome.dry_run,
        batch_id=outcome.batch_id,
        leads=c.leads,
        tasks=c.tasks,
        contacts=c.contacts,
        companies=c.companies,
        lead_ids=outcome.lead_ids,
        skipped_lead_ids=outcome.skipped,
        batches=outcome.batches,
        decisions=[decision_message(d) for d in outcome.decisions],
    )


class AssignerServicer(assigner_pb2_grpc.AssignerServicer):
    POLL_SECONDS = 0.5

    def __init__(self, store: AssignerStore, clients: Clients, clock: Clock) -> None:
        self.store = store
        self.clients = clients
        self.clock = clock
        self._recorded = asyncio.Event()
        self.settler = Settler(
            ClaimAttempts(store.db),
            store,
            clients,
            self._recorded.set,
            # Older than any crm call can still be on its way.
            stale_after=timedelta(seconds=max(30.0, 3 * clients.timeout)),
        )
        self.claim = ClaimLead(store, clients, clock, self.settler)
        self.push = PushDistribution(
            store, PushStore(store.db), clients, clock, self._recorded.set
        )
        self.manual = ManualMode(store, clients, clock, self._recorded.set)
        self.reopening = Reopening(store, clients, clock, self._recorded.set)
        self.waiting = WaitingLeads(store.db, clients, clock)
        self.simulation = Simulation(store, clients)
        self.past = RecordPast(store.db, clients)

    @handles_errors
    async def ApplyGroups(
        self, request: assigner_pb2.ApplyGroupsRequest, context: Ctx
    ) -> common_pb2.ApplyResult:
        groups = [
            Group(
                id=g.id,
                name=g.name,
                source_stages=tuple(g.source_stages),
                target_stage=g.target_stage,
                exchange_users=tuple(g.exchange_users),
                cascade=g.cascade,
            )
            for g in request.groups
        ]
        changes = await self.store.db.run(
            self.store.apply_groups,
            account=request.account,
            groups=groups,
            dry_run=request.dry_run,
        )
        return common_pb2.ApplyResult(changes=changes)

    @handles_errors
    async def ListGroups(
        self, request: assigner_pb2.ListGroupsRequest, context: Ctx
    ) -> assigner_pb2.ListGroupsResponse:
        groups = await self.store.db.run(
            self.store.groups, account=request.account, ids=list(request.ids)
        )
        return assigner_pb2.ListGroupsResponse(
            groups=[group_message(g) for g in groups]
        )

    @handles_errors
    async def GetPool(
        self, request: assigner_pb2.GetPoolRequest, context: Ctx
    ) -> crm_pb2.LeadPage:
        group = await self.store.db.run(
            self.store.group, account=request.account, group_id=request.group_id
        )
        asked = crm_pb2.ListPoolRequest(
            account=request.account,
            pool=pool_query(group),
            after=request.after,
            before=request.before,
        )
        for size in ("first", "last"):
            if request.HasField(size):
                setattr(asked, size, getattr(request, size))
        page: crm_pb2.LeadPage = await self.clients.crm.list_pool(asked)
        metrics.POOL_SIZE.labels(request.group_id).set(page.total)
        return page

    @handles_errors
    async def ClaimLead(
        self, request: assigner_pb2.ClaimLeadRequest, context: Ctx
    ) -> assigner_pb2.ClaimLeadResponse:
        if not request.user_id:
            raise BadInput(_("a claim needs the claiming user"))
        outcome = await self.claim(
            request.account, request.group_id, request.user_id, request.idempotency_key
        )
        self._recorded.set()
        reply = assigner_pb2.ClaimLeadResponse(
            claimed=outcome.lead is not None,
            reasons=[reason_message(r) for r in outcome.reasons],
            decision=decision_message(outcome.decision),
        )
        if outcome.lead is not None:
            reply.lead.CopyFrom(outcome.lead)
        return reply

    @handles_errors
    async def DistributeLead(
        self, request: assigner_pb2.DistributeLeadRequest, context: Ctx
    ) -> assigner_pb2.Decision:
        if not request.lead_id:
            raise BadInput(_("which lead? leadId is empty"))
        decision = await self.push.on_demand(
            request.account, request.lead_id, request.idempotency_key, request.actor
        )
        return decision_message(decision)

    @handles_errors
    async def Tick(
        self, request: assigner_pb2.TickRequest, context: Ctx
    ) -> assigner_pb2.TickResponse:
        made = await self.push.tick(request.account)
        return assigner_pb2.TickResponse(decisions=[decision_message(d) for d in made])

    @handles_errors
    async def ListDecisions(
        self, request: assigner_pb2.ListDecisionsRequest, context: Ctx
    ) -> assigner_pb2.DecisionPage:
        page = await self.store.db.run(
            self.store.decisions,
            account=request.account,
            f=DecisionFilter(
                lead_id=request.lead_id,
                user_id=request.user_id,
                group_id=request.group_id,
                since=optional_ts(request, "from"),
                until=optional_ts(request, "to"),
            ),
            want=page_request(request, _decision_key),
        )
        last = page.rows[-1].seq if page.rows and page.has_next else None
        return assigner_pb2.DecisionPage(
            decisions=[decision_message(r) for r in page.rows],
            end_cursor=decision_cursor(last or 0) if last else "",
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
        )

    @handles_errors
    async def GetDecision(
        self, request: assigner_pb2.GetDecisionRequest, context: Ctx
    ) -> assigner_pb2.Decision:
        seq = decision_number(request.id)
        row = await self.store.db.run(
            self.store.decision, account=request.account, seq=seq
        )
        return decision_message(row)

    @handles_errors
    async def AssignLeads(
        self, request: assigner_pb2.AssignLeadsRequest, context: Ctx
    ) -> assigner_pb2.ManualResult:
        outcome = await self.manual.assign(
            account=request.account,
            actor=request.actor,
            lead_ids=list(request.lead_ids),
            users=list(request.user_ids),
            cascade=request.cascade,
            key=request.idempotency_key,
            dry_run=request.dry_run,
        )
        return manual_message(outcome)

    @handles_errors
    async def TransferLeads(
        self, request: assigner_pb2.TransferLeadsRequest, context: Ctx
    ) -> assigner_pb2.ManualResult:
        outcome = await self.manual.transfer(
            account=request.account,
            actor=request.actor,
            from_user=request.from_user_id,
            to_user=request.to_user_id,
            lead_filter=request.filter,
            cascade=request.cascade,
            key=request.idempotency_key,
            dry_run=request.dry_run,
        )
        return manual_message(outcome)

    @handles_errors
    async def ReopenLead(
        self, request: assigner_pb2.ReopenLeadRequest, context: Ctx
    ) -> assigner_pb2.ReopenLeadResponse:
        lead, decision = await self.reopening.reopen(
            request.account, request.lead_id, request.actor
        )
        return assigner_pb2.ReopenLeadResponse(
            lead=lead, decision=decision_message(decision)
        )

    @handles_errors
    async def GetWaiting(
        self, request: assigner_pb2.GetWaitingRequest, context: Ctx
    ) -> assigner_pb2.Waiting:
        if not request.account:
            raise BadInput(_("whose waiting leads? account is empty"))
        first = request.first if request.first > 0 else 50
        if first > 500:
            raise BadInput(messages.whole_number_from("first", 1, 500))
        now = self.clock.now()
        held = await self.store.db.run(self.waiting.held, account=request.account)
        leads = await self.store.db.run(
            self.waiting.held_leads, account=request.account, first=first
        )
        pools = await self.waiting.pools(request.account)
        reply = assigner_pb2.Waiting(
            pools=[
                assigner_pb2.PoolWaiting(
                    group_id=p.group_id, leads=p.leads, eligible_members=p.eligible
                )
                for p in pools
            ]
        )
        set_ts(reply, "at", now)
        for h in held:
            msg = reply.held.add(group_id=h.group_id, reason=h.reason, leads=h.leads)
            set_ts(msg, "oldest_since", h.oldest_since)
        for lead in leads:
            item = reply.leads.add(
                lead_id=lead.lead_id, group_id=lead.group_id, reason=lead.reason
            )
            set_ts(item, "since", lead.since)
        return reply

    @handles_errors
    async def Simulate(
        self, request: assigner_pb2.SimulateRequest, context: Ctx
    ) -> assigner_pb2.SimulateResponse:
        return await self.simulation(request)

    @handles_errors
    async def RecordHistory(
        self, request: assigner_pb2.RecordHistoryRequest, context: Ctx
    ) -> assigner_pb2.RecordHistoryResponse:
        reply = await self.past(request)
        self._recorded.set()
        return reply

    async def StreamDecisions(
        self, request: assigner_pb2.StreamDecisionsRequest, context: Ctx
    ) -> AsyncIterator[assigner_pb2.Decision]:
        rows = tail(
            lambda seq, limit: self.store.db.run(
                self.store.decisions_after,
                account=request.account,
                seq=seq,
                limit=limit,
            ),
            lambda row: row.seq or 0,
            after=request.after_offset,
            follow=request.follow,
            appended=self._recorded,
            poll_seconds=self.POLL_SECONDS,
        )
        async for row in rows:
            yield decision_message(row)


def build(
    settings: Settings, clock: Clock, clients: Clients
) -> tuple[ServiceRunner, Database]:
    db = Database(settings.database_url_for("assigner"), "assigner", metadata)
    db.create_all()
    servicer = AssignerServicer(AssignerStore(db), clients, clock)

    def register(server: grpc.aio.Server) -> Sequence[str]:
        assigner_pb2_grpc.add_AssignerServicer_to_server(servicer, server)
        return [assigner_pb2.DESCRIPTOR.services_by_name["Assigner"].full_name]

    async def healthy() -> bool:
        return await db.run(db.ping)

    follower = CrmFollower(servicer.push, clients)
    ticker = Ticker(servicer.push, TICK_SECONDS)
    # Scrapes read the waiting leads of this process's database.
    metrics.WAITING.source = servicer.waiting.measure
    alerts = WaitingAlerts.configured(settings, servicer.waiting, clock)
    loops = [follower.run, ticker.run, servicer.settler.run, servicer.waiting.run]
    runner = AssignerRunner(
        "assigner",
        register,
        healthy,
        loops=[*loops, alerts.run] if alerts else loops,
        alerts=alerts,
    )
    return runner, db
