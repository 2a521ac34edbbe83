"""Push distribution: an incoming lead goes to an on-duty participant of its template.

Which leads: a new lead is pushed when it is open and owned by a technical user
(the inbox or lead exchange) and some template takes such leads now or within
the scheduler's horizon; a lead created for a real manager is already theirs.
A lead created more than ARRIVAL_HORIZON before the assigner reads its event
is history (an import of past data, or a backlog after a long outage): it
stays in the pool for the button, and distributeLead can still push it.

A lead moves through its row in `push_leads` (see push_store.py): it waits, an
attempt is reserved together with the template's next turn, the crm assigns
it under operation id ``push:<lead>:<attempt>`` guarded by the owner we saw,
and the attempt is recorded with its decision. A crash between reservation
and record is finished later with the same operation id and the same user,
so the crm changes once and the journal gets one entry.

Limits for `respect_limits` templates come from the group whose source stages
hold the lead when it arrives (the first such group in the workspace); with no
such group the limits are not checked, and the journal says so. The same group
decides `cascade`. Assignments to a template's `when_nobody` user are final:
SLA and handover watch only leads handed to an on-duty participant.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from google.protobuf.json_format import MessageToDict

from leadrouter import metrics
from leadrouter.clients import Clients
from leadrouter.clock import Clock
from leadrouter.crm.v1 import crm_pb2
from leadrouter.db import Database
from leadrouter.errors import BadInput, NotFound
from leadrouter.limits.v1 import limits_pb2
from leadrouter.scheduler.v1 import scheduler_pb2
from leadrouter.telemetry import current_trace_id
from leadrouter.timestamps import from_ts, optional_ts, to_ts, utc
from services.assigner import rotation
from services.assigner.push_store import Pending, PushStore
from services.assigner.rotation import Link, RotationState, Seat
from services.assigner.store import AssignerStore, Group
from services.assigner.tables import DecisionRow, PushLead

log = logging.getLogger(__name__)

# Why a distribution ran; journaled as details.trigger.
ARRIVAL, ON_DEMAND, QUEUE, SLA, HANDOVER, RECOVERY = (
    "arrival",
    "on_demand",
    "queue",
    "sla",
    "handover",
    "recovery",
)
LINK_TEXT = {
    "contact_responsible": "responsible user of contact {}",
    "company_responsible": "responsible user of company {}",
    "previous_lead_owner": "owner of the contact's last lead {}",
}


@dataclass(frozen=True)
class Verdict:
    """What the limits said about one on-duty participant."""

    membership: str
    eligible: bool
    limits: list[dict[str, Any]]


def stage_key(lead: crm_pb2.Lead) -> str:
    return f"{lead.pipeline}/{lead.stage}"


def is_open(lead: crm_pb2.Lead) -> bool:
    return not lead.HasField("closed_at")


def untouched(row: PushLead, work: crm_pb2.LeadWork) -> str:
    """'' if the assignee has not taken the lead into work; else why we let go."""
    if not work.found:
        return "the lead no longer exists"
    if not work.open:
        return "closed"
    if work.responsible != row.assignee:
        return f"now belongs to {work.responsible}"
    if work.stage != row.assigned_stage:
        return "taken into work: the stage changed"
    if work.tasks_completed:
        return "taken into work: a task was completed"
    return ""


class PushDistribution:
    """Push use cases; one at a time per process, atomic across replicas."""

    # A reserved attempt this old is taken to be orphaned by a crash.
    RECOVER_AFTER = timedelta(seconds=30)
    # A lead created longer ago than this when its event is read is history.
    ARRIVAL_HORIZON = timedelta(hours=24)

    def __init__(
        self,
        store: AssignerStore,
        pushes: PushStore,
        clients: Clients,
        clock: Clock,
        on_decision: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.pushes = pushes
        self.clients = clients
        self.clock = clock
        self.on_decision = on_decision
        # Serializes this process's pushes so a lead arriving and a tick see one
        # order; other replicas are kept apart by the row locks.
        self._lock = asyncio.Lock()

    @property
    def db(self) -> Database:
        return self.pushes.db

    # -- entry points --------------------------------------------------------
    async def arrived(self, account: str, lead_id: str) -> DecisionRow | None:
        """A new lead in the CRM: distributes it if it is one push takes."""
        async with self._lock:
            if await self.db.run(self.pushes.get, account, lead_id) is not None:
                return None  # seen before (a replayed event, or a twin replica)
            lead = await self._lead(account, lead_id)
            if lead is None or not is_open(lead):
                return None
            now = self.clock.now()
            if now - from_ts(lead.created_at) > self.ARRIVAL_HORIZON:
                return None
            if not await self._technical(account, lead.responsible):
                return None
            match = await self._match(account, lead, now)
            if not match.matched and not match.HasField("next_opening"):
                return None  # no template takes such leads: they are for the button
            row = await self._admit(account, lead)
            if row.state != "waiting" or row.attempt != 0:
                return None
            return await self._attempt(row, lead, ARRIVAL, "", now, match)

    async def on_demand(
        self, account: str, lead_id: str, key: str, actor: str
    ) -> DecisionRow:
        """distributeLead: runs distribution for one lead now; returns the decision.

        A lead already assigned by push returns the decision that assigned it;
        the same idempotency key returns the first answer again.
        """
        scope = f"push:{lead_id}"
        if key:
            first = await self.db.run(self.store.replay, account, scope, key)
            if first is not None:
                return first
        async with self._lock:
            decision = await self._on_demand(account, lead_id, actor)
        if key:
            decision = await self.db.run(
                self.pushes.remember_key, account, scope, key, decision
            )
        return decision

    async def lead_changed(self, account: str, lead_id: str, at: datetime) -> None:
        """A change to a watched lead: stops watching it once it is taken into work."""
        row = await self.db.run(self.pushes.get, account, lead_id)
        if row is None or row.state != "assigned" or not row.watched:
            return
        if row.assigned_at is not None and at <= utc(row.assigned_at):
            return  # the assignment's own events
        work = await self._work(account, [row])
        reason = untouched(row, work[row.lead_id])
        if reason:
            await self.db.run(self.pushes.finish, row, reason)

    async def tick(self, account: str = "") -> list[DecisionRow]:
        """One round at the clock's now: orphans, the queue, SLA, handover."""
        async with self._lock:
            now = self.clock.now()
            made: list[DecisionRow] = []
            for row in await self.db.run(self.pushes.stale, now - self.RECOVER_AFTER):
                if account and row.account != account:
                    continue
                decision = await self._finish(
                    row.account, row.lead_id, row.attempt, row.pending, now, True
                )
                made += [decision] if decision else []
            made += await self._serve_queue(account, now)
            made += await self._reassign_overdue(account, now)
            made += await self._hand_over(account, now)
            return made

    # -- one lead ------------------------------------------------------------
    async def _on_demand(self, account: str, lead_id: str, actor: str) -> DecisionRow:
        lead = await self._lead(account, lead_id)
        if lead is None:
            raise NotFound(f"no lead '{lead_id}'")
        row = await self.db.run(self.pushes.get, account, lead_id)
        now = self.clock.now()
        if row is None:
            if not is_open(lead):
                raise BadInput(f"lead '{lead_id}' is closed; reopen it first")
            if not await self._technical(account, lead.responsible):
                raise BadInput(
                    f"lead '{lead_id}' already belongs to {lead.responsible}; push "
                    "distribution hands out leads owned by a technical user "
                    "(the inbox or lead exchange)"
                )
            row = await self._admit(account, lead)
        if row.state == "assigning":
            await self._finish(account, lead_id, row.attempt, row.pending, now)
            row = await self.db.run(self.pushes.get, account, lead_id)
            assert row is not None
        if row.state == "waiting":
            if not is_open(lead) or lead.responsible != row.expected_owner:
                reason = (
                    "closed" if not is_open(lead) else f"taken by {lead.responsible}"
                )
                await self.db.run(self.pushes.finish, row, reason)
                raise BadInput(f"lead '{lead_id}' left push distribution: {reason}")
            decision = await self._attempt(
                row, lead, ON_DEMAND, actor, now, force_journal=True
            )
            if decision is not None:
                return decision
            # Another replica took this attempt; its crm change and ours are the
            # same operation, so finishing it here is safe and answers now.
            row = await self.db.run(self.pushes.get, account, lead_id)
            if row is not None and row.state == "assigning":
                decision = await self._finish(
                    account, lead_id, row.attempt, row.pending, now
                )
                if decision is not None:
                    return decision
        latest = await self.db.run(self.pushes.latest_decision, account, lead_id)
        if latest is None:
            reason = row.done_reason if row is not None else "unknown"
            raise BadInput(f"lead '{lead_id}' left push distribution: {reason}")
        return latest

    async def _attempt(
        self,
        row: PushLead,
        lead: crm_pb2.Lead,
        trigger: str,
        actor: str,
        now: datetime,
        match: scheduler_pb2.MatchTemplateResponse | None = None,
        force_journal: bool = False,
    ) -> DecisionRow | None:
        """One try to place the lead now: assigned, held, or kept where it is."""
        account = row.account
        match = match or await self._match(account, lead, now)
        details: dict[str, Any] = {
            "trigger": trigger,
            "lead": {
                "channel": lead.channel,
                "pipeline": lead.pipeline,
                "stage": stage_key(lead),
                "tags": list(lead.tags),
                "responsible": lead.responsible,
            },
        }
        if not match.matched:
            opening = optional_ts(match, "next_opening")
            details["next_opening"] = opening.isoformat() if opening else None
            details["why"] = "no template takes this lead now" + (
                f"; the next opens {opening.isoformat()}" if opening else ""
            )
            return await self._hold(
                row, trigger, actor, now, "no_template", details, "", force_journal
            )
        t = match.template
        group = await self._group(account, row.group_id)
        details["template"] = {
            "id": t.id,
            "algorithm": t.algorithm,
            "fallback_algorithm": t.fallback_algorithm or None,
            "respect_limits": t.respect_limits,
            "target_stage": t.target_stage or None,
            "when_nobody": {"user": t.fallback_user} if t.fallback_user else "hold",
            "reassign_after_minutes": t.reassign_after_minutes
            if t.HasField("reassign_after_minutes")
            else None,
        }
        details["limits_group"] = group.id if group else None
        on_duty = [p.user_id for p in t.participants if p.duty.on_duty]
        verdicts: dict[str, Verdict] = {}
        if t.respect_limits:
            if group is None:
                details["limits_note"] = (
                    f"no group takes leads in {stage_key(lead)}: limits not checked"
                )
            elif on_duty:
                verdicts = await self._verdicts(account, group.id, on_duty, now)
        pool = [
            Seat(p.user_id, p.weight)
            for p in t.participants
            if p.duty.on_duty
            and (p.user_id not in verdicts or verdicts[p.user_id].eligible)
        ]
        holder = row.assignee if trigger in (SLA, HANDOVER) else ""
        skipped = set(json.loads(row.skipped)) if trigger == SLA else set()
        allowed = {s.user for s in pool} - skipped - {holder}
        if not allowed and trigger == SLA:
            # Everyone on duty already let it sit: only the holder is skipped now.
            allowed = {s.user for s in pool} - {holder}
        if holder:
            details["previous"] = holder
        candidates = _candidates(t, verdicts, pool, allowed)
        details["candidates"] = candidates
        target = t.target_stage or ""
        cascade = group.cascade if group else False
        minutes = (
            t.reassign_after_minutes if t.HasField("reassign_after_minutes") else None
        )
        if not allowed:
            if trigger == SLA:
                assert minutes is not None
                details["why"] = f"nobody else is on duty: stays with {holder}"
                decision = self._decision(
                    row, "kept", holder, actor, now, details, t, "nobody_else_on_duty"
                )
                if await self.db.run(
                    self.pushes.rearm, row, now + timedelta(minutes=minutes), decision
                ):
                    self._decided(decision)
                    return decision
                return None
            if t.fallback_user:
                details["winner"] = t.fallback_user
                details["why"] = (
                    f"nobody is on duty: when_nobody gives it to {t.fallback_user}"
                )
                pending = Pending(
                    user=t.fallback_user,
                    trigger=trigger,
                    actor=actor,
                    template_id=t.id,
                    algorithm=t.algorithm,
                    target_stage=target,
                    cascade=cascade,
                    expected_owner=row.expected_owner,
                    watched=False,
                    reassign_after_minutes=None,
                    rotated=False,
                    details=details,
                )
                reserved = await self.db.run(
                    self.pushes.reserve, row, now, lambda _: (pending, None), t.id
                )
                if reserved is None:
                    return None
                return await self._finish(
                    account, row.lead_id, reserved.attempt, reserved.pending, now
                )
            details["why"] = (
                "nobody of the template is on duty"
                if not on_duty
                else "no participant on duty may take it now"
            )
            return await self._hold(
                row, trigger, actor, now, "nobody_on_duty", details, t.id, force_journal
            )
        open_leads: dict[str, int] = {}
        if t.algorithm == "least_loaded" or (
            t.algorithm == "linked" and t.fallback_algorithm == "least_loaded"
        ):
            open_leads = await self._open_leads(account, [s.user for s in pool])
        links: list[Link] = []
        if t.algorithm == "linked":
            links = await self._links(account, row.lead_id)
            details["links"] = [{"user": x.user, "via": x.via} for x in links]
        seed = f"{account}:{t.id}:{row.lead_id}:{row.attempt + 1}"

        def decide(state: RotationState) -> tuple[Pending, RotationState]:
            chosen = rotation.pick(
                t.algorithm,
                state,
                pool,
                allowed=frozenset(allowed),
                open_leads=open_leads,
                links=links,
                fallback_algorithm=t.fallback_algorithm or None,
                rng=random.Random(seed),
            )
            for c in candidates:
                if c["user"] == chosen.user:
                    c["result"], c["why"] = "won", chosen.why
                elif c["user"] in chosen.losses:
                    loss = chosen.losses[c["user"]]
                    c["result"], c["why"] = loss.code, loss.text
            picked = {
                **details,
                "winner": chosen.user,
                "why": chosen.why,
                "decided_by": chosen.algorithm,
                "cycle": {s.user: chosen.state.counts.get(s.user, 0) for s in pool},
                "open_leads": open_leads or None,
            }
            pending = Pending(
                user=chosen.user,
                trigger=trigger,
                actor=actor,
                template_id=t.id,
                algorithm=t.algorithm,
                target_stage=target,
                cascade=cascade,
                expected_owner=row.expected_owner,
                watched=True,
                reassign_after_minutes=minutes,
                rotated=True,
                details=picked,
            )
            return pending, chosen.state

        reserved = await self.db.run(self.pushes.reserve, row, now, decide, t.id)
        if reserved is None:
            return None
        return await self._finish(
            account, row.lead_id, reserved.attempt, reserved.pending, now
        )

    async def _finish(
        self,
        account: str,
        lead_id: str,
        attempt: int,
        pending: Pending | str,
        now: datetime,
        orphaned: bool = False,
    ) -> DecisionRow | None:
        """Makes the crm change of a reserved attempt and records it, once.

        `orphaned`: the attempt was reserved by a process that never finished
        it; the tick finishes it with the same operation id and user.
        """
        if isinstance(pending, str):
            pending = Pending.from_json(pending)
        request = crm_pb2.AssignLeadRequest(
            account=account,
            operation_id=f"push:{lead_id}:{attempt}",
            lead_id=lead_id,
            user_id=pending.user,
            target_stage=pending.target_stage,
            cascade=pending.cascade,
            expected_responsible=pending.expected_owner,
            at=to_ts(now),
        )
        details = {**pending.details, "attempt": attempt}
        if orphaned:
            details["trigger"] = RECOVERY
            details["reserved_by"] = pending.trigger
        try:
            reply = await self.clients.crm.call("AssignLead", request)
            conflict = reply.conflict
        except (BadInput, NotFound) as error:
            reply, conflict = None, str(error)
        if reply is None or not reply.assigned:
            details["conflict"] = conflict
            decision = self._decision_of(
                account,
                lead_id,
                pending,
                "refused",
                "",
                now,
                details,
                "taken_meanwhile",
            )
            given = await self.db.run(
                self.pushes.give_back, account, lead_id, attempt, conflict, decision
            )
            self._decided(given)
            return given
        details["moved"] = MessageToDict(reply.moved, preserving_proto_field_name=True)
        details["target_stage"] = pending.target_stage or None
        details["cascade"] = pending.cascade
        decision = self._decision_of(
            account, lead_id, pending, "assigned", pending.user, now, details, ""
        )
        minutes = pending.reassign_after_minutes
        assigned_stage = stage_key(reply.lead)
        recorded = await self.db.run(
            lambda: self.pushes.complete(
                account,
                lead_id,
                attempt,
                assigned_stage=assigned_stage,
                reassign_at=now + timedelta(minutes=minutes) if minutes else None,
                decision=decision,
            )
        )
        if recorded is None:
            return await self.db.run(self.pushes.latest_decision, account, lead_id)
        self._decided(recorded)
        return recorded

    async def _hold(
        self,
        row: PushLead,
        trigger: str,
        actor: str,
        now: datetime,
        reason: str,
        details: dict[str, Any],
        template_id: str,
        force: bool,
    ) -> DecisionRow | None:
        decision = DecisionRow(
            account=row.account,
            kind="push",
            outcome="held",
            group_id=row.group_id,
            actor=actor,
            lead_id=row.lead_id,
            at=now,
            reasons=json.dumps([{"code": reason}]),
            details=json.dumps(details, default=str),
            template_id=template_id,
            algorithm=details.get("template", {}).get("algorithm", ""),
            trace_id=current_trace_id(),
        )
        _, journaled = await self.db.run(
            self.pushes.hold, row, now, reason, decision, force
        )
        if journaled is not None:
            self._decided(journaled)
        return journaled

    def _decided(self, decision: DecisionRow | None) -> None:
        """A new push decision: counted for operators, announced to followers."""
        if decision is not None:
            metrics.push_decided(
                decision.template_id, decision.algorithm, decision.outcome
            )
        self.on_decision()

    def _decision(
        self,
        row: PushLead,
        outcome: str,
        assignee: str,
        actor: str,
        now: datetime,
        details: dict[str, Any],
        t: scheduler_pb2.Template,
        reason: str,
    ) -> DecisionRow:
        return DecisionRow(
            account=row.account,
            kind="push",
            outcome=outcome,
            group_id=row.group_id,
            actor=actor,
            lead_id=row.lead_id,
            assignee=assignee,
            at=now,
            reasons=json.dumps([{"code": reason}] if reason else []),
            details=json.dumps(details, default=str),
            template_id=t.id,
            algorithm=t.algorithm,
            trace_id=current_trace_id(),
        )

    def _decision_of(
        self,
        account: str,
        lead_id: str,
        pending: Pending,
        outcome: str,
        assignee: str,
        now: datetime,
        details: dict[str, Any],
        reason: str,
    ) -> DecisionRow:
        return DecisionRow(
            account=account,
            kind="push",
            outcome=outcome,
            group_id=details.get("limits_group") or "",
            actor=pending.actor,
            lead_id=lead_id,
            assignee=assignee,
            at=now,
            reasons=json.dumps([{"code": reason}] if reason else []),
            details=json.dumps(details, default=str),
            template_id=pending.template_id,
            algorithm=pending.algorithm,
            trace_id=current_trace_id(),
        )

    # -- rounds of the tick --------------------------------------------------
    async def _serve_queue(self, account: str, now: datetime) -> list[DecisionRow]:
        """Waiting leads, oldest first; a kind of lead that found nobody stops."""
        made: list[DecisionRow] = []
        rows = await self.db.run(self.pushes.waiting, account)
        leads = await self._leads_of(rows)
        stuck: set[tuple[Any, ...]] = set()
        for row in rows:
            lead = leads.get((row.account, row.lead_id))
            if lead is None or not is_open(lead):
                await self.db.run(self.pushes.finish, row, "closed or gone")
                continue
            if lead.responsible != row.expected_owner:
                await self.db.run(
                    self.pushes.finish, row, f"taken by {lead.responsible}"
                )
                continue
            kind = (row.account, lead.channel, lead.pipeline, *sorted(lead.tags))
            if (kind, row.group_id) in stuck:
                continue
            decision = await self._attempt(row, lead, QUEUE, "", now)
            if decision is not None:
                made.append(decision)
            if decision is None or decision.outcome != "assigned":
                stuck.add((kind, row.group_id))
        return made

    async def _reassign_overdue(self, account: str, now: datetime) -> list[DecisionRow]:
        """SLA: leads still untouched when their time is up go to the next one."""
        rows = [
            r
            for r in await self.db.run(self.pushes.watched, account)
            if r.reassign_at is not None and utc(r.reassign_at) <= now
        ]
        return await self._send_on(rows, SLA, now)

    async def _hand_over(self, account: str, now: datetime) -> list[DecisionRow]:
        """Shift handover: untouched leads of users now off duty go back out."""
        rows = await self.db.run(self.pushes.watched, account)
        off: list[PushLead] = []
        for acc, group in _by_account(rows).items():
            users = sorted({r.assignee for r in group})
            duty = await self.clients.scheduler.call(
                "GetDuty",
                scheduler_pb2.GetDutyRequest(
                    account=acc, user_ids=users, at=to_ts(now)
                ),
            )
            on = {d.user_id for d in duty.users if d.on_duty}
            off += [r for r in group if r.assignee not in on]
        return await self._send_on(off, HANDOVER, now)

    async def _send_on(
        self, rows: list[PushLead], trigger: str, now: datetime
    ) -> list[DecisionRow]:
        made: list[DecisionRow] = []
        if not rows:
            return made
        leads = await self._leads_of(rows)
        for acc, group in _by_account(rows).items():
            work = await self._work(acc, group)
            for row in group:
                reason = untouched(row, work[row.lead_id])
                lead = leads.get((acc, row.lead_id))
                if reason or lead is None:
                    await self.db.run(self.pushes.finish, row, reason or "gone")
                    continue
                decision = await self._attempt(row, lead, trigger, "", now)
                if decision is not None:
                    made.append(decision)
        return made

    # -- what other services know ---------------------------------------------
    async def _admit(self, account: str, lead: crm_pb2.Lead) -> PushLead:
        groups = await self.db.run(self.store.groups, account, [])
        home = next((g.id for g in groups if stage_key(lead) in g.source_stages), "")
        return await self.db.run(
            self.pushes.admit,
            account,
            lead.id,
            from_ts(lead.created_at),
            home,
            lead.responsible,
        )

    async def _group(self, account: str, group_id: str) -> Group | None:
        if not group_id:
            return None
        found = await self.db.run(self.store.groups, account, [group_id])
        return found[0] if found else None

    async def _lead(self, account: str, lead_id: str) -> crm_pb2.Lead | None:
        found = await self.clients.crm.call(
            "GetLeads", crm_pb2.GetLeadsRequest(account=account, ids=[lead_id])
        )
        return found.leads[0] if found.leads else None

    async def _leads_of(
        self, rows: Iterable[PushLead]
    ) -> dict[tuple[str, str], crm_pb2.Lead]:
        out: dict[tuple[str, str], crm_pb2.Lead] = {}
        for acc, group in _by_account(list(rows)).items():
            found = await self.clients.crm.call(
                "GetLeads",
                crm_pb2.GetLeadsRequest(account=acc, ids=[r.lead_id for r in group]),
            )
            out.update({(acc, lead.id): lead for lead in found.leads})
        return out

    async def _technical(self, account: str, user_id: str) -> bool:
        """Whether the user is a technical one (a lead push may hand out)."""
        try:
            directory = await self.clients.crm.call(
                "GetDirectory",
                crm_pb2.GetDirectoryRequest(account=account, user_ids=[user_id]),
            )
        except NotFound:
            return False
        return any(u.id == user_id and u.technical for u in directory.users)

    async def _match(
        self, account: str, lead: crm_pb2.Lead, now: datetime
    ) -> scheduler_pb2.MatchTemplateResponse:
        return await self.clients.scheduler.call(
            "MatchTemplate",
            scheduler_pb2.MatchTemplateRequest(
                account=account,
                lead=scheduler_pb2.LeadFacts(
                    channel=lead.channel, pipeline=lead.pipeline, tags=lead.tags
                ),
                at=to_ts(now),
            ),
        )

    async def _verdicts(
        self, account: str, group_id: str, users: list[str], now: datetime
    ) -> dict[str, Verdict]:
        seen = await self.clients.limits.call(
            "GetEligibility",
            limits_pb2.GetEligibilityRequest(
                account=account, group_id=group_id, user_ids=users, at=to_ts(now)
            ),
        )
        out: dict[str, Verdict] = {}
        for u in seen.users:
            membership = limits_pb2.Membership.Name(u.membership).removeprefix(
                "MEMBERSHIP_"
            )
            enabled = u.membership == limits_pb2.MEMBERSHIP_ENABLED
            out[u.user_id] = Verdict(
                membership=membership.lower(),
                # Limits are per (group, member): someone not an enabled member
                # has none to fail.
                eligible=u.eligible or not enabled,
                limits=[
                    MessageToDict(
                        v,
                        preserving_proto_field_name=True,
                        always_print_fields_with_no_presence=True,
                    )
                    for v in u.verdicts
                ],
            )
        return out

    async def _open_leads(self, account: str, users: list[str]) -> dict[str, int]:
        reply = await self.clients.crm.call(
            "CountOpenLeads",
            crm_pb2.CountOpenLeadsRequest(account=account, user_ids=users),
        )
        return {u: int(n) for u, n in reply.open_leads.items()}

    async def _links(self, account: str, lead_id: str) -> list[Link]:
        reply = await self.clients.crm.call(
            "GetLinkedUsers",
            crm_pb2.GetLinkedUsersRequest(account=account, lead_ids=[lead_id]),
        )
        return [
            Link(u.user_id, LINK_TEXT.get(u.kind, "{}").format(u.source_id))
            for leads in reply.leads
            for u in leads.users
        ]

    async def _work(
        self, account: str, rows: list[PushLead]
    ) -> dict[str, crm_pb2.LeadWork]:
        request = crm_pb2.GetLeadWorkRequest(account=account)
        for r in rows:
            since = utc(r.assigned_at) if r.assigned_at else self.clock.now()
            request.leads.add(lead_id=r.lead_id, since=to_ts(since))
        reply = await self.clients.crm.call("GetLeadWork", request)
        return {w.lead_id: w for w in reply.leads}


def _by_account(rows: list[PushLead]) -> dict[str, list[PushLead]]:
    out: dict[str, list[PushLead]] = {}
    for r in rows:
        out.setdefault(r.account, []).append(r)
    return out


def _candidates(
    t: scheduler_pb2.Template,
    verdicts: dict[str, Verdict],
    pool: list[Seat],
    allowed: set[str],
) -> list[dict[str, Any]]:
    """Every participant as the journal shows it; the pick fills in the rest."""
    seated = {s.user for s in pool}
    out: list[dict[str, Any]] = []
    for p in t.participants:
        v = verdicts.get(p.user_id)
        entry: dict[str, Any] = {
            "user": p.user_id,
            "weight": p.weight,
            "working": p.duty.working,
            "online": p.duty.online,
            "on_duty": p.duty.on_duty,
            "membership": v.membership if v else None,
            "limits": v.limits if v else None,
        }
        if not p.duty.on_duty:
            entry["result"] = "off_duty"
            entry["why"] = (
                "not working now per schedule"
                if not p.duty.working
                else "working per schedule but OFFLINE"
            )
        elif p.user_id not in seated:
            failing = [
                x["limit"] for x in (v.limits if v else []) if not x.get("passed")
            ]
            entry["result"] = "limit"
            entry["why"] = "blocked by limits: " + ", ".join(failing)
        elif p.user_id not in allowed:
            entry["result"] = "skipped"
            entry["why"] = "skipped for this lead (it already had it)"
        else:
            entry["result"] = "lost"
            entry["why"] = ""
        out.append(entry)
    return out
