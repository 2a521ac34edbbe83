"""What partner systems hand in: new leads, with the account's intake filling in
where a lead starts (contract.md section 2, `submitLead`), and the events of
any CRM as they happen (`recordEvents`, also `POST /crm/events`)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import strawberry
from strawberry.scalars import JSON

from gateway.context import Context, Info
from gateway.schema.types import Lead
from leadrouter import messages
from leadrouter.assigner.v1 import assigner_pb2
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import BadInput, Problem


@strawberry.input(
    description="A new lead. A name (or a contact) and a channel are enough: "
    "pipeline, stage and responsible default to the account's intake, the first "
    "group's first source stage and its first exchange user."
)
class LeadInput:
    id: strawberry.ID | None = strawberry.field(
        default=None, description="The partner's own id; default: a new one."
    )
    name: str = ""
    budget: int = 0
    pipeline: str | None = None
    stage: str | None = strawberry.field(
        default=None,
        description="The stage's id in `pipeline`, or 'pipeline/stage'.",
    )
    responsible: strawberry.ID | None = None
    channel: str = strawberry.field(
        default="", description="Where the lead came from: call, form, email, chat…"
    )
    contacts: list[strawberry.ID] = strawberry.field(default_factory=list)
    companies: list[strawberry.ID] = strawberry.field(default_factory=list)
    tags: list[str] = strawberry.field(default_factory=list)


@dataclass(frozen=True)
class Intake:
    """Where a handed-in lead starts when the partner does not say."""

    pipeline: str
    stage: str
    responsible: str


async def account_intake(info: Info, account: str) -> Intake | None:
    """The first group's first source stage and exchange user, if it has both."""
    reply = await info.context.clients.assigner.list_groups(
        assigner_pb2.ListGroupsRequest(account=account)
    )
    for group in reply.groups[:1]:
        if group.source_stages and group.exchange_users:
            pipeline, stage = group.source_stages[0].split("/", 1)
            return Intake(pipeline, stage, group.exchange_users[0])
    return None


def _missing(lead: LeadInput) -> list[Problem]:
    """What a lead needs from the partner whatever the account's intake."""
    problems = []
    if not lead.name.strip() and not lead.contacts:
        problems.append(Problem("input.name", messages.lead_needs_a_name()))
    if not lead.channel.strip():
        problems.append(Problem("input.channel", messages.lead_needs_a_channel()))
    if lead.budget < 0:
        problems.append(Problem("input.budget", messages.negative_budget()))
    problems += [
        Problem(f"input.tags[{n}]", messages.tag_with_comma())
        for n, tag in enumerate(lead.tags)
        if "," in tag
    ]
    return problems


def _refused(problems: list[Problem]) -> BadInput:
    return BadInput("; ".join(str(p) for p in problems), problems)


async def _placed(info: Info, account: str, lead: LeadInput) -> Intake:
    """Pipeline, stage and responsible as given, the intake's where not."""
    pipeline, stage = lead.pipeline or "", lead.stage or ""
    if "/" in stage and not pipeline:
        pipeline, stage = stage.split("/", 1)
    responsible = str(lead.responsible or "")
    if pipeline and stage and responsible:
        return Intake(pipeline, stage, responsible)
    intake = await account_intake(info, account)
    if intake is None:
        given = {"pipeline": pipeline, "stage": stage, "responsible": responsible}
        missing = [name for name, value in given.items() if not value]
        raise _refused([Problem(f"input.{missing[0]}", messages.no_intake(missing))])
    if not pipeline:
        pipeline = intake.pipeline
    if not stage:
        if pipeline != intake.pipeline:
            raise _refused([await _stage_needed(info, account, pipeline, intake)])
        stage = intake.stage
    return Intake(pipeline, stage, responsible or intake.responsible)


async def _stage_needed(
    info: Info, account: str, pipeline: str, intake: Intake
) -> Problem:
    """A pipeline other than the intake's needs its stage named; a pipeline the
    account does not have is the mistake to name first."""
    directory: crm_pb2.Directory = await info.context.clients.crm.get_directory(
        crm_pb2.GetDirectoryRequest(account=account)
    )
    if all(p.id != pipeline for p in directory.pipelines):
        return Problem("input.pipeline", messages.no_such_pipeline(pipeline))
    problem = messages.stage_of_other_pipeline(pipeline, intake.pipeline)
    return Problem("input.stage", problem)


def _as_input(error: BadInput) -> BadInput:
    """The crm's problems with a lead's fields, as paths of this mutation's input."""
    if not error.problems:
        return error
    return _refused([Problem(f"input.{p.path}", p.message) for p in error.problems])


@strawberry.type
class IntakeMutations:
    @strawberry.mutation(
        description="A partner system hands in a new lead: the built-in CRM "
        "creates it and push distribution then runs. The same idempotency key "
        "creates it once."
    )
    async def submit_lead(
        self, info: Info, input: LeadInput, idempotency_key: str | None = None
    ) -> Lead:
        ctx = info.context
        caller = ctx.require("admin", "partner")
        problems = _missing(input)
        if problems:
            raise _refused(problems)
        where = await _placed(info, caller.account, input)
        request = crm_pb2.SubmitLeadRequest(
            account=caller.account,
            operation_id=f"submit:{idempotency_key}" if idempotency_key else "",
            lead=crm_pb2.Lead(
                id=str(input.id or ""),
                name=input.name,
                budget=input.budget,
                pipeline=where.pipeline,
                stage=where.stage,
                responsible=where.responsible,
                channel=input.channel,
                contacts=[str(c) for c in input.contacts],
                companies=[str(c) for c in input.companies],
                tags=input.tags,
            ),
        )
        try:
            created = await ctx.clients.crm.submit_lead(request)
        except BadInput as error:
            raise _as_input(error) from error
        return Lead.of(created)


MAX_EVENTS = 1000
LINE = re.compile(r"^line (\d+)(?:: (.*))?$")


@strawberry.type(description="What a batch of events did.")
class RecordedEvents:
    recorded: int = strawberry.field(description="Events applied now.")
    already_recorded: int = strawberry.field(
        description="Events whose id was recorded before: not applied again."
    )


def as_index(path: str) -> str:
    """The path "line 3: to" as the third event of a list: "events[2].to"."""
    found = LINE.match(path)
    if found is None:
        return path
    index = f"events[{int(found.group(1)) - 1}]"
    return f"{index}.{found.group(2)}" if found.group(2) else index


async def record_events(
    ctx: Context, lines: list[str], where: Callable[[str], str] = str
) -> RecordedEvents:
    """Applies a batch of events whole, or refuses it naming each bad one."""
    caller = ctx.require("admin", "partner")
    if not lines:
        raise BadInput(messages.no_events())
    if len(lines) > MAX_EVENTS:
        raise BadInput(messages.too_many_events(MAX_EVENTS))
    reply = await ctx.clients.crm.import_history(
        crm_pb2.ImportHistoryRequest(
            account=caller.account, lines=lines, by_event_id=True
        ),
    )
    if reply.problems:
        raise _refused([Problem(where(p.path), p.message) for p in reply.problems])
    return RecordedEvents(
        recorded=reply.applied, already_recorded=reply.already_recorded
    )


@strawberry.type
class EventMutations:
    @strawberry.mutation(
        description="Another CRM's changes as they happen, in the events of a "
        "history file (stage_changed, responsible_changed, task_created…), each "
        "with an `id` of the sender's: an id recorded before is not applied "
        "again. A bad event is refused with its index, and then nothing of the "
        "batch is applied. Partners and admins; the same as POST /crm/events."
    )
    async def record_events(self, info: Info, events: list[JSON]) -> RecordedEvents:
        lines = [json.dumps(e, ensure_ascii=False) for e in events]
        return await record_events(info.context, lines, as_index)
