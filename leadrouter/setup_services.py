"""The setup as the four services keep it: read whole, written in one fixed order.

The crm keeps users and pipelines, the limits service the groups' counting
settings and members, the assigner the groups' distribution settings, the
scheduler schedules and templates. Each service's Apply call makes its part
exactly what it is given; this module is the one place that knows the parts
and the order they are written in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from leadrouter.assigner.v1 import assigner_pb2
from leadrouter.clients import Clients
from leadrouter.crm.v1 import crm_pb2
from leadrouter.directory_message import directory_message
from leadrouter.errors import NotFound, Problem
from leadrouter.limits.v1 import limits_pb2
from leadrouter.scheduler.v1 import scheduler_pb2
from leadrouter.stage_kinds import stage_kind_name
from leadrouter.workspace import (
    AccountSpec,
    GroupSpec,
    LimitsSpec,
    MemberSpec,
    PipelineSpec,
    ScheduleSpec,
    StageSpec,
    TemplateSpec,
    UserSpec,
    Workspace,
    dump_schedules,
    dump_templates,
)

# The order of the writes: what the others refer to comes first.
SERVICES = ("crm", "limits", "assigner", "scheduler")


async def read_setup(clients: Clients, account: str) -> Workspace:
    """The account's whole setup in force, as a workspace."""
    try:
        d = await clients.crm.get_directory(
            crm_pb2.GetDirectoryRequest(account=account)
        )
    except NotFound:
        d = crm_pb2.Directory(account=account)
    dist = await clients.assigner.list_groups(
        assigner_pb2.ListGroupsRequest(account=account)
    )
    counting = await clients.limits.get_group_limits(
        limits_pb2.GetGroupLimitsRequest(account=account)
    )
    timed = await clients.scheduler.get_schedules(
        scheduler_pb2.GetSchedulesRequest(account=account)
    )
    limits = {g.group_id: g for g in counting.groups}
    return Workspace(
        account=AccountSpec(id=account, timezone=d.timezone or "UTC"),
        users=[
            UserSpec(id=u.id, name=u.name, technical=u.technical, active=u.active)
            for u in d.users
        ],
        pipelines=[
            PipelineSpec(
                id=p.id,
                name=p.name,
                archived=p.archived,
                stages=[
                    StageSpec(
                        id=s.id,
                        name=s.name,
                        kind=stage_kind_name(s.kind),
                        loss_reasons=list(s.loss_reasons),
                        require_loss_reason=s.require_loss_reason,
                    )
                    for s in p.stages
                ],
            )
            for p in d.pipelines
        ],
        groups=[_group(g, limits.get(g.id)) for g in dist.groups],
        schedules=[
            ScheduleSpec.model_validate(s) for s in json.loads(timed.schedules_json)
        ],
        templates=[
            TemplateSpec.model_validate(t) for t in json.loads(timed.templates_json)
        ],
    )


def _group(g: assigner_pb2.Group, c: limits_pb2.GroupLimits | None) -> GroupSpec:
    stages = c.stages if c is not None else crm_pb2.StageSettings()
    return GroupSpec(
        id=g.id,
        name=g.name,
        source_stages=list(g.source_stages),
        target_stage=g.target_stage or None,
        excluded_stages=list(stages.excluded_stages),
        key_stage=stages.key_stage or None,
        sale_stages=list(stages.sale_stages) or None,
        loss_stages=list(stages.loss_stages) or None,
        exchange_users=list(g.exchange_users),
        cascade=g.cascade,
        default_limits=LimitsSpec.model_validate(
            dict(c.default_limits) if c is not None else {}
        ),
        members=[
            MemberSpec(
                user=m.user_id,
                enabled=m.enabled,
                limits=LimitsSpec.model_validate(dict(m.limits)),
            )
            for m in (c.members if c is not None else [])
        ],
    )


@dataclass(frozen=True)
class Write:
    service: str
    method: str
    request: object


def writes(
    ws: Workspace, account: str, *, dry_run: bool, directory: bool
) -> list[Write]:
    """The Apply call of each service for the whole setup `ws`, in their order.

    `directory` false leaves the crm out: with amoCRM, users and pipelines
    are the CRM's own, and a setup that does not change them does not ask.
    """
    tz = ws.account.timezone
    out: list[Write] = []
    if directory:
        out.append(Write("crm", "ApplyDirectory", _directory(ws, account, dry_run)))
    out.append(
        Write(
            "limits",
            "ApplyLimits",
            limits_pb2.ApplyLimitsRequest(
                account=account,
                timezone=tz,
                dry_run=dry_run,
                groups=[
                    limits_pb2.GroupLimits(
                        group_id=g.id,
                        stages=crm_pb2.StageSettings(
                            excluded_stages=g.excluded_stages,
                            sale_stages=g.sale_stages or [],
                            loss_stages=g.loss_stages or [],
                            key_stage=g.key_stage or "",
                        ),
                        exchange_users=g.exchange_users,
                        default_limits=g.default_limits.values(),
                        members=[
                            limits_pb2.MemberLimits(
                                user_id=m.user,
                                enabled=m.enabled,
                                limits=m.limits.values(),
                            )
                            for m in g.members
                        ],
                    )
                    for g in ws.groups
                ],
            ),
        )
    )
    out.append(
        Write(
            "assigner",
            "ApplyGroups",
            assigner_pb2.ApplyGroupsRequest(
                account=account,
                dry_run=dry_run,
                groups=[
                    assigner_pb2.Group(
                        id=g.id,
                        name=g.name,
                        source_stages=g.source_stages,
                        target_stage=g.target_stage or "",
                        exchange_users=g.exchange_users,
                        cascade=g.cascade,
                    )
                    for g in ws.groups
                ],
            ),
        )
    )
    out.append(
        Write(
            "scheduler",
            "ApplySchedules",
            scheduler_pb2.ApplySchedulesRequest(
                account=account,
                timezone=tz,
                schedules_json=dump_schedules(ws),
                templates_json=dump_templates(ws),
                dry_run=dry_run,
            ),
        )
    )
    return out


def _directory(
    ws: Workspace, account: str, dry_run: bool
) -> crm_pb2.ApplyDirectoryRequest:
    return crm_pb2.ApplyDirectoryRequest(
        directory=directory_message(
            account, ws.account.timezone, ws.users, ws.pipelines
        ),
        dry_run=dry_run,
    )


async def write_setup(
    clients: Clients, ws: Workspace, account: str, *, dry_run: bool, directory: bool
) -> list[Problem]:
    """Each service's Apply of `ws`; a dry run is each service's rolled back.

    The dry run goes first on every service, so a service that would refuse
    its part refuses before any other has changed anything.
    """
    problems: list[Problem] = []
    for w in writes(ws, account, dry_run=True, directory=directory):
        reply = await getattr(clients, w.service).call(w.method, w.request)
        problems += [Problem(p.path, p.message) for p in reply.problems]
    if problems or dry_run:
        return problems
    for w in writes(ws, account, dry_run=False, directory=directory):
        await getattr(clients, w.service).call(w.method, w.request)
    return []
