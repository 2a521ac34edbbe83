"""What-if: replays past CRM events under a proposed workspace, in memory, no I/O.

The replay walks the real history in time order. Leads arriving in the inbox
(created open, owned by a technical user) are pushed by the proposed templates
with the production rotation code; presence is the proposed schedule. Presses
of the button are checked against the proposed limits. Everything else (stage
and task events, later hand-overs) happens as it did, attributed to whoever
owns the lead in the replay, so the limits see the proposal's consequences.

Known simplifications of this first slice: a press refused under the proposal
still lets the history's lead move as it did; linked leads use the fallback
algorithm (contacts are not replayed); SLA reassignment and handover are not
replayed.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from leadrouter.workspace import GroupSpec, Workspace
from services.assigner import rotation
from services.assigner.rotation import NobodyToPick, RotationState, Seat
from services.crm import history as h
from services.limits.domain import (
    Activity,
    LimitSettings,
    calendar,
    evaluate,
    sales_window_start,
)
from services.scheduler.domain import Schedule, is_working, working_intervals
from services.scheduler.specs import schedule_of, template_of
from services.scheduler.templates import (
    LeadFacts,
    Template,
    first_template,
    template_schedule,
)

NOT_MEMBER = "not_member"
BUTTON = "(button)"  # no proposed template takes the lead: it waits for a press
HELD = "(held)"  # still held when the range ends
UNASSIGNED = "(unassigned)"
# A lead no template opens for within this long is left to the button.
OPENING_HORIZON = timedelta(days=7)


@dataclass(frozen=True)
class ClaimPress:
    """A press of the button as the assigner journal recorded it."""

    at: datetime
    user: str
    group: str


@dataclass(frozen=True)
class WhatIfResult:
    """The proposal next to what actually happened, over the inbox leads of a range."""

    proposed: dict[str, int]  # user (or BUTTON / HELD) -> inbox leads
    actual: dict[str, int]  # user (or UNASSIGNED) -> inbox leads, first assignment
    pushed_by_template: dict[str, dict[str, int]]  # template -> user -> leads
    max_deviation: dict[str, float]  # template -> max |leads - ideal weighted share|
    claims: int
    refused_claims: int
    refused: dict[str, dict[str, int]]  # user -> limit -> refused presses
    held_leads: int
    held_minutes: int


@dataclass
class _Lead:
    stage: str  # pipeline/stage
    responsible: str
    last_open: str
    moved_by: str = ""  # owner when it entered its current stage
    moved_at: datetime | None = None
    replayed: bool = False  # pushed by the replay: the history's first hand-over
    first_actual: str = ""  # is recorded, not applied


@dataclass
class _Task:
    responsible: str
    deadline: datetime
    lead: str | None
    done: bool = False


@dataclass
class _Held:
    lead: str
    facts: LeadFacts
    since: datetime


@dataclass
class _Replay:
    ws: Workspace
    tz: ZoneInfo
    start: datetime
    end: datetime
    kinds: dict[str, str] = field(default_factory=dict)  # live stage -> kind
    technical: set[str] = field(default_factory=set)
    schedules: dict[str, Schedule] = field(default_factory=dict)
    templates: list[Template] = field(default_factory=list)
    leads: dict[str, _Lead] = field(default_factory=dict)
    tasks: dict[str, _Task] = field(default_factory=dict)
    became: dict[str, list[tuple[datetime, str]]] = field(default_factory=dict)
    moves: dict[str, list[tuple[datetime, str, str]]] = field(default_factory=dict)
    last_claim: dict[tuple[str, str], datetime] = field(default_factory=dict)
    states: dict[str, RotationState] = field(default_factory=dict)
    held: list[_Held] = field(default_factory=list)
    inbox: dict[str, str] = field(default_factory=dict)  # lead -> proposed owner
    pushed: dict[str, dict[str, int]] = field(default_factory=dict)
    refused: dict[str, dict[str, int]] = field(default_factory=dict)
    claims: int = 0
    refused_claims: int = 0
    held_leads: int = 0
    held_seconds: float = 0.0

    # -- state of the account -------------------------------------------------
    def on_duty(self, user: str, at: datetime) -> bool:
        schedule = self.schedules.get(user)
        return schedule is not None and is_working(schedule, self.tz, at)

    def give(self, lead: _Lead, lead_id: str, user: str, at: datetime) -> None:
        lead.responsible = user
        self.became.setdefault(user, []).append((at, lead_id))

    def open_leads(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for lead in self.leads.values():
            if self.kinds.get(lead.stage) == "open":
                out[lead.responsible] = out.get(lead.responsible, 0) + 1
        return out

    def activity(self, group: GroupSpec, user: str, now: datetime) -> Activity:
        """What crm's measure() would report for `user` in `group` at `now`."""
        cal = calendar(now, self.tz)
        counted = {k for k in self.kinds if k not in set(group.excluded_stages)}
        sale = {
            k
            for k in counted
            if (k in group.sale_stages if group.sale_stages else self.kinds[k] == "won")
        }
        loss = {
            k
            for k in counted
            if (
                k in group.loss_stages if group.loss_stages else self.kinds[k] == "lost"
            )
        }
        opened = {
            k
            for k in counted
            if self.kinds[k] == "open"
            and k not in set(group.sale_stages or ())
            and k not in set(group.loss_stages or ())
        }
        mine = [x for x in self.leads.values() if x.responsible == user]
        new_today = {
            lead
            for at, lead in self.became.get(user, [])
            if cal.today_start <= at <= now and self.leads[lead].stage in counted
        }
        overdue = [
            t.deadline
            for t in self.tasks.values()
            if t.responsible == user
            and not t.done
            and t.deadline < now
            and (t.lead is None or self.leads[t.lead].stage in counted)
        ]
        moves = [m for m in self.moves.get(user, []) if m[0] <= now]
        sales = [m for m in moves if m[2] in sale]
        since = sales_window_start(_settings(group, user) or LimitSettings(), now)
        lost = [
            x.moved_at
            for x in mine
            if x.stage in loss
            and x.moved_by == user
            and x.moved_at is not None
            and cal.month_start <= x.moved_at <= now
        ]
        key = group.key_stage if group.key_stage in counted else None
        keyed = [m for m in moves if key is not None and m[2] == key]
        return Activity(
            last_claim_at=self.last_claim.get((group.id, user)),
            open_leads=sum(1 for x in mine if x.stage in opened),
            new_today=len(new_today),
            overdue_tasks=len(overdue),
            oldest_overdue_deadline=min(overdue, default=None),
            sales_in_window=sum(
                1 for m in sales if since is not None and m[0] >= since
            ),
            lost_today=sum(1 for at in lost if at >= cal.today_start),
            lost_month=len(lost),
            sales_last_month=sum(
                1 for m in sales if cal.prev_month_start <= m[0] < cal.month_start
            ),
            sales_this_month=sum(1 for m in sales if m[0] >= cal.month_start),
            key_stage_last_week=len(
                {m[1] for m in keyed if cal.prev_week_start <= m[0] < cal.week_start}
            ),
            key_stage_this_week=len({m[1] for m in keyed if m[0] >= cal.week_start}),
        )

    # -- the button -----------------------------------------------------------
    def press(self, claim: ClaimPress) -> None:
        if not self.start <= claim.at < self.end:
            return
        self.claims += 1
        group = next((g for g in self.ws.groups if g.id == claim.group), None)
        settings = _settings(group, claim.user) if group else None
        if group is None or settings is None:
            failing = [NOT_MEMBER]
        else:
            activity = self.activity(group, claim.user, claim.at)
            verdicts = evaluate(settings, activity, claim.at, self.tz)
            failing = [v.limit for v in verdicts if not v.passed]
        if not failing:
            self.last_claim[(claim.group, claim.user)] = claim.at
            return
        self.refused_claims += 1
        per_limit = self.refused.setdefault(claim.user, {})
        for limit in failing:
            per_limit[limit] = per_limit.get(limit, 0) + 1

    # -- push -----------------------------------------------------------------
    def arrive(self, lead_id: str, facts: LeadFacts, at: datetime) -> None:
        self.leads[lead_id].replayed = True
        if first_template(self.templates, facts, self.tz, at) is None and not any(
            t.takes(facts)
            and working_intervals(
                template_schedule(t), self.tz, at, at + OPENING_HORIZON
            )
            for t in self.templates
        ):
            self.inbox[lead_id] = BUTTON
            self.leads[lead_id].replayed = False
            return
        self.inbox[lead_id] = HELD
        if not self.place(lead_id, facts, at):
            self.held.append(_Held(lead_id, facts, at))
            self.held_leads += 1

    def place(self, lead_id: str, facts: LeadFacts, at: datetime) -> bool:
        """Tries to push the lead now; False when it stays held."""
        t = first_template(self.templates, facts, self.tz, at)
        if t is None:
            return False
        pool = [
            Seat(p.user, p.weight) for p in t.participants if self.on_duty(p.user, at)
        ]
        if t.respect_limits and pool:
            group = self.home_group(self.leads[lead_id].stage)
            if group is not None:
                pool = [s for s in pool if self.allowed_by_limits(group, s.user, at)]
        if not pool:
            if t.fallback_user is None:
                return False
            self.assign(lead_id, t.id, t.fallback_user, at)
            return True
        try:
            chosen = rotation.pick(
                t.algorithm,
                self.states.get(t.id, RotationState()),
                pool,
                open_leads=self.open_leads(),
                fallback_algorithm=t.fallback_algorithm,
                rng=random.Random(f"whatif:{t.id}:{lead_id}"),
            )
        except NobodyToPick:
            return False
        self.states[t.id] = chosen.state
        self.assign(lead_id, t.id, chosen.user, at)
        return True

    def home_group(self, stage: str) -> GroupSpec | None:
        return next((g for g in self.ws.groups if stage in g.source_stages), None)

    def allowed_by_limits(self, group: GroupSpec, user: str, at: datetime) -> bool:
        settings = _settings(group, user)
        if settings is None:
            return True  # not an enabled member: no limits to fail
        verdicts = evaluate(settings, self.activity(group, user, at), at, self.tz)
        return all(v.passed for v in verdicts)

    def assign(self, lead_id: str, template: str, user: str, at: datetime) -> None:
        self.give(self.leads[lead_id], lead_id, user, at)
        self.inbox[lead_id] = user
        per_user = self.pushed.setdefault(template, {})
        per_user[user] = per_user.get(user, 0) + 1

    def release(self, at: datetime) -> None:
        still: list[_Held] = []
        for item in self.held:
            if self.inbox.get(item.lead) != HELD:
                continue  # taken out of the queue by a hand-over in the history
            if self.place(item.lead, item.facts, at):
                self.held_seconds += (at - item.since).total_seconds()
            else:
                still.append(item)
        self.held = still

    # -- the history ----------------------------------------------------------
    def apply(self, e: h.CanonicalEvent) -> None:
        in_range = self.start <= e.at < self.end
        if isinstance(e, h.LeadCreated):
            key = f"{e.pipeline}/{e.stage}"
            lead = _Lead(stage=key, responsible=e.responsible, last_open=key)
            lead.moved_by, lead.moved_at = e.responsible, e.at
            self.leads[e.lead] = lead
            self.became.setdefault(e.responsible, []).append((e.at, e.lead))
            inbox = e.responsible in self.technical and self.kinds.get(key) == "open"
            if in_range and inbox:
                facts = LeadFacts(e.channel, e.pipeline, frozenset(e.tags))
                self.arrive(e.lead, facts, e.at)
            return
        if isinstance(e, h.StageChanged):
            lead = self.leads[e.lead]
            pipeline = e.pipeline or lead.stage.split("/", 1)[0]
            self._move(e.lead, f"{pipeline}/{e.to}", e.at)
        elif isinstance(e, h.LeadReopened):
            self._move(e.lead, self.leads[e.lead].last_open, e.at)
        elif isinstance(e, h.ResponsibleChanged):
            lead = self.leads[e.lead]
            first = not lead.first_actual
            lead.first_actual = lead.first_actual or e.to
            if lead.replayed and first:
                return  # the history's own push: the replay decided this one instead
            if self.inbox.get(e.lead) == HELD:
                self.inbox[e.lead] = e.to
            self.give(lead, e.lead, e.to, e.at)
        elif isinstance(e, h.TaskCreated):
            self.tasks[e.task] = _Task(e.responsible, e.deadline, e.lead)
        elif isinstance(e, h.TaskCompleted):
            if e.task in self.tasks:
                self.tasks[e.task].done = True
        elif isinstance(e, h.TaskResponsibleChanged) and e.task in self.tasks:
            self.tasks[e.task].responsible = e.to

    def _move(self, lead_id: str, key: str, at: datetime) -> None:
        lead = self.leads[lead_id]
        lead.stage = key
        lead.moved_by, lead.moved_at = lead.responsible, at
        if self.kinds.get(key) == "open":
            lead.last_open = key
        self.moves.setdefault(lead.responsible, []).append((at, lead_id, key))

    def actual(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for lead_id in self.inbox:
            lead = self.leads[lead_id]
            first = lead.first_actual or UNASSIGNED
            out[first] = out.get(first, 0) + 1
        return out


def _settings(group: GroupSpec | None, user: str) -> LimitSettings | None:
    """The member's limits, or None when `user` is not an enabled member."""
    if group is None:
        return None
    member = next((m for m in group.members if m.user == user), None)
    if member is None or not member.enabled:
        return None
    return LimitSettings(**member.limits.values())


def _boundaries(replay: _Replay) -> list[datetime]:
    """Instants when someone's duty or a template's window changes, in the range."""
    schedules = list(replay.schedules.values())
    schedules += [template_schedule(t) for t in replay.templates]
    out: set[datetime] = set()
    for schedule in schedules:
        for s, e in working_intervals(schedule, replay.tz, replay.start, replay.end):
            out.update(x for x in (s, e) if replay.start < x < replay.end)
    return sorted(out)


def _max_deviation(weights: dict[str, int], counts: dict[str, int]) -> float:
    total, weight = sum(counts.values()), sum(weights.values())
    if not total or not weight:
        return 0.0
    return max(abs(counts.get(u, 0) - total * w / weight) for u, w in weights.items())


def replay(
    ws: Workspace,
    tz: ZoneInfo,
    events: Iterable[h.CanonicalEvent],
    claims: Iterable[ClaimPress],
    *,
    start: datetime,
    end: datetime,
) -> WhatIfResult:
    """The proposal `ws` replayed over `events` (all history before `end`)."""
    r = _Replay(ws=ws, tz=tz, start=start, end=end)
    r.kinds = {
        f"{p.id}/{s.id}": s.kind
        for p in ws.pipelines
        if not p.archived
        for s in p.stages
    }
    r.technical = {u.id for u in ws.users if u.technical}
    for g in ws.groups:
        r.technical.update(g.exchange_users)
    r.schedules = {s.user: schedule_of(s) for s in ws.schedules}
    r.templates = [template_of(t) for t in ws.templates]
    # At one instant: duty changes first, then presses, then the history's
    # events (a press precedes the hand-over it causes).
    timeline: list[tuple[datetime, int, int, object]] = []
    timeline += [(at, 0, i, None) for i, at in enumerate(_boundaries(r))]
    timeline += [(c.at, 1, i, c) for i, c in enumerate(claims) if c.at < end]
    timeline += [(e.at, 2, i, e) for i, e in enumerate(events) if e.at < end]
    heapq.heapify(timeline)
    while timeline:
        at, _, _, item = heapq.heappop(timeline)
        if r.held and at >= start:
            r.release(at)
        if isinstance(item, ClaimPress):
            r.press(item)
        elif item is not None:
            r.apply(item)  # type: ignore[arg-type]
    for item in r.held:
        if r.inbox.get(item.lead) == HELD:
            r.held_seconds += (end - item.since).total_seconds()
    proposed: dict[str, int] = {}
    for owner in r.inbox.values():
        proposed[owner] = proposed.get(owner, 0) + 1
    return WhatIfResult(
        proposed=dict(sorted(proposed.items())),
        actual=dict(sorted(r.actual().items())),
        pushed_by_template={t: dict(sorted(c.items())) for t, c in r.pushed.items()},
        max_deviation={
            t.id: _max_deviation(
                {p.user: p.weight for p in t.participants}, r.pushed.get(t.id, {})
            )
            for t in r.templates
        },
        claims=r.claims,
        refused_claims=r.refused_claims,
        refused={u: dict(sorted(c.items())) for u, c in sorted(r.refused.items())},
        held_leads=r.held_leads,
        held_minutes=int(r.held_seconds // 60),
    )


__all__: Sequence[str] = ("ClaimPress", "WhatIfResult", "replay")
