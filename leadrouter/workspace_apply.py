"""Applies a workspace across the services: everything checked first, then applied."""

from __future__ import annotations

from dataclasses import dataclass, field

from leadrouter.assigner.v1 import assigner_pb2
from leadrouter.clients import Clients
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import NotFound, Problem
from leadrouter.limits.v1 import limits_pb2
from leadrouter.scheduler.v1 import scheduler_pb2
from leadrouter.stage_kinds import STAGE_KIND_CODES, stage_kind_name
from leadrouter.workspace import (
    Directory,
    PipelineSpec,
    StageSpec,
    UserSpec,
    Workspace,
    check_references,
    dump_schedules,
    dump_templates,
    parse_workspace,
)


@dataclass
class ApplyReport:
    changes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


async def _directory(clients: Clients, ws: Workspace, account: str) -> Directory:
    """What references may name: the file's own users and pipelines, else the CRM's."""
    users = list(ws.users)
    pipelines = list(ws.pipelines)
    if not users or not pipelines:
        try:
            d = await clients.crm.call(
                "GetDirectory", crm_pb2.GetDirectoryRequest(account=account)
            )
        except NotFound:
            d = None
        if d is not None:
            users = users or [
                UserSpec(id=u.id, name=u.name, technical=u.technical, active=u.active)
                for u in d.users
            ]
            pipelines = pipelines or [
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
            ]
    return Directory.of(users, pipelines)


def _requests(
    ws: Workspace, account: str, dry_run: bool
) -> list[tuple[str, str, object]]:
    tz = ws.account.timezone
    calls: list[tuple[str, str, object]] = []
    if ws.users or ws.pipelines:
        calls.append(
            (
                "crm",
                "ApplyDirectory",
                crm_pb2.ApplyDirectoryRequest(
                    directory=crm_pb2.Directory(
                        account=account,
                        timezone=tz,
                        users=[
                            crm_pb2.User(
                                id=u.id,
                                name=u.name,
                                technical=u.technical,
                                active=u.active,
                            )
                            for u in ws.users
                        ],
                        pipelines=[
                            crm_pb2.Pipeline(
                                id=p.id,
                                name=p.name,
                                archived=p.archived,
                                stages=[
                                    crm_pb2.Stage(
                                        id=s.id,
                                        name=s.name,
                                        kind=STAGE_KIND_CODES[s.kind],
                                        loss_reasons=s.loss_reasons,
                                        require_loss_reason=s.require_loss_reason,
                                    )
                                    for s in p.stages
                                ],
                            )
                            for p in ws.pipelines
                        ],
                    ),
                    dry_run=dry_run,
                ),
            )
        )
    calls.append(
        (
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
    calls.append(
        (
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
    calls.append(
        (
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
    return calls


async def apply_workspace(
    clients: Clients, text: str, account: str, *, dry_run: bool = False
) -> ApplyReport:
    """Checks the whole file, rehearses it on every service, then applies it."""
    ws, problems = parse_workspace(text)
    if ws is None:
        return ApplyReport(problems=problems)
    if ws.account.id is not None and ws.account.id != account:
        return ApplyReport(
            problems=[
                Problem(
                    "account.id",
                    f"this file is for account '{ws.account.id}', not '{account}'",
                )
            ]
        )
    problems = check_references(ws, await _directory(clients, ws, account))
    if problems:
        return ApplyReport(problems=problems)
    # A rehearsal on every service first: a service that would refuse its part
    # refuses before any other service has changed anything.
    report = ApplyReport()
    for service, method, request in _requests(ws, account, dry_run=True):
        reply = await getattr(clients, service).call(method, request)
        report.problems += [Problem(p.path, p.message) for p in reply.problems]
    if report.problems or dry_run:
        return report
    for service, method, request in _requests(ws, account, dry_run=False):
        reply = await getattr(clients, service).call(method, request)
        report.changes += list(reply.changes)
    return report
