"""gRPC entry point of the limits service: eligibility of many members in one call."""

from __future__ import annotations

import uuid
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
from leadrouter.timestamps import optional_ts, to_ts
from services.limits.domain import LimitSettings
from services.limits.figures import activity_request, judge, standing
from services.limits.store import GroupRules, LimitsStore, Member
from services.limits.tables import metadata
from services.limits.versions import SetupVersion, SetupVersions

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]


def stages_message(g: GroupRules) -> crm_pb2.StageSettings:
    return crm_pb2.StageSettings(
        excluded_stages=g.excluded_stages,
        sale_stages=g.sale_stages,
        loss_stages=g.loss_stages,
        key_stage=g.key_stage,
    )


def group_message(g: GroupRules) -> limits_pb2.GroupLimits:
    return limits_pb2.GroupLimits(
        group_id=g.id,
        stages=stages_message(g),
        exchange_users=g.exchange_users,
        members=[
            limits_pb2.MemberLimits(
                user_id=m.user_id, enabled=m.enabled, limits=m.limits
            )
            for m in g.members
        ],
        default_limits=g.default_limits,
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
                default_limits=dict(g.default_limits),
            )
            for g in request.groups
        ]
        timezone = request.timezone or "UTC"
        # A rehearsal first: a change the limits will make is announced to
        # the crm before it is made, so once this call returns no press can
        # judge by the settings it replaced (services/assigner/claim_limits.py).
        changes, touched = await self.store.db.run(
            self.store.apply,
            account=request.account,
            timezone=timezone,
            groups=groups,
            dry_run=True,
            stamp="",
        )
        if request.dry_run:
            return common_pb2.ApplyResult(changes=changes)
        stamp = uuid.uuid4().hex
        if touched:
            await self._announce(request.account, stamp)
        changes, changed = await self.store.db.run(
            self.store.apply,
            account=request.account,
            timezone=timezone,
            groups=groups,
            dry_run=False,
            stamp=stamp,
        )
        if changed and not touched:  # another change got in between
            await self._announce(request.account, stamp)
        return common_pb2.ApplyResult(changes=changes)

    async def _announce(self, account: str, stamp: str) -> None:
        await self.clients.crm.set_limits_stamp(
            crm_pb2.SetLimitsStampRequest(account=account, stamp=stamp),
        )

    @handles_errors
    async def GetGroupLimits(
        self, request: limits_pb2.GetGroupLimitsRequest, context: Ctx
    ) -> limits_pb2.GetGroupLimitsResponse:
        found = await self.store.db.run(
            self.store.settings, account=request.account, ids=list(request.group_ids)
        )
        return limits_pb2.GetGroupLimitsResponse(
            groups=[group_message(g) for g in found.groups],
            timezone=found.timezone,
            stamp=found.stamp,
        )

    @handles_errors
    async def GetEligibility(
        self, request: limits_pb2.GetEligibilityRequest, context: Ctx
    ) -> limits_pb2.GetEligibilityResponse:
        now = optional_ts(request, "at") or self.clock.now()
        inputs = await self.store.db.run(
            self.store.eligibility_inputs,
            account=request.account,
            group_id=request.group_id,
            users=list(request.user_ids),
        )
        group = inputs.group
        tz = ZoneInfo(inputs.timezone)
        # One row per user, in the order asked, even if a user is asked twice.
        users = list(dict.fromkeys(request.user_ids)) or [
            m.user_id for m in group.members
        ]
        switches = {m.user_id: m.enabled for m in group.members}
        enabled: dict[str, LimitSettings] = {}
        reply = limits_pb2.GetEligibilityResponse(at=to_ts(now))
        rows: dict[str, limits_pb2.UserEligibility] = {}
        for user in users:
            row = reply.users.add(user_id=user)
            rows[user] = row
            row.membership = standing(user, group.exchange_users, switches)
            member = group.member(user)
            if row.membership == limits_pb2.MEMBERSHIP_ENABLED and member:
                enabled[user] = group.settings_of(member)
        if not enabled:
            return reply
        measured = await self.clients.crm.get_activity(
            activity_request(
                request.account, group.id, stages_message(group), enabled, now, tz
            ),
        )
        for msg in measured.users:
            judge(rows[msg.user_id], enabled[msg.user_id], msg, now, tz)
        return reply

    @handles_errors
    async def RecordSetupVersion(
        self, request: limits_pb2.RecordSetupVersionRequest, context: Ctx
    ) -> limits_pb2.SetupVersion:
        version = await self.store.db.run(
            self.versions.record,
            account=request.account,
            at=self.clock.now(),
            author=request.author,
            source=request.source,
            changes=list(request.changes),
            workspace_yaml=request.workspace_yaml,
            previous_yaml=request.previous_yaml,
        )
        return version_message(version)

    @handles_errors
    async def ListSetupVersions(
        self, request: limits_pb2.ListSetupVersionsRequest, context: Ctx
    ) -> limits_pb2.ListSetupVersionsResponse:
        found = await self.store.db.run(self.versions.versions, account=request.account)
        return limits_pb2.ListSetupVersionsResponse(
            versions=[version_message(v) for v in found]
        )

    @handles_errors
    async def GetSetupVersion(
        self, request: limits_pb2.GetSetupVersionRequest, context: Ctx
    ) -> limits_pb2.SetupVersion:
        version = await self.store.db.run(
            self.versions.version, account=request.account, number=request.number
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
