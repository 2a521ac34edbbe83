"""gRPC entry point of the limits service: eligibility of many members in one call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

import grpc

from leadrouter.clients import Clients
from leadrouter.clock import Clock
from leadrouter.common.v1 import common_pb2
from leadrouter.config import Settings
from leadrouter.crm.v1 import crm_pb2
from leadrouter.db import Database
from leadrouter.limits.v1 import limits_pb2, limits_pb2_grpc
from leadrouter.rpc import ServiceRunner, handles_errors
from leadrouter.timestamps import from_ts, optional_ts, set_ts, to_ts
from services.limits.domain import (
    Activity,
    calendar,
    eligible,
    evaluate,
    sales_window_start,
)
from services.limits.store import GroupRules, LimitsStore, Member
from services.limits.tables import metadata
from services.limits.versions import SetupVersion, SetupVersions

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]


def group_message(g: GroupRules) -> limits_pb2.GroupLimits:
    return limits_pb2.GroupLimits(
        group_id=g.id,
        stages=crm_pb2.StageSettings(
            excluded_stages=g.excluded_stages,
            sale_stages=g.sale_stages,
            loss_stages=g.loss_stages,
            key_stage=g.key_stage,
        ),
        exchange_users=g.exchange_users,
        members=[
            limits_pb2.MemberLimits(
                user_id=m.user_id, enabled=m.enabled, limits=m.limits
            )
            for m in g.members
        ],
    )


def _activity(msg: crm_pb2.UserActivity, last_claim: Any) -> Activity:
    return Activity(
        last_claim_at=last_claim,
        open_leads=msg.open_leads,
        new_today=msg.new_today,
        overdue_tasks=msg.overdue_tasks,
        oldest_overdue_deadline=optional_ts(msg, "oldest_overdue_deadline"),
        sales_in_window=msg.sales_in_window,
        lost_today=msg.lost_today,
        lost_month=msg.lost_month,
        sales_last_month=msg.sales_last_month,
        sales_this_month=msg.sales_this_month,
        key_stage_last_week=msg.key_stage_last_week,
        key_stage_this_week=msg.key_stage_this_week,
    )


class LimitsServicer(limits_pb2_grpc.LimitsServicer):
    def __init__(self, store: LimitsStore, clients: Clients, clock: Clock) -> None:
        self.store = store
        self.versions = SetupVersions(store.db)
        self.clients = clients
        self.clock = clock

    @handles_errors
    async def ApplyLimits(
        self, request: limits_pb2.ApplyLimitsRequest, context: Ctx
    ) -> common_pb2.ApplyResult:
        groups = [
            GroupRules(
                id=g.group_id,
                excluded_stages=tuple(g.stages.excluded_stages),
                sale_stages=tuple(g.stages.sale_stages),
                loss_stages=tuple(g.stages.loss_stages),
                key_stage=g.stages.key_stage,
                exchange_users=tuple(g.exchange_users),
                members=tuple(
                    Member(m.user_id, m.enabled, dict(m.limits)) for m in g.members
                ),
            )
            for g in request.groups
        ]
        changes = await self.store.db.run(
            self.store.apply,
            request.account,
            request.timezone or "UTC",
            groups,
            request.dry_run,
        )
        return common_pb2.ApplyResult(changes=changes)

    @handles_errors
    async def GetGroupLimits(
        self, request: limits_pb2.GetGroupLimitsRequest, context: Ctx
    ) -> limits_pb2.GetGroupLimitsResponse:
        groups = await self.store.db.run(
            self.store.groups, request.account, list(request.group_ids)
        )
        return limits_pb2.GetGroupLimitsResponse(
            groups=[group_message(g) for g in groups]
        )

    @handles_errors
    async def GetEligibility(
        self, request: limits_pb2.GetEligibilityRequest, context: Ctx
    ) -> limits_pb2.GetEligibilityResponse:
        now = optional_ts(request, "at") or self.clock.now()
        inputs = await self.store.db.run(
            self.store.eligibility_inputs,
            request.account,
            request.group_id,
            list(request.user_ids),
        )
        group = inputs.group
        tz = ZoneInfo(inputs.timezone)
        cal = calendar(now, tz)
        # One row per user, in the order asked, even if a user is asked twice.
        users = list(dict.fromkeys(request.user_ids)) or [
            m.user_id for m in group.members
        ]
        enabled: dict[str, Member] = {}
        reply = limits_pb2.GetEligibilityResponse(at=to_ts(now))
        verdict_rows: dict[str, limits_pb2.UserEligibility] = {}
        for user in users:
            row = reply.users.add(user_id=user)
            verdict_rows[user] = row
            member = group.member(user)
            if user in group.exchange_users:
                row.membership = limits_pb2.MEMBERSHIP_EXCHANGE_USER
            elif member is None:
                row.membership = limits_pb2.MEMBERSHIP_NOT_A_MEMBER
            elif not member.enabled:
                row.membership = limits_pb2.MEMBERSHIP_DISABLED
            else:
                row.membership = limits_pb2.MEMBERSHIP_ENABLED
                enabled[user] = member
        if not enabled:
            return reply
        request_activity = crm_pb2.GetActivityRequest(
            account=request.account,
            user_ids=list(enabled),
            stages=crm_pb2.StageSettings(
                excluded_stages=group.excluded_stages,
                sale_stages=group.sale_stages,
                loss_stages=group.loss_stages,
                key_stage=group.key_stage,
            ),
            now=to_ts(now),
            today_start=to_ts(cal.today_start),
            month_start=to_ts(cal.month_start),
            prev_month_start=to_ts(cal.prev_month_start),
            week_start=to_ts(cal.week_start),
            prev_week_start=to_ts(cal.prev_week_start),
        )
        for user, member in enabled.items():
            since = sales_window_start(member.settings, now)
            if since is not None:
                request_activity.sales_since[user].CopyFrom(to_ts(since))
        measured = await self.clients.crm.call("GetActivity", request_activity)
        for msg in measured.users:
            member = enabled[msg.user_id]
            verdicts = evaluate(
                member.settings,
                _activity(msg, inputs.last_claims.get(msg.user_id)),
                now,
                tz,
            )
            row = verdict_rows[msg.user_id]
            row.eligible = eligible(verdicts)
            for v in verdicts:
                vm = row.verdicts.add(
                    limit=v.limit, threshold=v.threshold, passed=v.passed
                )
                if v.value is not None:
                    vm.value = v.value
                if v.period_count is not None:
                    vm.period_count = v.period_count
                set_ts(vm, "passes_at", v.passes_at)
        return reply

    @handles_errors
    async def RecordClaim(
        self, request: limits_pb2.RecordClaimRequest, context: Ctx
    ) -> limits_pb2.RecordClaimResponse:
        await self.store.db.run(
            self.store.record_claim,
            request.account,
            request.group_id,
            request.user_id,
            from_ts(request.at),
        )
        return limits_pb2.RecordClaimResponse()

    @handles_errors
    async def RecordSetupVersion(
        self, request: limits_pb2.RecordSetupVersionRequest, context: Ctx
    ) -> limits_pb2.SetupVersion:
        version = await self.store.db.run(
            self.versions.record,
            request.account,
            self.clock.now(),
            request.author,
            request.source,
            list(request.changes),
            request.workspace_yaml,
            request.previous_yaml,
        )
        return version_message(version)

    @handles_errors
    async def ListSetupVersions(
        self, request: limits_pb2.ListSetupVersionsRequest, context: Ctx
    ) -> limits_pb2.ListSetupVersionsResponse:
        found = await self.store.db.run(self.versions.versions, request.account)
        return limits_pb2.ListSetupVersionsResponse(
            versions=[version_message(v) for v in found]
        )

    @handles_errors
    async def GetSetupVersion(
        self, request: limits_pb2.GetSetupVersionRequest, context: Ctx
    ) -> limits_pb2.SetupVersion:
        version = await self.store.db.run(
            self.versions.version, request.account, request.number
        )
        return version_message(version)


def version_message(v: SetupVersion) -> limits_pb2.SetupVersion:
    return limits_pb2.SetupVersion(
        number=v.number,
        at=to_ts(v.at),
        author=v.author,
        source=v.source,
        changes=v.changes,
        workspace_yaml=v.workspace_yaml,
    )


def build(
    settings: Settings, clock: Clock, clients: Clients
) -> tuple[ServiceRunner, Database]:
    db = Database(settings.database_url_for("limits"), "limits", metadata)
    db.create_all()
    servicer = LimitsServicer(LimitsStore(db), clients, clock)

    def register(server: grpc.aio.Server) -> Sequence[str]:
        limits_pb2_grpc.add_LimitsServicer_to_server(servicer, server)
        return [limits_pb2.DESCRIPTOR.services_by_name["Limits"].full_name]

    async def healthy() -> bool:
        return await db.run(db.ping)

    return ServiceRunner("limits", register, healthy), db
