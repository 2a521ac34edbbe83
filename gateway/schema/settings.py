"""What the settings screens need: the account's people and pipelines, and one
member's limits edited in place (the members × limits table of seed 000)."""

from __future__ import annotations

import strawberry

from gateway.context import Info
from gateway.schema.groups import LimitSetting, Member
from gateway.schema.scheduling import Duty
from gateway.schema.types import Problem
from leadrouter import messages
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import NotFound
from leadrouter.errors import Problem as ProblemData
from leadrouter.limit_rules import LIMIT_NAMES, RULES, out_of_range, range_message
from leadrouter.scheduler.v1 import scheduler_pb2
from leadrouter.setup_changes import (
    Actor,
    ChangeReport,
    Plan,
    change_setup,
    defaults_edit,
    member_edit,
)
from leadrouter.stage_kinds import stage_kind_name
from leadrouter.timestamps import to_ts
from leadrouter.workspace import LimitsSpec, MemberSpec, Workspace


@strawberry.type(
    description="One limit's bounds and the product's recommended value: the table "
    "the server checks every value against (leadrouter/limit_rules.py)."
)
class LimitRule:
    limit: str = strawberry.field(description="The limit's code, as in the YAML.")
    unit: str = strawberry.field(
        description="What a value counts: minutes, leads, tasks or days."
    )
    min: int
    max: int
    recommended: int | None = strawberry.field(
        description="In the recommended defaults of a new group; null = off there."
    )


@strawberry.type
class AccountUser:
    id: strawberry.ID
    name: str
    technical: bool = strawberry.field(
        description="An exchange user (pool owner): never claims, never a member."
    )
    active: bool


@strawberry.type
class Stage:
    id: strawberry.ID = strawberry.field(description="'pipeline/stage', as in groups.")
    name: str
    kind: str = strawberry.field(description="open, won or lost.")
    loss_reasons: list[str] = strawberry.field(
        default_factory=list,
        description="A lost stage's reasons to choose from, in their order.",
    )
    require_loss_reason: bool = strawberry.field(
        default=False,
        description="A move into this stage needs one of its loss reasons.",
    )


@strawberry.type
class Pipeline:
    id: strawberry.ID
    name: str
    archived: bool
    stages: list[Stage]


@strawberry.input(description="One limit of a member; value null = the limit is off.")
class LimitValueInput:
    limit: str
    value: int | None = None


@strawberry.type
class MemberLimitsResult:
    ok: bool
    member: Member | None = strawberry.field(
        description="The member as stored now; null when nothing was saved."
    )
    problems: list[Problem] = strawberry.field(
        description="Each problem's path names the field: 'limits.max_active', "
        "'userId'."
    )
    changes: list[str] = strawberry.field(
        default_factory=list,
        description="What the change does (or, with dryRun, would do), line by line, "
        "from the one change function: 'group main, member marina: max_active 5 → 12'.",
    )


@strawberry.type
class DefaultLimitsResult:
    ok: bool
    default_limits: list[LimitSetting] | None = strawberry.field(
        description="The group's defaults as stored now; null when nothing was saved."
    )
    problems: list[Problem] = strawberry.field(
        description="'limits.<name>' for a default, 'members.<user>.limits.<name>' "
        "for a member's value the new defaults contradict."
    )
    changes: list[str] = strawberry.field(default_factory=list)


async def directory(info: Info) -> crm_pb2.Directory:
    ctx = info.context
    caller = ctx.require("admin", "manager", "viewer")
    try:
        reply: crm_pb2.Directory = await ctx.clients.crm.get_directory(
            crm_pb2.GetDirectoryRequest(account=caller.account)
        )
    except NotFound:
        return crm_pb2.Directory(account=caller.account, timezone="UTC")
    return reply


def check_limits(limits: list[LimitValueInput]) -> tuple[dict[str, int], list[Problem]]:
    """The limits that are on, and a problem for each value a person must fix."""
    values: dict[str, int] = {}
    problems: list[Problem] = []
    seen: set[str] = set()
    for item in limits:
        path = f"limits.{item.limit}"
        if item.limit not in LIMIT_NAMES:
            message = messages.no_such_limit(item.limit, LIMIT_NAMES)
            problems.append(Problem(path=path, message=message))
        elif item.limit in seen:
            problems.append(Problem(path=path, message=messages.limit_twice()))
        elif item.value is not None and out_of_range(item.limit, item.value):
            problems.append(Problem(path=path, message=range_message(item.limit)))
        elif item.value is not None:
            values[item.limit] = item.value
        seen.add(item.limit)
    return values, problems


def _problems(report: ChangeReport) -> list[Problem]:
    return [Problem(path=p.path, message=p.message) for p in report.problems]


@strawberry.type
class SettingsQueries:
    @strawberry.field(
        description="The ten limits in spec order with their bounds and recommended "
        "values: what the limits editor checks before sending."
    )
    def limit_rules(self, info: Info) -> list[LimitRule]:
        info.context.require("admin", "manager", "viewer")
        return [
            LimitRule(
                limit=r.name,
                unit=r.unit,
                min=r.low,
                max=r.high,
                recommended=r.recommended,
            )
            for r in RULES
        ]

    @strawberry.field(description="The account's users, exchange users included.")
    async def users(self, info: Info) -> list[AccountUser]:
        d = await directory(info)
        return [
            AccountUser(
                id=strawberry.ID(u.id),
                name=u.name or u.id,
                technical=u.technical,
                active=u.active,
            )
            for u in d.users
        ]

    @strawberry.field(description="The account's pipelines and their stages.")
    async def pipelines(self, info: Info) -> list[Pipeline]:
        d = await directory(info)
        return [
            Pipeline(
                id=strawberry.ID(p.id),
                name=p.name or p.id,
                archived=p.archived,
                stages=[
                    Stage(
                        id=strawberry.ID(f"{p.id}/{s.id}"),
                        name=s.name or s.id,
                        kind=stage_kind_name(s.kind),
                        loss_reasons=list(s.loss_reasons),
                        require_loss_reason=s.require_loss_reason,
                    )
                    for s in p.stages
                ],
            )
            for p in d.pipelines
        ]

    @strawberry.field(
        description="Each user's presence now: working per schedule, ONLINE, on duty. "
        "Empty `userIds` = every user with a schedule or presence; a manager sees "
        "only themselves."
    )
    async def presence(
        self, info: Info, user_ids: list[strawberry.ID] | None = None
    ) -> list[Duty]:
        ctx = info.context
        rule = ctx.visibility("admin", "manager", "viewer")
        caller = rule.caller
        users = rule.users([str(u) for u in user_ids or []], "presence")
        reply = await ctx.clients.scheduler.get_duty(
            scheduler_pb2.GetDutyRequest(
                account=caller.account, user_ids=users, at=to_ts(ctx.clock.now())
            ),
        )
        return [Duty.of(d) for d in reply.users]


@strawberry.type
class SettingsMutations:
    @strawberry.mutation(
        description="Sets one member's checkbox and limits in one group (admins). "
        "`limits` is the whole row of the member's own values: a limit absent or null "
        "takes the group's default, or is off when the group has none. A user who is "
        "not yet a member is added. Problems come back as data, nothing saved. With "
        "dryRun nothing is saved and `changes` is what the same call without it does."
    )
    async def update_member_limits(
        self,
        info: Info,
        group_id: strawberry.ID,
        user_id: strawberry.ID,
        enabled: bool,
        limits: list[LimitValueInput],
        dry_run: bool = False,
    ) -> MemberLimitsResult:
        ctx = info.context
        caller = ctx.require("admin")
        values, problems = check_limits(limits)
        d = await directory(info)
        user = next((u for u in d.users if u.id == str(user_id)), None)
        if user is None:
            problems.append(
                Problem(path="userId", message=messages.no_such_user(str(user_id)))
            )
        elif user.technical:
            problems.append(
                Problem(path="userId", message=messages.exchange_user_not_member())
            )

        def edit(current: Workspace) -> Plan:
            if problems:
                # The group is looked up first: an unknown group is NOT_FOUND.
                member_edit(str(group_id), None)(current)
                return Plan(None, [ProblemData(p.path, p.message) for p in problems])
            row = MemberSpec(
                user=str(user_id), enabled=enabled, limits=LimitsSpec(**values)
            )
            return member_edit(str(group_id), row)(current)

        report = await change_setup(
            ctx.clients,
            caller.account,
            edit,
            dry_run=dry_run,
            actor=Actor(caller.user_id, "updateMemberLimits"),
        )
        if report.problems:
            return MemberLimitsResult(ok=False, member=None, problems=_problems(report))
        member = Member(
            user_id=user_id,
            enabled=enabled,
            limits=[LimitSetting(limit=k, value=v) for k, v in sorted(values.items())],
        )
        return MemberLimitsResult(
            ok=True,
            member=None if dry_run else member,
            problems=[],
            changes=report.lines,
        )

    @strawberry.mutation(
        description="Sets a group's default limits (admins): what a member without a "
        "value of their own takes. `limits` is the whole set; a limit absent or null "
        "has no default. With dryRun nothing is saved and `changes` is what the same "
        "call without it does."
    )
    async def update_default_limits(
        self,
        info: Info,
        group_id: strawberry.ID,
        limits: list[LimitValueInput],
        dry_run: bool = False,
    ) -> DefaultLimitsResult:
        ctx = info.context
        caller = ctx.require("admin")
        values, problems = check_limits(limits)

        def edit(current: Workspace) -> Plan:
            if problems:
                member_edit(str(group_id), None)(current)
                return Plan(None, [ProblemData(p.path, p.message) for p in problems])
            return defaults_edit(str(group_id), LimitsSpec(**values))(current)

        report = await change_setup(
            ctx.clients,
            caller.account,
            edit,
            dry_run=dry_run,
            actor=Actor(caller.user_id, "updateDefaultLimits"),
        )
        if report.problems:
            return DefaultLimitsResult(
                ok=False, default_limits=None, problems=_problems(report)
            )
        saved = [LimitSetting(limit=k, value=v) for k, v in sorted(values.items())]
        return DefaultLimitsResult(
            ok=True,
            default_limits=None if dry_run else saved,
            problems=[],
            changes=report.lines,
        )
