"""The pool and claims: listing and taking a pool's leads, the claims'
record and limits' stamp, linked users and the activity the limits count."""

from __future__ import annotations

from leadrouter.crm.v1 import crm_pb2
from leadrouter.cursors import decode_lead_cursor
from leadrouter.keyset import page_request
from leadrouter.rpc import handles_errors
from leadrouter.timestamps import from_ts, optional_ts, set_ts
from services.crm.activity import StageSettings, Windows
from services.crm.rpcs.common import (
    Ctx,
    ServicerBase,
    _moved,
    _pool,
    lead_message,
    lead_page,
)


class PoolRpcs(ServicerBase):
    """The pool, claims, linked users and activity."""

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
