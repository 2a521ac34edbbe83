"""gRPC entry point of the scheduler: duty, working intervals, template matching."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, TypeAlias

import grpc
from pydantic import ValidationError

from leadrouter.clients import Clients
from leadrouter.clock import Clock
from leadrouter.common.v1 import common_pb2
from leadrouter.config import Settings
from leadrouter.db import Database
from leadrouter.errors import BadInput
from leadrouter.i18n import _
from leadrouter.rpc import ServiceRunner, handles_errors
from leadrouter.scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc
from leadrouter.timestamps import from_ts, optional_ts, set_ts, to_ts
from leadrouter.workspace import ScheduleSpec, TemplateSpec
from services.scheduler.domain import working_intervals
from services.scheduler.specs import schedule_of, template_of
from services.scheduler.store import (
    Duty,
    SchedulerStore,
    schedules_json,
    templates_json,
)
from services.scheduler.tables import metadata
from services.scheduler.templates import (
    OPENING_HORIZON,
    LeadFacts,
    first_template,
    next_template_opening,
)

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]
MAX_RANGE = timedelta(days=366)


def domain_problems(
    schedules: list[ScheduleSpec], templates: list[TemplateSpec]
) -> list[common_pb2.Problem]:
    """What the store and the algebra refuse; stored entries must parse on read."""
    problems = []
    users: set[str] = set()
    for i, schedule in enumerate(schedules):
        if schedule.user in users:
            problems.append(
                common_pb2.Problem(
                    path=f"schedules[{i}].user",
                    message=_("'{user}' already has a schedule").format(
                        user=schedule.user
                    ),
                )
            )
        users.add(schedule.user)
        try:
            schedule_of(schedule)
        except ValueError as error:
            problems.append(
                common_pb2.Problem(path=f"schedules[{i}]", message=str(error))
            )
    ids: set[str] = set()
    for i, template in enumerate(templates):
        if template.id in ids:
            problems.append(
                common_pb2.Problem(
                    path=f"templates[{i}].id",
                    message=_("duplicate template '{id}'").format(id=template.id),
                )
            )
        ids.add(template.id)
        try:
            template_of(template)
        except ValueError as error:
            problems.append(
                common_pb2.Problem(path=f"templates[{i}]", message=str(error))
            )
    return problems


def duty_message(d: Duty) -> scheduler_pb2.UserDuty:
    return scheduler_pb2.UserDuty(
        user_id=d.user_id, working=d.working, online=d.online, on_duty=d.on_duty
    )


class SchedulerServicer(scheduler_pb2_grpc.SchedulerServicer):
    def __init__(self, store: SchedulerStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    @handles_errors
    async def ApplySchedules(
        self, request: scheduler_pb2.ApplySchedulesRequest, context: Ctx
    ) -> common_pb2.ApplyResult:
        try:
            schedules = schedules_json(request.schedules_json)
            templates = templates_json(request.templates_json)
        except (ValidationError, ValueError) as error:
            raise BadInput(
                _("schedules or templates are not valid: {problem}").format(
                    problem=error
                )
            ) from error
        problems = domain_problems(schedules, templates)
        if problems:
            return common_pb2.ApplyResult(problems=problems)
        changes = await self.store.db.run(
            self.store.apply,
            account=request.account,
            timezone=request.timezone or "UTC",
            schedules=schedules,
            templates=templates,
            dry_run=request.dry_run,
        )
        return common_pb2.ApplyResult(changes=changes)

    @handles_errors
    async def GetSchedules(
        self, request: scheduler_pb2.GetSchedulesRequest, context: Ctx
    ) -> scheduler_pb2.GetSchedulesResponse:
        timezone, schedules, templates = await self.store.db.run(
            self.store.setup, account=request.account
        )
        return scheduler_pb2.GetSchedulesResponse(
            timezone=timezone, schedules_json=schedules, templates_json=templates
        )

    @handles_errors
    async def SetPresence(
        self, request: scheduler_pb2.SetPresenceRequest, context: Ctx
    ) -> scheduler_pb2.UserDuty:
        at = optional_ts(request, "at") or self.clock.now()
        await self.store.db.run(
            self.store.set_presence,
            account=request.account,
            user=request.user_id,
            online=request.online,
            at=at,
        )
        roster = await self.store.db.run(self.store.roster, account=request.account)
        return duty_message(roster.duty(request.user_id, at))

    @handles_errors
    async def GetDuty(
        self, request: scheduler_pb2.GetDutyRequest, context: Ctx
    ) -> scheduler_pb2.GetDutyResponse:
        at = optional_ts(request, "at") or self.clock.now()
        roster = await self.store.db.run(self.store.roster, account=request.account)
        users = list(request.user_ids) or roster.users()
        return scheduler_pb2.GetDutyResponse(
            at=to_ts(at), users=[duty_message(roster.duty(u, at)) for u in users]
        )

    @handles_errors
    async def GetWorkingIntervals(
        self, request: scheduler_pb2.GetWorkingIntervalsRequest, context: Ctx
    ) -> scheduler_pb2.GetWorkingIntervalsResponse:
        start, end = from_ts(getattr(request, "from")), from_ts(request.to)
        if end <= start:
            raise BadInput(_("'to' must be after 'from'"))
        if end - start > MAX_RANGE:
            raise BadInput(_("ask for at most a year of working intervals at once"))
        roster = await self.store.db.run(self.store.roster, account=request.account)
        reply = scheduler_pb2.GetWorkingIntervalsResponse()
        for user in request.user_ids:
            row = reply.users.add(user_id=user)
            schedule = roster.schedules.get(user)
            if schedule is None:
                continue
            for a, b in working_intervals(schedule, roster.tz, start, end):
                row.intervals.add(start=to_ts(a), end=to_ts(b))
        return reply

    @handles_errors
    async def MatchTemplate(
        self, request: scheduler_pb2.MatchTemplateRequest, context: Ctx
    ) -> scheduler_pb2.MatchTemplateResponse:
        at = optional_ts(request, "at") or self.clock.now()
        roster = await self.store.db.run(self.store.roster, account=request.account)
        lead = LeadFacts(
            channel=request.lead.channel,
            pipeline=request.lead.pipeline or None,
            tags=frozenset(request.lead.tags),
        )
        template = first_template(roster.templates, lead, roster.tz, at)
        reply = scheduler_pb2.MatchTemplateResponse(matched=template is not None)
        if template is None:
            opening = next_template_opening(
                roster.templates, lead, roster.tz, at, OPENING_HORIZON
            )
            set_ts(reply, "next_opening", opening)
            return reply
        t = reply.template
        t.id = template.id
        t.algorithm = template.algorithm
        t.fallback_algorithm = template.fallback_algorithm or ""
        t.respect_limits = template.respect_limits
        t.target_stage = template.target_stage or ""
        t.hold = template.hold
        t.fallback_user = template.fallback_user or ""
        if template.reassign_after_minutes is not None:
            t.reassign_after_minutes = template.reassign_after_minutes
        for p in template.participants:
            t.participants.add(
                user_id=p.user,
                weight=p.weight,
                duty=duty_message(roster.duty(p.user, at)),
            )
        return reply


def build(
    settings: Settings, clock: Clock, clients: Clients
) -> tuple[ServiceRunner, Database]:
    db = Database(settings.database_url_for("scheduler"), "scheduler", metadata)
    db.create_all()
    servicer = SchedulerServicer(SchedulerStore(db), clock)

    def register(server: grpc.aio.Server) -> Sequence[str]:
        scheduler_pb2_grpc.add_SchedulerServicer_to_server(servicer, server)
        return [scheduler_pb2.DESCRIPTOR.services_by_name["Scheduler"].full_name]

    async def healthy() -> bool:
        return await db.run(db.ping)

    return ServiceRunner("scheduler", register, healthy), db
