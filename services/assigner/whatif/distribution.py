"""Push under the proposal, on the replay's clock: the engine, fed by the history.

The same rules as live push (services/assigner/push.py) over the replayed
account: which leads push takes on arrival, what one attempt decides, how a
lead moves through waiting / assigned / done, the tick's rounds. Only the
facts come from elsewhere: the proposal's schedules and templates, the
replayed leads and limits. Each decision is recorded as the journal would
record it, so both sides of a comparison are counted by one function.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from leadrouter.workspace import GroupSpec, Workspace
from services.assigner.engine import arrival, attempt, lifecycle, timers
from services.assigner.engine.attempt import Plan
from services.assigner.engine.reasons import Membership, Outcome, Reason, Trigger
from services.assigner.engine.rotation import RotationState
from services.assigner.engine.situation import (
    Duty,
    GroupFacts,
    LeadFacts,
    Situation,
    Verdict,
)
from services.assigner.whatif.account import Account, Lead
from services.assigner.whatif.hours import Hours
from services.assigner.whatif.inputs import PushRecord
from services.assigner.whatif.limits import Limits
from services.scheduler.templates import LeadFacts as Matchable
from services.scheduler.templates import Template


@dataclass(frozen=True)
class Journaled:
    """A decision as the journal keeps it, when the replay records a past."""

    record: PushRecord
    algorithm: str
    group_id: str
    reason: Reason | None
    details: dict[str, Any]


@dataclass(slots=True)
class Row:
    """A lead in the replay's push: the columns of push_leads (lifecycle.PushRow)."""

    lead_id: str
    created_at: datetime
    group_id: str
    expected_owner: str
    state: str = lifecycle.WAITING
    attempt: int = 0
    wait_reason: str = ""
    waiting_since: datetime | None = None
    template_id: str = ""
    assignee: str = ""
    assigned_at: datetime | None = None
    assigned_stage: str = ""
    watched: bool = False
    reassign_at: datetime | None = None
    skipped: str = "[]"
    pending: str = "{}"
    pending_since: datetime | None = None
    done_reason: str = ""


@dataclass
class Distribution:
    """The replay's push: rows, rotations and the decisions made."""

    ws: Workspace
    account_id: str
    account: Account
    hours: Hours
    limits: Limits
    # Asks for an SLA look at an instant (the replay's clock keeps the timers).
    later: Callable[[datetime, tuple[str, str]], None]
    rows: dict[str, Row] = field(default_factory=dict)
    # Recording a past (RecordHistory): the journal's details, and the owner
    # and stage changes each assignment makes.
    explain: bool = False
    journal: list[Journaled] | None = None
    on_given: Callable[[Lead, datetime, str, str], None] | None = None
    rotations: dict[str, RotationState] = field(default_factory=dict)
    decisions: list[PushRecord] = field(default_factory=list)
    groups: dict[str, GroupSpec] = field(default_factory=dict)
    # The rows the tick's rounds look at, kept as the rows move.
    queue: dict[str, Row] = field(default_factory=dict)
    order: list[tuple[datetime, str]] = field(default_factory=list)  # the queue's
    watch: dict[str, Row] = field(default_factory=dict)
    _matches: dict[str, tuple[LeadFacts, Matchable]] = field(default_factory=dict)
    _plans: dict[tuple[object, ...], tuple[object, object, Plan]] = field(
        default_factory=dict
    )
    # (template, duty, group) -> the verdicts asked last, and as of when.
    _known: dict[tuple[str, int, str], tuple[object, int, dict[str, Verdict]]] = field(
        default_factory=dict
    )

    def __post_init__(self) -> None:
        self.groups = {g.id: g for g in self.ws.groups}

    # -- arrival ---------------------------------------------------------------
    def arrived(self, lead: Lead, at: datetime) -> None:
        """A lead created in the range: pushed if push takes such leads."""
        if lead.id in self.rows:
            return
        force = self.hours.in_force(self._matchable(lead), at)
        opening = (
            self.hours.next_opening(self._matchable(lead), at) if not force else None
        )
        if not arrival.takes_on_arrival(
            is_open=self.account.is_open(lead),
            technical_owner=lead.responsible in self.account.technical,
            created_at=lead.created_at,
            now=at,
            template_now=force is not None,
            opening=opening,
        ):
            return
        home = arrival.home_group(
            ((g.id, g.source_stages) for g in self.ws.groups), lead.stage
        )
        row = Row(lead.id, lead.created_at, home, lead.responsible)
        self.rows[lead.id] = row
        self.attempt(row, lead, Trigger.ARRIVAL, at)

    # -- one attempt -----------------------------------------------------------
    def situation(
        self,
        row: Row,
        lead: Lead,
        trigger: Trigger,
        at: datetime,
        force: tuple[Template | None, dict[str, Duty], dict[str, Verdict]],
    ) -> Situation:
        t, duty, verdicts = force
        group = self.groups.get(row.group_id)
        open_leads: dict[str, int] = {}
        skipped = lifecycle.skipped_users(row)
        if t is not None and attempt.needs_open_leads(t):
            pool = attempt.seats(t, duty, verdicts)
            if attempt.takers(pool, trigger, row.assignee, skipped):
                open_leads = self.account.open_leads(s.user for s in pool)
        return Situation(
            account=self.account_id,
            trigger=trigger,
            lead=lead.facts(),
            template=t,
            next_opening=None
            if t is not None
            else self.hours.next_opening(self._matchable(lead), at),
            duty=duty,
            group=GroupFacts(group.id, group.cascade) if group else None,
            verdicts=verdicts,
            assignee=row.assignee,
            skipped=skipped,
            attempt=row.attempt,
            open_leads=open_leads,
            # Contacts are not replayed: a linked template takes its fallback.
            links=(),
        )

    def in_force(
        self, row: Row, lead: Lead, at: datetime
    ) -> tuple[Template | None, dict[str, Duty], dict[str, Verdict]]:
        """The template taking the lead now, its participants' duty, the verdicts."""
        t = self.hours.in_force(self._matchable(lead), at)
        if t is None:
            return None, _NOBODY, _NO_VERDICTS
        duty = self.hours.duty_of(t, at)
        group = self.groups.get(row.group_id)
        if t.respect_limits and group is not None:
            return t, duty, self._verdicts(t, duty, group, at)
        return t, duty, _NO_VERDICTS

    def _plan(self, row: Row, lead: Lead, trigger: Trigger, at: datetime) -> Plan:
        """The engine's plan; a hold or a keep is remembered for the same facts
        (template, duty, verdicts, holder), since it depends on nothing else."""
        force = self.in_force(row, lead, at)
        t, duty, verdicts = force
        reassigned = trigger in (Trigger.SLA, Trigger.HANDOVER)
        key = (
            t.id if t is not None else "",
            id(duty),
            id(verdicts),
            trigger,
            row.assignee if reassigned else "",
            row.skipped if trigger == Trigger.SLA else "",
            row.group_id,
        )
        known = self._plans.get(key)
        if known is not None and known[0] is duty and known[1] is verdicts:
            return known[2]
        plan = attempt.plan(
            self.situation(row, lead, trigger, at, force), explain_it=self.explain
        )
        if not self.explain and isinstance(plan, attempt.Hold | attempt.Keep):
            if len(self._plans) > 50_000:
                self._plans.clear()
            self._plans[key] = (duty, verdicts, plan)
        return plan

    def _matchable(self, lead: Lead) -> Matchable:
        """What template matching reads of the lead, made once per change of it."""
        facts = lead.facts()
        known = self._matches.get(lead.id)
        if known is None or known[0] is not facts:
            match = Matchable(facts.channel, facts.pipeline, frozenset(facts.tags))
            known = self._matches[lead.id] = (facts, match)
        return known[1]

    def _verdicts(
        self, t: Template, duty: dict[str, Duty], group: GroupSpec, at: datetime
    ) -> dict[str, Verdict]:
        """The on-duty participants' verdicts; the same while nobody's duty and
        no member's limits change, so asked once for the whole stretch."""
        limits = self.limits
        limits.refresh(at)
        key = (t.id, id(duty), group.id)
        known = self._known.get(key)
        if known is not None and known[0] is duty and known[1] == limits.version:
            return known[2]
        verdicts = {}
        for user in attempt.on_duty(t, duty):
            m = limits.membership(group, user)
            passed = m != Membership.ENABLED or limits.passes(group, user, at)
            verdicts[user] = _VERDICTS[m, passed]
        self._known[key] = (duty, limits.version, verdicts)
        return verdicts

    def attempt(self, row: Row, lead: Lead, trigger: Trigger, at: datetime) -> str:
        """One try to place the lead now; the outcome, as the journal has it."""
        outcome = self._attempt(row, lead, trigger, at)
        self.sync(row)
        return outcome

    def sync(self, row: Row) -> None:
        """Files the row under the round that will look at it next."""
        if row.state == lifecycle.WAITING:
            if row.lead_id not in self.queue:
                self.queue[row.lead_id] = row
                bisect.insort(self.order, (row.created_at, row.lead_id))
        elif self.queue.pop(row.lead_id, None) is not None:
            i = bisect.bisect_left(self.order, (row.created_at, row.lead_id))
            del self.order[i]
        if row.state == lifecycle.ASSIGNED and row.watched:
            self.watch[row.lead_id] = row
        else:
            self.watch.pop(row.lead_id, None)

    def finish(self, row: Row, reason: str) -> None:
        lifecycle.finish(row, reason)
        self.sync(row)

    def _attempt(self, row: Row, lead: Lead, trigger: Trigger, at: datetime) -> str:
        plan = self._plan(row, lead, trigger, at)
        if isinstance(plan, attempt.Hold):
            if lifecycle.hold(row, at, plan.reason):
                self._record(
                    at, row, Outcome.HELD, "", trigger, plan, plan.reason, plan.details
                )
            return Outcome.HELD
        if isinstance(plan, attempt.Keep):
            lifecycle.rearm(row, at + plan.rearm_after)
            self.later(at + plan.rearm_after, ("sla", row.lead_id))
            self._record(
                at,
                row,
                Outcome.KEPT,
                plan.holder,
                trigger,
                plan,
                plan.reason,
                plan.details,
            )
            return Outcome.KEPT
        if isinstance(plan, attempt.Rotate):
            state = self.rotations.get(plan.template.id, RotationState())
            given, after = plan.pick(state)
            self.rotations[plan.template.id] = after
        else:
            given = plan
        lifecycle.reserve(row, at, "{}")
        previous = lead.responsible
        self.account.give(lead, given.user, at)
        moved = given.target_stage and given.target_stage != lead.stage
        if moved:
            self.account.move(lead, given.target_stage, at)
        if self.on_given is not None:
            self.on_given(lead, at, previous, given.target_stage if moved else "")
        lifecycle.complete(
            row,
            trigger=trigger,
            user=given.user,
            template_id=given.template_id,
            watched=given.watched,
            reassign_after_minutes=given.reassign_after_minutes,
            at=at,
            assigned_stage=lead.stage,
        )
        if row.reassign_at is not None:
            self.later(row.reassign_at, ("sla", row.lead_id))
        details = given.details
        if self.explain:
            details = {
                **details,
                "target_stage": given.target_stage or None,
                "cascade": given.cascade,
            }
        self._record(
            at, row, Outcome.ASSIGNED, given.user, trigger, given, None, details
        )
        return Outcome.ASSIGNED

    def _record(
        self,
        at: datetime,
        row: Row,
        outcome: Outcome,
        user: str,
        trigger: Trigger,
        plan: Plan,
        reason: Reason | None,
        details: dict[str, Any],
    ) -> None:
        template_id = (
            plan.template.id if isinstance(plan, attempt.Rotate) else plan.template_id
        )
        algorithm = (
            plan.template.algorithm
            if isinstance(plan, attempt.Rotate)
            else plan.algorithm
        )
        target = plan.target_stage if isinstance(plan, attempt.Give) else ""
        record = PushRecord(
            at, row.lead_id, outcome, template_id, user, trigger, target
        )
        self.decisions.append(record)
        if self.journal is not None:
            self.journal.append(
                Journaled(record, algorithm, row.group_id, reason, details)
            )

    # -- what the history does to leads in push ----------------------------------
    def changed(self, lead_id: str, at: datetime) -> None:
        """A change to a lead push watches: let go once it is taken into work."""
        row = self.rows.get(lead_id)
        if row is None or not lifecycle.watches_work(row):
            return
        if lifecycle.own_change(row, at):
            return
        assert row.assigned_at is not None
        reason = lifecycle.untouched(row, self.account.work(lead_id, row.assigned_at))
        if reason:
            self.finish(row, reason)

    # -- the tick ------------------------------------------------------------------
    def tick(self, at: datetime, rounds: frozenset[Trigger]) -> None:
        """The tick's rounds at `at`, in the engine's order; `rounds` says which
        of them can change anything now (the others would find nothing)."""
        for trigger in timers.ROUNDS:
            if trigger not in rounds:
                continue
            if trigger == Trigger.QUEUE:
                self._serve_queue(at)
            elif trigger == Trigger.SLA:
                due = [r for r in self.watch.values() if lifecycle.sla_due(r, at)]
                self._send_on(_by_assignment(due), Trigger.SLA, at)
            else:
                off = [
                    r
                    for r in self.watch.values()
                    if not self.hours.on_duty(r.assignee, at)
                ]
                self._send_on(_by_assignment(off), Trigger.HANDOVER, at)

    def waiting(self) -> bool:
        return bool(self.queue)

    def _serve_queue(self, at: datetime) -> None:
        rows = [self.queue[lead_id] for _, lead_id in self.order]
        round_ = timers.QueueRound()
        for row in rows:
            lead = self.account.leads.get(row.lead_id)
            facts = lead.facts() if lead is not None else None
            gone = timers.leaves_queue(
                row,
                facts,
                lead is not None and self.account.is_open(lead),
            )
            if gone:
                self.finish(row, gone)
                continue
            assert lead is not None and facts is not None
            if not round_.tries(facts, row.group_id):
                continue
            outcome = self.attempt(row, lead, Trigger.QUEUE, at)
            round_.tried(facts, row.group_id, outcome)

    def _send_on(self, rows: list[Row], trigger: Trigger, at: datetime) -> None:
        for row in rows:
            assert row.assigned_at is not None
            reason = lifecycle.untouched(
                row, self.account.work(row.lead_id, row.assigned_at)
            )
            lead = self.account.leads.get(row.lead_id)
            if reason or lead is None:
                self.finish(row, reason or "gone")
                continue
            self.attempt(row, lead, trigger, at)


_NOBODY: dict[str, Duty] = {}
_NO_VERDICTS: dict[str, Verdict] = {}
# Verdicts carry no figures in what-if: one instance per standing is enough.
_VERDICTS = {(m, p): Verdict(m, p) for m in Membership for p in (True, False)}


def _by_assignment(rows: list[Row]) -> list[Row]:
    """Watched leads in the order live push reads them: oldest assignment first."""
    return sorted(rows, key=lambda r: (r.assigned_at or r.created_at, r.lead_id))
