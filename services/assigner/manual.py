"""Manual mode: a head of sales assigns and transfers leads by hand, journaled."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from leadrouter import messages
from leadrouter.clients import Clients
from leadrouter.clock import Clock
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import BadInput, NotFound
from leadrouter.i18n import _
from leadrouter.telemetry import current_trace_id
from leadrouter.timestamps import to_ts
from services.assigner.engine.reasons import Outcome
from services.assigner.store import AssignerStore, Group
from services.assigner.tables import DecisionRow

# One batch is one CRM transaction and one amoCRM write of at most 50 leads.
BATCH_SIZE = 50
MAX_LEADS = 10_000
MAX_KEY = 200


# -- pure rules ---------------------------------------------------------------
@dataclass(frozen=True)
class Planned:
    """One lead, who gets it, and the stage it moves to (empty = stays)."""

    lead_id: str
    user: str
    target_stage: str = ""
    group_id: str = ""


@dataclass
class Counts:
    leads: int = 0
    tasks: int = 0
    contacts: int = 0
    companies: int = 0

    def add(self, kind: str) -> None:
        if kind == "task":
            self.tasks += 1
        elif kind == "contact":
            self.contacts += 1
        elif kind == "company":
            self.companies += 1


def round_robin(lead_ids: Sequence[str], users: Sequence[str]) -> list[tuple[str, str]]:
    """Leads spread evenly over the users, in the order both were given."""
    return [(lead, users[i % len(users)]) for i, lead in enumerate(lead_ids)]


def group_stage(stage: str, groups: Sequence[Group]) -> tuple[str, str]:
    """The first group with this stage as a source stage, and its target stage."""
    for g in groups:
        if stage in g.source_stages:
            return g.id, g.target_stage
    return "", ""


def preview(
    plan: Sequence[Planned], scopes: dict[str, crm_pb2.LeadScope], cascade: bool
) -> Counts:
    """What carrying out the plan in order would move, as the CRM would count it."""
    counts = Counts()
    owners: dict[tuple[str, str], str] = {}
    for p in plan:
        scope = scopes[p.lead_id]
        if scope.responsible == p.user and p.target_stage in ("", scope.stage):
            continue
        counts.leads += 1
        if not cascade:
            continue
        for item in scope.items:
            key = (item.kind, item.id)
            if owners.get(key, item.responsible) != p.user:
                counts.add(item.kind)
                owners[key] = p.user
    return counts


def batches(plan: Sequence[Planned], size: int = BATCH_SIZE) -> Iterator[list[Planned]]:
    for start in range(0, len(plan), size):
        yield list(plan[start : start + size])


def operation_prefix(batch_id: str) -> str:
    return f"manual:{batch_id}:"


# -- the use case -------------------------------------------------------------
@dataclass(frozen=True)
class Job:
    """One assignment or transfer as asked, with the leads' current scope."""

    account: str
    actor: str
    mode: str  # assign | transfer
    batch_id: str
    cascade: bool
    scopes: dict[str, crm_pb2.LeadScope]
    expected_owner: str | None  # transfers move only leads still with this user


@dataclass
class ManualOutcome:
    batch_id: str
    dry_run: bool
    counts: Counts
    lead_ids: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    batches: int = 0
    decisions: list[DecisionRow] = field(default_factory=list)


class ManualMode:
    """Assignments and transfers by an admin, in batches that are safe to retry."""

    def __init__(
        self,
        store: AssignerStore,
        clients: Clients,
        clock: Clock,
        on_recorded: Callable[[], None],
    ) -> None:
        self.store = store
        self.clients = clients
        self.clock = clock
        self.on_recorded = on_recorded

    async def assign(
        self,
        *,
        account: str,
        actor: str,
        lead_ids: Sequence[str],
        users: Sequence[str],
        cascade: bool,
        key: str,
        dry_run: bool,
    ) -> ManualOutcome:
        """Leads to one user, or round robin over several in the order given."""
        leads = list(dict.fromkeys(lead_ids))
        if not leads:
            raise BadInput(_("which leads? leadIds is empty"))
        if not users:
            raise BadInput(_("to whom? userIds is empty"))
        if len(set(users)) != len(users):
            raise BadInput(_("userIds lists a user twice"))
        if len(leads) > MAX_LEADS:
            raise BadInput(_("at most {limit} leads at once").format(limit=MAX_LEADS))
        batch_id = _batch_id(key)
        await self._check_receivers(account, users)
        found = await self.clients.crm.find_leads(
            crm_pb2.FindLeadsRequest(
                account=account, filter=crm_pb2.LeadFilter(lead_ids=leads)
            ),
        )
        if found.missing:
            raise NotFound(
                _("no such leads: {leads}").format(leads=", ".join(found.missing))
            )
        scopes = {x.lead_id: x for x in found.leads}
        groups = await self.store.db.run(self.store.groups, account=account, ids=[])
        plan = [
            _planned(lead, user, scopes[lead].stage, groups)
            for lead, user in round_robin(leads, users)
        ]
        job = Job(account, actor, "assign", batch_id, cascade, scopes, None)
        return await self._carry_out(job, plan, dry_run)

    async def transfer(
        self,
        *,
        account: str,
        actor: str,
        from_user: str,
        to_user: str,
        lead_filter: crm_pb2.LeadFilter,
        cascade: bool,
        key: str,
        dry_run: bool,
    ) -> ManualOutcome:
        """A user's leads, all or those the filter selects, to another user."""
        if not from_user or not to_user:
            raise BadInput(_("a transfer needs fromUserId and toUserId"))
        if from_user == to_user:
            raise BadInput(_("fromUserId and toUserId are the same user"))
        batch_id = _batch_id(key)
        directory = await self._check_receivers(account, [to_user])
        if from_user not in directory:
            raise NotFound(messages.not_found("user", from_user))
        query = crm_pb2.LeadFilter()
        query.CopyFrom(lead_filter)
        query.responsible = from_user
        found = await self.clients.crm.find_leads(
            crm_pb2.FindLeadsRequest(
                account=account,
                filter=query,
                # A retried transfer meets again the leads it already moved.
                operation_prefix="" if dry_run else operation_prefix(batch_id),
            ),
        )
        scopes = {x.lead_id: x for x in found.leads}
        groups = await self.store.db.run(self.store.groups, account=account, ids=[])
        plan = [_planned(x.lead_id, to_user, x.stage, groups) for x in found.leads]
        job = Job(account, actor, "transfer", batch_id, cascade, scopes, from_user)
        return await self._carry_out(job, plan, dry_run)

    async def _check_receivers(
        self, account: str, users: Sequence[str]
    ) -> dict[str, crm_pb2.User]:
        directory = await self.clients.crm.get_directory(
            crm_pb2.GetDirectoryRequest(account=account)
        )
        known = {u.id: u for u in directory.users}
        unknown = [u for u in users if u not in known]
        if unknown:
            raise NotFound(_("no such users: {users}").format(users=", ".join(unknown)))
        for u in users:
            if known[u].technical:
                raise BadInput(
                    _("'{user}' is an exchange user; leads go to people").format(user=u)
                )
            if not known[u].active:
                raise BadInput(_("'{user}' is not an active user").format(user=u))
        return known

    async def _carry_out(
        self, job: Job, plan: list[Planned], dry_run: bool
    ) -> ManualOutcome:
        scopes = job.scopes
        if dry_run:
            counts = preview(plan, scopes, job.cascade)
            moving = [
                p.lead_id
                for p in plan
                if scopes[p.lead_id].responsible != p.user
                or p.target_stage not in ("", scopes[p.lead_id].stage)
            ]
            return ManualOutcome(
                job.batch_id,
                True,
                counts,
                moving,
                batches=-(-len(moving) // BATCH_SIZE),
            )
        out = ManualOutcome(job.batch_id, False, Counts())
        for chunk in batches(plan):
            await self._one_batch(job, chunk, out)
            out.batches += 1
        return out

    async def _one_batch(
        self, job: Job, chunk: list[Planned], out: ManualOutcome
    ) -> None:
        account, batch_id, cascade, scopes = (
            job.account,
            job.batch_id,
            job.cascade,
            job.scopes,
        )
        now = self.clock.now()
        request = crm_pb2.AssignLeadsRequest(
            account=account, cascade=cascade, at=to_ts(now)
        )
        for p in chunk:
            item = request.assignments.add(
                operation_id=operation_prefix(batch_id) + p.lead_id,
                lead_id=p.lead_id,
                user_id=p.user,
                target_stage=p.target_stage,
            )
            # Leads already moved by this batch id replay whatever their owner now.
            if job.expected_owner is not None and not scopes[p.lead_id].done:
                item.expected_responsible = job.expected_owner
        reply = await self.clients.crm.assign_leads(request)
        planned = {p.lead_id: p for p in chunk}
        for o in reply.outcomes:
            p = planned[o.lead_id]
            stayed = o.previous_responsible == p.user and p.target_stage in (
                "",
                scopes[p.lead_id].stage,
            )
            if not o.assigned or stayed:
                out.skipped.append(o.lead_id)
                continue
            decision = DecisionRow(
                account=account,
                kind="manual",
                outcome=Outcome.ASSIGNED,
                group_id=p.group_id,
                actor=job.actor,
                lead_id=o.lead_id,
                assignee=p.user,
                at=now,
                details=json.dumps(
                    {
                        "mode": job.mode,
                        "from": o.previous_responsible,
                        "to": p.user,
                        "batch": batch_id,
                        "target_stage": p.target_stage,
                        "cascade": cascade,
                        "moved": {
                            "tasks": o.moved.tasks,
                            "contacts": o.moved.contacts,
                            "companies": o.moved.companies,
                        },
                    }
                ),
                trace_id=current_trace_id(),
            )
            recorded = await self.store.db.run(
                self.store.record,
                decision=decision,
                scope=f"manual:{batch_id}",
                key=o.lead_id,
            )
            out.decisions.append(recorded)
            out.lead_ids.append(o.lead_id)
            out.counts.leads += 1
            out.counts.tasks += o.moved.tasks
            out.counts.contacts += o.moved.contacts
            out.counts.companies += o.moved.companies
        self.on_recorded()


def _planned(lead: str, user: str, stage: str, groups: Sequence[Group]) -> Planned:
    group_id, target = group_stage(stage, groups)
    return Planned(lead, user, target, group_id)


def _batch_id(key: str) -> str:
    if key and not 0 < len(key) <= MAX_KEY:
        raise BadInput(messages.key_length("idempotencyKey", MAX_KEY))
    return key or uuid.uuid4().hex
