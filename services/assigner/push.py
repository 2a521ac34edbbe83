"""Live push distribution: the engine's decisions, fed by the services and kept.

Which leads push takes, who gets them and when they move on are the engine's
rules (services/assigner/engine). This module asks the services for the
facts (push_facts.py), asks the engine what to do, and makes it so.

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
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from google.protobuf.json_format import MessageToDict

from leadrouter import messages, metrics
from leadrouter.clients import Clients
from leadrouter.clock import Clock
from leadrouter.crm.v1 import crm_pb2
from leadrouter.db import Database
from leadrouter.errors import BadInput, NotFound
from leadrouter.i18n import _
from leadrouter.telemetry import current_trace_id
from leadrouter.timestamps import from_ts, to_ts
from services.assigner.engine import attempt, lifecycle, timers
from services.assigner.engine.reasons import Outcome, Reason, Trigger
from services.assigner.engine.situation import GroupFacts, Situation
from services.assigner.push_arrival import Arrivals, home_group
from services.assigner.push_facts import (
    InForce,
    PushFacts,
    is_open,
    lead_facts,
    stage_key,
)
from services.assigner.push_rounds import Rounds
from services.assigner.push_store import Pending, PushStore
from services.assigner.store import AssignerStore, Group
from services.assigner.tables import DecisionRow, PushLead

log = logging.getLogger(__name__)


class PushDistribution(Arrivals, Rounds):
    """Push use cases; one at a time per process, atomic across replicas."""

    # A reserved attempt this old is taken to be orphaned by a crash.
    RECOVER_AFTER = timedelta(seconds=30)

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
        self.facts = PushFacts(clients)
        self.clock = clock
        self.on_decision = on_decision
        # Serializes this process's pushes so a lead arriving and a tick see one
        # order; other replicas are kept apart by the row locks.
        self._lock = asyncio.Lock()

    @property
    def db(self) -> Database:
        return self.pushes.db

    # -- entry points (arrivals: push_arrival.py) -----------------------------
    async def on_demand(
        self, account: str, lead_id: str, key: str, actor: str
    ) -> DecisionRow:
        """distributeLead: runs distribution for one lead now; returns the decision.

        A lead already assigned by push returns the decision that assigned it;
        the same idempotency key returns the first answer again.
        """
        scope = f"push:{lead_id}"
        if key:
            first = await self.db.run(
                self.store.replay, account=account, scope=scope, key=key
            )
            if first is not None:
                return first
        async with self._lock:
            decision = await self._on_demand(account, lead_id, actor)
        if key:
            decision = await self.db.run(
                self.pushes.remember_key,
                account=account,
                scope=scope,
                key=key,
                decision=decision,
            )
        return decision

    async def lead_changed(self, account: str, lead_id: str, at: datetime) -> None:
        """A change to a watched lead: stops watching it once it is taken into work."""
        row = await self.db.run(self.pushes.get, account=account, lead_id=lead_id)
        if row is None or not lifecycle.watches_work(row):
            return
        if lifecycle.own_change(row, at):
            return
        work = await self.facts.work(account, [row], self.clock.now())
        reason = lifecycle.untouched(row, work[row.lead_id])
        if reason:
            await self.db.run(self.pushes.finish, row=row, reason=reason)

    async def tick(self, account: str = "") -> list[DecisionRow]:
        """One round at the clock's now: orphans, then the engine's rounds."""
        async with self._lock:
            now = self.clock.now()
            made: list[DecisionRow] = []
            for row in await self.db.run(
                self.pushes.stale, before=now - self.RECOVER_AFTER
            ):
                if account and row.account != account:
                    continue
                decision = await self._finish(
                    row.account, row.lead_id, row.attempt, row.pending, now, True
                )
                made += [decision] if decision else []
            rounds = {
                Trigger.QUEUE: self._serve_queue,
                Trigger.SLA: self._reassign_overdue,
                Trigger.HANDOVER: self._hand_over,
            }
            for trigger in timers.ROUNDS:
                made += await rounds[trigger](account, now)
            return made

    # -- one lead ------------------------------------------------------------
    async def _on_demand(self, account: str, lead_id: str, actor: str) -> DecisionRow:
        lead = await self.facts.lead(account, lead_id)
        if lead is None:
            raise NotFound(messages.not_found("lead", lead_id))
        row = await self.db.run(self.pushes.get, account=account, lead_id=lead_id)
        now = self.clock.now()
        if row is None:
            if not is_open(lead):
                raise BadInput(
                    _("lead '{lead}' is closed; reopen it first").format(lead=lead_id)
                )
            if not await self.facts.technical(account, lead.responsible):
                raise BadInput(
                    _(
                        "lead '{lead}' already belongs to {owner}; push distribution "
                        "hands out leads owned by a technical user (the inbox or "
                        "lead exchange)"
                    ).format(lead=lead_id, owner=lead.responsible)
                )
            row = await self._admit(account, lead)
        if row.state == lifecycle.ASSIGNING:
            await self._finish(account, lead_id, row.attempt, row.pending, now)
            row = await self.db.run(self.pushes.get, account=account, lead_id=lead_id)
            assert row is not None
        if row.state == lifecycle.WAITING:
            reason = timers.leaves_queue(row, lead_facts(lead), is_open(lead))
            if reason:
                reason = "closed" if not is_open(lead) else reason
                await self.db.run(self.pushes.finish, row=row, reason=reason)
                raise BadInput(_left().format(lead=lead_id, reason=reason))
            decision = await self._attempt(
                row, lead, Trigger.ON_DEMAND, actor, now, force_journal=True
            )
            if decision is not None:
                return decision
            # Another replica took this attempt; its crm change and ours are the
            # same operation, so finishing it here is safe and answers now.
            row = await self.db.run(self.pushes.get, account=account, lead_id=lead_id)
            if row is not None and row.state == lifecycle.ASSIGNING:
                decision = await self._finish(
                    account, lead_id, row.attempt, row.pending, now
                )
                if decision is not None:
                    return decision
        latest = await self.db.run(
            self.pushes.latest_decision, account=account, lead_id=lead_id
        )
        if latest is None:
            reason = row.done_reason if row is not None else "unknown"
            raise BadInput(_left().format(lead=lead_id, reason=reason))
        return latest

    async def _situation(
        self,
        row: PushLead,
        lead: crm_pb2.Lead,
        trigger: Trigger,
        actor: str,
        now: datetime,
        force: InForce,
        groups: dict[str, Group] | None = None,
    ) -> Situation:
        """The engine's facts for this attempt: one call per service it needs.

        `groups`: the account's groups, when the caller read them already.
        """
        account = row.account
        t = force.template
        if groups is None:
            group = await self._group(account, row.group_id)
        else:
            group = groups.get(row.group_id) if row.group_id else None
        facts = GroupFacts(group.id, group.cascade) if group else None
        verdicts = {}
        if t is not None and attempt.needs_verdicts(t, facts, force.duty):
            assert group is not None
            users = attempt.on_duty(t, force.duty)
            verdicts = await self.facts.verdicts(account, group.id, users, now)
        open_leads: dict[str, int] = {}
        links = []
        if t is not None:
            pool = attempt.seats(t, force.duty, verdicts)
            skipped = lifecycle.skipped_users(row)
            if attempt.takers(pool, trigger, row.assignee, skipped):
                if attempt.needs_open_leads(t):
                    users = [s.user for s in pool]
                    open_leads = await self.facts.open_leads(account, users)
                if attempt.needs_links(t):
                    links = await self.facts.links(account, row.lead_id)
        return Situation(
            account=account,
            trigger=trigger,
            lead=lead_facts(lead),
            template=t,
            next_opening=force.next_opening,
            duty=force.duty,
            group=facts,
            verdicts=verdicts,
            assignee=row.assignee,
            skipped=lifecycle.skipped_users(row),
            attempt=row.attempt,
            open_leads=open_leads,
            links=links,
            actor=actor,
        )

    async def _attempt(
        self,
        row: PushLead,
        lead: crm_pb2.Lead,
        trigger: Trigger,
        actor: str,
        now: datetime,
        force: InForce | None = None,
        force_journal: bool = False,
        groups: dict[str, Group] | None = None,
    ) -> DecisionRow | None:
        """One try to place the lead now: assigned, held, or kept where it is."""
        force = force or await self.facts.in_force(row.account, lead, now)
        s = await self._situation(row, lead, trigger, actor, now, force, groups)
        plan = attempt.plan(s)
        if isinstance(plan, attempt.Hold):
            return await self._hold(row, s, now, plan, force_journal)
        if isinstance(plan, attempt.Keep):
            decision = self._decision(
                row, s, Outcome.KEPT, plan.holder, now, plan.details, plan.reason
            )
            decision.template_id, decision.algorithm = plan.template_id, plan.algorithm
            if await self.db.run(
                self.pushes.rearm,
                row=row,
                reassign_at=now + plan.rearm_after,
                decision=decision,
            ):
                self._decided(decision)
                return decision
            return None
        chosen = plan

        def decide(state: Any) -> tuple[Pending, Any]:
            if isinstance(chosen, attempt.Rotate):
                given, after = chosen.pick(state)
            else:
                given, after = chosen, None
            return Pending.of(given, s, row.expected_owner), after

        template_id = (
            plan.template.id if isinstance(plan, attempt.Rotate) else (plan.template_id)
        )
        reserved = await self.db.run(
            self.pushes.reserve,
            row=row,
            now=now,
            decide=decide,
            template_id=template_id,
        )
        if reserved is None:
            return None
        return await self._finish(
            row.account, row.lead_id, reserved.attempt, reserved.pending, now
        )

    async def _finish(
        self,
        account: str,
        lead_id: str,
        attempt_no: int,
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
            operation_id=f"push:{lead_id}:{attempt_no}",
            lead_id=lead_id,
            user_id=pending.user,
            target_stage=pending.target_stage,
            cascade=pending.cascade,
            expected_responsible=pending.expected_owner,
            at=to_ts(now),
        )
        details = {**pending.details, "attempt": attempt_no}
        if orphaned:
            details["trigger"] = Trigger.RECOVERY
            details["reserved_by"] = pending.trigger
        try:
            reply = await self.clients.crm.assign_lead(request)
            conflict = reply.conflict
        except (BadInput, NotFound) as error:
            reply, conflict = None, str(error)
        if reply is None or not reply.assigned:
            details["conflict"] = conflict
            decision = self._decision_of(
                account,
                lead_id,
                pending,
                Outcome.REFUSED,
                "",
                now,
                details,
                Reason.TAKEN_MEANWHILE,
            )
            given = await self.db.run(
                self.pushes.give_back,
                account=account,
                lead_id=lead_id,
                attempt=attempt_no,
                reason=conflict,
                decision=decision,
            )
            self._decided(given)
            return given
        details["moved"] = MessageToDict(reply.moved, preserving_proto_field_name=True)
        details["target_stage"] = pending.target_stage or None
        details["cascade"] = pending.cascade
        decision = self._decision_of(
            account, lead_id, pending, Outcome.ASSIGNED, pending.user, now, details
        )
        assigned_stage = stage_key(reply.lead)
        recorded = await self.db.run(
            lambda: self.pushes.complete(
                account,
                lead_id,
                attempt_no,
                assigned_stage=assigned_stage,
                decision=decision,
            )
        )
        if recorded is None:
            return await self.db.run(
                self.pushes.latest_decision, account=account, lead_id=lead_id
            )
        self._decided(recorded)
        return recorded

    async def _hold(
        self,
        row: PushLead,
        s: Situation,
        now: datetime,
        plan: attempt.Hold,
        force: bool,
    ) -> DecisionRow | None:
        decision = self._decision(
            row, s, Outcome.HELD, "", now, plan.details, plan.reason
        )
        decision.template_id, decision.algorithm = plan.template_id, plan.algorithm
        _, journaled = await self.db.run(
            self.pushes.hold,
            row=row,
            now=now,
            reason=plan.reason,
            decision=decision,
            force=force,
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
        s: Situation,
        outcome: Outcome,
        assignee: str,
        now: datetime,
        details: dict[str, Any],
        reason: Reason,
    ) -> DecisionRow:
        return DecisionRow(
            account=row.account,
            kind="push",
            outcome=outcome,
            group_id=row.group_id,
            actor=s.actor,
            lead_id=row.lead_id,
            assignee=assignee,
            at=now,
            reasons=json.dumps([{"code": reason}]),
            details=json.dumps(details, default=str),
            trace_id=current_trace_id(),
        )

    def _decision_of(
        self,
        account: str,
        lead_id: str,
        pending: Pending,
        outcome: Outcome,
        assignee: str,
        now: datetime,
        details: dict[str, Any],
        reason: Reason | None = None,
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

    # -- what the assigner itself knows ----------------------------------------
    async def _admit(self, account: str, lead: crm_pb2.Lead) -> PushLead:
        groups = await self.db.run(self.store.groups, account=account, ids=[])
        return await self.db.run(
            self.pushes.admit,
            account=account,
            lead_id=lead.id,
            created_at=from_ts(lead.created_at),
            group_id=home_group(groups, lead),
            owner=lead.responsible,
        )

    async def _group(self, account: str, group_id: str) -> Group | None:
        if not group_id:
            return None
        found = await self.db.run(self.store.groups, account=account, ids=[group_id])
        return found[0] if found else None


def _left() -> str:
    return _("lead '{lead}' left push distribution: {reason}")
