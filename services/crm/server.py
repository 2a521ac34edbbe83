"""gRPC entry point of the crm service: translates messages and calls the store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any, TypeAlias

import grpc
from pydantic import ValidationError

from leadrouter.clients import Clients
from leadrouter.clock import Clock
from leadrouter.common.v1 import common_pb2
from leadrouter.config import Settings
from leadrouter.crm.v1 import crm_pb2, crm_pb2_grpc
from leadrouter.cursors import decode_lead_cursor, lead_cursor
from leadrouter.db import Database
from leadrouter.directory_message import directory_message
from leadrouter.errors import BadInput, Problem
from leadrouter.i18n import _
from leadrouter.keyset import Page, page_request
from leadrouter.rpc import ServiceRunner, handles_errors
from leadrouter.stage_kinds import stage_kind_name
from leadrouter.streams import tail
from leadrouter.timestamps import from_ts, optional_ts, set_ts
from leadrouter.validation import field_message
from services.crm import history as h
from services.crm.activity import StageSettings, Windows
from services.crm.claims import ClaimsStore
from services.crm.directory_store import (
    DirectorySpec,
    PipelineSpec,
    StageSpec,
    UserSpec,
)
from services.crm.lead_history import lead_history
from services.crm.recording import record_events
from services.crm.store import (
    CrmStore,
    LeadFilter,
    LeadView,
    ManualAssignment,
    Pool,
)
from services.crm.tables import metadata

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]

# One manual batch is one transaction; amoCRM takes writes in batches of 50.
MAX_MANUAL_BATCH = 50


def lead_message(view: LeadView) -> crm_pb2.Lead:
    msg = crm_pb2.Lead(
        id=view.id,
        name=view.name,
        budget=view.budget,
        pipeline=view.pipeline,
        stage=view.stage,
        responsible=view.responsible,
        channel=view.channel,
        contacts=view.contacts,
        companies=view.companies,
        tags=view.tags,
        loss_reason=view.loss_reason,
    )
    set_ts(msg, "created_at", view.created_at)
    set_ts(msg, "closed_at", view.closed_at)
    return msg


def lead_page(page: Page[LeadView], total: int) -> crm_pb2.LeadPage:
    last = page.rows[-1] if page.rows and page.has_next else None
    return crm_pb2.LeadPage(
        leads=[lead_message(v) for v in page.rows],
        end_cursor=lead_cursor(last.created_at, last.id) if last else "",
        total=total,
        has_next_page=page.has_next,
        has_previous_page=page.has_previous,
    )


def _pool(msg: crm_pb2.PoolQuery) -> Pool:
    return Pool(tuple(msg.source_stages), tuple(msg.exchange_users))


def _moved(moved: Any) -> crm_pb2.Moved:
    return crm_pb2.Moved(
        contacts=moved.contacts, companies=moved.companies, tasks=moved.tasks
    )


class CrmServicer(crm_pb2_grpc.CrmServicer):
    # Polling keeps followers working across replicas; a local wake-up keeps it quick.
    POLL_SECONDS = 0.5

    def __init__(self, store: CrmStore) -> None:
        self.store = store
        self.claims = ClaimsStore(store.db)
        self._appended = asyncio.Event()

    def _notify(self) -> None:
        self._appended.set()

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
    async def ListPool(
        self, request: crm_pb2.ListPoolRequest, context: Ctx
    ) -> crm_pb2.LeadPage:
        page, total = await self.store.db.run(
            self.store.pool_page,
            account=request.account,
            pool=_pool(request.pool),
            want=page_request(request, decode_lead_cursor),
        )
        return lead_page(page, total)

    @handles_errors
    async def TakePoolLead(
        self, request: crm_pb2.TakePoolLeadRequest, context: Ctx
    ) -> crm_pb2.TakePoolLeadResponse:
        result = await self.store.db.run(
            self.store.take_pool_lead,
            account=request.account,
            operation_id=request.operation_id,
            pool=_pool(request.pool),
            user=request.user_id,
            target_stage=request.target_stage,
            cascade=request.cascade,
            at=optional_ts(request, "at"),
            group_id=request.group_id,
        )
        if result.lead is None:
            return crm_pb2.TakePoolLeadResponse(taken=False)
        self._notify()
        return crm_pb2.TakePoolLeadResponse(
            taken=True, lead=lead_message(result.lead), moved=_moved(result.moved)
        )

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
    async def GetActivity(
        self, request: crm_pb2.GetActivityRequest, context: Ctx
    ) -> crm_pb2.GetActivityResponse:
        st = request.stages
        settings = StageSettings(
            excluded=frozenset(st.excluded_stages),
            sale=frozenset(st.sale_stages),
            loss=frozenset(st.loss_stages),
            key_stage=st.key_stage,
        )
        windows = Windows(
            now=from_ts(request.now),
            today_start=from_ts(request.today_start),
            month_start=from_ts(request.month_start),
            prev_month_start=from_ts(request.prev_month_start),
            week_start=from_ts(request.week_start),
            prev_week_start=from_ts(request.prev_week_start),
            sales_since={u: from_ts(t) for u, t in request.sales_since.items()},
        )
        measured = await self.store.db.run(
            self.store.activity,
            account=request.account,
            users=list(request.user_ids),
            settings=settings,
            windows=windows,
            group_id=request.group_id,
        )
        reply = crm_pb2.GetActivityResponse(limits_stamp=measured.limits_stamp)
        for user, a in measured.users.items():
            msg = reply.users.add(
                user_id=user,
                open_leads=a.open_leads,
                new_today=a.new_today,
                overdue_tasks=a.overdue_tasks,
                sales_in_window=a.sales_in_window,
                lost_today=a.lost_today,
                lost_month=a.lost_month,
                sales_last_month=a.sales_last_month,
                sales_this_month=a.sales_this_month,
                key_stage_last_week=a.key_stage_last_week,
                key_stage_this_week=a.key_stage_this_week,
            )
            set_ts(msg, "oldest_overdue_deadline", a.oldest_overdue_deadline)
            set_ts(msg, "last_claim_at", a.last_claim_at)
        return reply

    @handles_errors
    async def SetLimitsStamp(
        self, request: crm_pb2.SetLimitsStampRequest, context: Ctx
    ) -> crm_pb2.SetLimitsStampResponse:
        await self.store.db.run(
            self.claims.set_limits_stamp, account=request.account, stamp=request.stamp
        )
        return crm_pb2.SetLimitsStampResponse()

    @handles_errors
    async def RecordClaims(
        self, request: crm_pb2.RecordClaimsRequest, context: Ctx
    ) -> crm_pb2.RecordClaimsResponse:
        claims = [(c.group_id, c.user_id, from_ts(c.at)) for c in request.claims]
        await self.store.db.run(
            self.claims.record_claims, account=request.account, claims=claims
        )
        return crm_pb2.RecordClaimsResponse()

    @handles_errors
    async def GetLinkedUsers(
        self, request: crm_pb2.GetLinkedUsersRequest, context: Ctx
    ) -> crm_pb2.GetLinkedUsersResponse:
        found = await self.store.db.run(
            self.store.linked_users,
            account=request.account,
            lead_ids=list(request.lead_ids),
        )
        return crm_pb2.GetLinkedUsersResponse(
            leads=[
                crm_pb2.LeadLinks(
                    lead_id=lead_id,
                    users=[
                        crm_pb2.LinkedUser(
                            user_id=x.user, kind=x.kind, source_id=x.source_id
                        )
                        for x in links
                    ],
                )
                for lead_id, links in found.items()
            ]
        )

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
    async def GetConnection(
        self, request: crm_pb2.GetConnectionRequest, context: Ctx
    ) -> crm_pb2.Connection:
        return crm_pb2.Connection(crm="builtin")  # the CRM of record is this one

    @handles_errors
    async def AcceptWebhook(
        self, request: crm_pb2.AcceptWebhookRequest, context: Ctx
    ) -> crm_pb2.AcceptWebhookResponse:
        raise BadInput(_("amoCRM webhooks are taken only with LEADROUTER_CRM=amocrm"))

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

    async def StreamEvents(
        self, request: crm_pb2.StreamEventsRequest, context: Ctx
    ) -> AsyncIterator[crm_pb2.CrmEvent]:
        events = tail(
            lambda offset, limit: self.store.db.run(
                self.store.events_after,
                account=request.account,
                offset=offset,
                limit=limit,
            ),
            lambda e: e.offset or 0,
            after=request.after_offset,
            follow=request.follow,
            appended=self._appended,
            poll_seconds=self.POLL_SECONDS,
        )
        async for e in events:
            msg = crm_pb2.CrmEvent(
                offset=e.offset or 0,
                account=e.account,
                type=e.type,
                lead_id=e.lead_id,
                json=e.payload,
            )
            set_ts(msg, "at", e.at)
            yield msg


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
