"""What-if: replays past CRM events under a proposed workspace, in memory, no I/O.

The replay walks the real history in time order. Leads arriving in the inbox
(created open, owned by a technical user) are pushed by the proposed templates
with the production rotation code; presence is the proposed schedule. Presses
of the button are checked against the proposed limits. Everything else (stage
and task events, later hand-overs) happens as it did, attributed to whoever
owns the lead in the replay, so the limits see the proposal's consequences.
SLA reassignment and shift handover run on the replay's clock: a pushed lead
still untouched (same stage, no task on it completed) when its template's
``reassign_after_minutes`` are up, or when its owner goes off duty, goes to
the next on-duty participant, as the assigner's tick would do.

Blocked time: a member is blocked by a limit over the intervals in which that
limit would refuse their press. The limits are evaluated whenever the
member's activity changes and at every instant a verdict can change with
time alone (local midnight, a task deadline, a claim interval running out,
a sales window sliding); blocked time is counted over the whole range, on
duty or not, since the button is not tied to the schedule.

Known simplifications: a press refused under the proposal still lets the
history's lead move as it did; linked leads use the fallback algorithm
(contacts are not replayed); presence is taken to follow the schedule.
"""

from __future__ import annotations

import bisect
import heapq
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from leadrouter.workspace import GroupSpec, TemplateSpec, Workspace
from services.assigner.engine import rotation
from services.assigner.engine.rotation import NobodyToPick, RotationState, Seat
from services.crm import history as h
from services.crm.reopening import reopening_stage
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
# Limits that block "after" an instant (a deadline passed, a window slid) are
# re-evaluated just past it.
JUST_AFTER = timedelta(microseconds=1)
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class ClaimPress:
    """A press of the button as the assigner journal recorded it."""

    at: datetime
    user: str
    group: str
    outcome: str = ""  # claimed | refused, as it happened ("" when unknown)
    limits: tuple[str, ...] = ()  # the limits that refused it, as it happened
    lead: str = ""  # the lead it took, as it happened


@dataclass(frozen=True)
class PushRecord:
    """A push decision of the journal: what really happened to an inbox lead."""

    at: datetime
    lead: str
    outcome: str  # assigned | held | kept | refused
    template: str
    user: str
    trigger: str = ""  # arrival | queue | sla | handover | ...


@dataclass(frozen=True)
class Held:
    """Leads that waited because no template was open or nobody was on duty."""

    leads: int = 0
    total_minutes: int = 0
    max_minutes: int = 0


@dataclass(frozen=True)
class ManagerRow:
    """One manager's inbox leads on both sides, as counts and shares."""

    user: str
    proposed: int
    actual: int
    proposed_share: float  # of the leads pushed by a template, 0..1
    actual_share: float
    ideal_share: float  # by the proposed templates' weights, over proposed pushes
    actual_ideal_share: float  # the same weights over what was really pushed


@dataclass(frozen=True)
class WhatIfResult:
    """The proposal next to what actually happened, over the inbox leads of a range."""

    proposed: dict[str, int]  # user (or BUTTON / HELD) -> inbox leads, first push
    actual: dict[str, int]  # user (or UNASSIGNED) -> inbox leads, first assignment
    pushed_by_template: dict[str, dict[str, int]]  # template -> user -> leads
    max_deviation: dict[str, float]  # template -> max |leads - ideal weighted share|
    claims: int
    refused_claims: int
    refused: dict[str, dict[str, int]]  # user -> limit -> refused presses
    held_leads: int
    held_minutes: int
    held_max_minutes: int = 0
    managers: tuple[ManagerRow, ...] = ()
    # Max |share - ideal share| over the managers, 0..1; None: no pushes to judge.
    fairness: float | None = None
    actual_fairness: float | None = None
    # user -> limit -> intervals (UTC) in which that limit would refuse them
    blocked: dict[str, dict[str, tuple[Span, ...]]] = field(default_factory=dict)
    sla_reassignments: int = 0
    handovers: int = 0
    actual_by_template: dict[str, dict[str, int]] = field(default_factory=dict)
    windows: dict[str, str] = field(default_factory=dict)  # template -> its window
    actual_refused_claims: int | None = None  # None: the journal did not say
    actual_refused: dict[str, dict[str, int]] = field(default_factory=dict)
    actual_held: Held | None = None
    actual_sla_reassignments: int | None = None
    actual_handovers: int | None = None
    leads: dict[str, tuple[str, str]] = field(default_factory=dict)  # -> (prop, act)

    def template_ids(self) -> list[str]:
        """The proposal's templates in order, then any only the journal names."""
        return list(self.windows) + [
            t for t in self.actual_by_template if t not in self.windows
        ]

    @property
    def held(self) -> Held:
        return Held(self.held_leads, self.held_minutes, self.held_max_minutes)

    @property
    def blocked_hours(self) -> dict[str, dict[str, float]]:
        """user -> limit -> hours blocked."""
        return {
            user: {limit: _hours(spans) for limit, spans in limits.items()}
            for user, limits in self.blocked.items()
        }

    def blocked_days(self, tz: ZoneInfo) -> dict[str, dict[str, list[date]]]:
        """user -> limit -> the local days on which that limit blocked them."""
        out: dict[str, dict[str, list[date]]] = {}
        for user, limits in self.blocked.items():
            for limit, spans in limits.items():
                days: set[date] = set()
                for s, e in spans:
                    day = s.astimezone(tz).date()
                    last = (e - JUST_AFTER).astimezone(tz).date()
                    while day <= last:
                        days.add(day)
                        day += timedelta(days=1)
                out.setdefault(user, {})[limit] = sorted(days)
        return out


def _hours(spans: Iterable[Span]) -> float:
    return round(sum((e - s).total_seconds() for s, e in spans) / 3600, 2)


class _Spans:
    """Working intervals computed once, asked by bisection: the replay asks
    "on duty at t?" hundreds of thousands of times over one month."""

    def __init__(self, intervals: Iterable[Span], lo: datetime, hi: datetime) -> None:
        merged: list[list[datetime]] = []
        for s, e in sorted(intervals):
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        # In UTC: comparing instants of one fixed zone is much cheaper.
        self.starts = [m[0].astimezone(UTC) for m in merged]
        self.ends = [m[1].astimezone(UTC) for m in merged]
        self.lo, self.hi = lo.astimezone(UTC), hi.astimezone(UTC)

    def knows(self, at: datetime) -> bool:
        return self.lo <= at < self.hi

    def covers(self, at: datetime) -> bool:
        i = bisect.bisect_right(self.starts, at) - 1
        return i >= 0 and at < self.ends[i]

    def opens_within(self, at: datetime, horizon: timedelta) -> bool:
        """Whether some interval overlaps [at, at + horizon)."""
        i = bisect.bisect_right(self.ends, at)
        return i < len(self.starts) and self.starts[i] < at + horizon


def _spans(schedule: Schedule, tz: ZoneInfo, lo: datetime, hi: datetime) -> _Spans:
    return _Spans(working_intervals(schedule, tz, lo, hi), lo, hi)


@dataclass
class _Lead:
    stage: str  # pipeline/stage
    responsible: str
    last_open: str
    moved_by: str = ""  # owner when it entered its current stage
    moved_at: datetime | None = None
    replayed: bool = False  # pushed by the replay: the history's first hand-over
    first_actual: str = ""  # is recorded, not applied
    touched_at: datetime | None = None  # last stage change or task done by hand
    arrived: str = ""  # the stage it was created in


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
class _Watch:
    """A pushed lead that SLA and handover may still send on."""

    template: Template
    assignee: str
    assigned_at: datetime
    stage: str
    timer: int  # which SLA timer is live; an older one firing is stale
    skipped: set[str] = field(default_factory=set)


@dataclass
class _Replay:
    ws: Workspace
    tz: ZoneInfo
    start: datetime
    end: datetime
    account: str = ""
    kinds: dict[str, str] = field(default_factory=dict)  # live stage -> kind
    # pipeline -> its stages (id, kind) in order, for where reopening returns
    stage_order: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    technical: set[str] = field(default_factory=set)
    schedules: dict[str, Schedule] = field(default_factory=dict)
    duty: dict[str, _Spans] = field(default_factory=dict)
    opening: dict[str, _Spans] = field(default_factory=dict)  # template -> window
    templates: list[Template] = field(default_factory=list)
    leads: dict[str, _Lead] = field(default_factory=dict)
    owned: dict[str, set[str]] = field(default_factory=dict)  # user -> leads
    tasks: dict[str, _Task] = field(default_factory=dict)
    tasks_of: dict[str, set[str]] = field(default_factory=dict)  # user -> tasks
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
    held_max_seconds: float = 0.0
    # (lead, instant) of the history's pushes: the replay makes its own there.
    history_pushes: set[tuple[str, datetime]] = field(default_factory=set)
    watched: dict[str, _Watch] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    sla: int = 0
    handovers: int = 0
    # -- blocked time --
    stage_sets: dict[str, tuple[set[str], set[str], set[str], set[str]]] = field(
        default_factory=dict
    )
    memberships: dict[str, list[tuple[GroupSpec, LimitSettings]]] = field(
        default_factory=dict
    )
    blocked_since: dict[tuple[str, str], datetime] = field(default_factory=dict)
    blocked: dict[str, dict[str, list[Span]]] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)
    limit_settings: dict[tuple[str, str], LimitSettings | None] = field(
        default_factory=dict
    )
    # A member's limits may have let go: held leads are worth another try.
    freed: bool = False
    timers: list[tuple[datetime, int, object, object]] = field(default_factory=list)
    seq: int = 0

    # -- state of the account -------------------------------------------------
    def on_duty(self, user: str, at: datetime) -> bool:
        schedule = self.schedules.get(user)
        if schedule is None:
            return False
        spans = self.duty.get(user)
        if spans is not None and spans.knows(at):
            return spans.covers(at)
        return is_working(schedule, self.tz, at)

    def first_template(self, facts: LeadFacts, at: datetime) -> Template | None:
        """templates.first_template, with the windows precomputed."""
        spans = self.opening
        if not all(x.knows(at) for x in spans.values()):
            return first_template(self.templates, facts, self.tz, at)
        for t in self.templates:
            if t.takes(facts) and spans[t.id].covers(at):
                return t
        return None

    def opens_soon(self, facts: LeadFacts, at: datetime) -> bool:
        """Whether a template that takes such leads opens within the horizon."""
        for t in self.templates:
            if not t.takes(facts):
                continue
            spans = self.opening.get(t.id)
            if spans is not None and spans.knows(at + OPENING_HORIZON):
                if spans.opens_within(at, OPENING_HORIZON):
                    return True
            elif working_intervals(
                template_schedule(t), self.tz, at, at + OPENING_HORIZON
            ):
                return True
        return False

    def give(self, lead: _Lead, lead_id: str, user: str, at: datetime) -> None:
        self.owned.get(lead.responsible, set()).discard(lead_id)
        self.dirty.add(lead.responsible)
        lead.responsible = user
        self.owned.setdefault(user, set()).add(lead_id)
        self.became.setdefault(user, []).append((at, lead_id))
        self.dirty.add(user)

    def open_leads(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for user, ids in self.owned.items():
            n = sum(1 for i in ids if self.kinds.get(self.leads[i].stage) == "open")
            if n:
                out[user] = n
        return out

    def later(self, at: datetime, item: object) -> None:
        """Something to do at `at` on the replay's clock (after the history's)."""
        if at < self.end:
            self.seq += 1
            heapq.heappush(self.timers, (at, 3, self.seq, item))

    def sets(self, group: GroupSpec) -> tuple[set[str], set[str], set[str], set[str]]:
        """Counted, sale, loss and open stages of the group (cached)."""
        if group.id in self.stage_sets:
            return self.stage_sets[group.id]
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
        # Limit 2 counts every open stage, also one listed as a sale stage.
        opened = {k for k in counted if self.kinds[k] == "open"}
        self.stage_sets[group.id] = (counted, sale, loss, opened)
        return counted, sale, loss, opened

    def activity(self, group: GroupSpec, user: str, now: datetime) -> Activity:
        """What crm's measure() would report for `user` in `group` at `now`."""
        cal = calendar(now, self.tz)
        counted, sale, loss, opened = self.sets(group)
        mine = [self.leads[i] for i in self.owned.get(user, ())]
        new_today = {
            lead
            for at, lead in self.became.get(user, [])
            if cal.today_start <= at <= now and self.leads[lead].stage in counted
        }
        overdue = [
            t.deadline
            for t in (self.tasks[i] for i in self.tasks_of.get(user, ()))
            if not t.done
            and t.deadline < now
            and (t.lead is None or self.leads[t.lead].stage in counted)
        ]
        # Moves of leads that sit in a counted stage now; counted once per lead.
        moves = [
            m
            for m in self.moves.get(user, [])
            if m[0] <= now and self.leads[m[1]].stage in counted
        ]
        sales = [m for m in moves if m[2] in sale]
        since = sales_window_start(self.settings(group, user) or LimitSettings(), now)
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
            sales_in_window=len(
                {m[1] for m in sales if since is not None and m[0] >= since}
            ),
            lost_today=sum(1 for at in lost if at >= cal.today_start),
            lost_month=len(lost),
            sales_last_month=len(
                {m[1] for m in sales if cal.prev_month_start <= m[0] < cal.month_start}
            ),
            sales_this_month=len({m[1] for m in sales if m[0] >= cal.month_start}),
            key_stage_last_week=len(
                {m[1] for m in keyed if cal.prev_week_start <= m[0] < cal.week_start}
            ),
            key_stage_this_week=len({m[1] for m in keyed if m[0] >= cal.week_start}),
        )

    def settings(self, group: GroupSpec, user: str) -> LimitSettings | None:
        key = (group.id, user)
        if key not in self.limit_settings:
            self.limit_settings[key] = _settings(group, user)
        return self.limit_settings[key]

    # -- blocked time -----------------------------------------------------------
    def check(self, user: str, at: datetime) -> None:
        """Opens or closes `user`'s blocked spans by what the limits say at `at`."""
        failing: set[str] = set()
        for group, settings in self.memberships.get(user, ()):
            for v in evaluate(settings, self.activity(group, user, at), at, self.tz):
                if not v.passed:
                    failing.add(v.limit)
                    if v.passes_at is not None:
                        self.later(v.passes_at, user)
        for limit in failing:
            self.blocked_since.setdefault((user, limit), at)
        for key in [k for k in self.blocked_since if k[0] == user]:
            if key[1] not in failing:
                self.close(key, at)

    def close(self, key: tuple[str, str], at: datetime) -> None:
        since = self.blocked_since.pop(key)
        if since < at:
            spans = self.blocked.setdefault(key[0], {}).setdefault(key[1], [])
            if spans and spans[-1][1] == since:
                spans[-1] = (spans[-1][0], at)
            else:
                spans.append((since, at))

    def settle(self, at: datetime) -> None:
        """Re-evaluates the members whose activity changed, as of `at`."""
        if at < self.start:
            self.dirty.clear()
            return
        for user in sorted(self.dirty):
            if user in self.memberships:
                self.check(user, at)
                self.freed = True
        self.dirty.clear()

    # -- the button -----------------------------------------------------------
    def press(self, claim: ClaimPress) -> None:
        if not self.start <= claim.at < self.end:
            return
        self.claims += 1
        group = next((g for g in self.ws.groups if g.id == claim.group), None)
        settings = self.settings(group, claim.user) if group else None
        if group is None or settings is None:
            failing = [NOT_MEMBER]
        else:
            activity = self.activity(group, claim.user, claim.at)
            verdicts = evaluate(settings, activity, claim.at, self.tz)
            failing = [v.limit for v in verdicts if not v.passed]
        if not failing:
            self.last_claim[(claim.group, claim.user)] = claim.at
            self.dirty.add(claim.user)
            return
        self.refused_claims += 1
        per_limit = self.refused.setdefault(claim.user, {})
        for limit in failing:
            per_limit[limit] = per_limit.get(limit, 0) + 1

    # -- push -----------------------------------------------------------------
    def arrive(self, lead_id: str, facts: LeadFacts, at: datetime) -> None:
        self.leads[lead_id].replayed = True
        if self.first_template(facts, at) is None and not self.opens_soon(facts, at):
            self.inbox[lead_id] = BUTTON
            self.leads[lead_id].replayed = False
            return
        self.inbox[lead_id] = HELD
        if not self.place(lead_id, facts, at):
            self.held.append(_Held(lead_id, facts, at))
            self.held_leads += 1

    def pool(self, t: Template, lead_id: str, at: datetime) -> list[Seat]:
        """The template's on-duty participants that the limits let take the lead."""
        pool = [
            Seat(p.user, p.weight) for p in t.participants if self.on_duty(p.user, at)
        ]
        if t.respect_limits and pool:
            group = self.home_group(lead_id)
            if group is not None:
                pool = [s for s in pool if self.allowed_by_limits(group, s.user, at)]
        return pool

    def pick(
        self,
        t: Template,
        lead_id: str,
        pool: list[Seat],
        allowed: frozenset[str] | None = None,
    ) -> str | None:
        attempt = self.attempts.get(lead_id, 0) + 1
        try:
            chosen = rotation.pick(
                t.algorithm,
                self.states.get(t.id, RotationState()),
                pool,
                allowed=allowed,
                open_leads=self.open_leads() if _needs_load(t) else {},
                fallback_algorithm=t.fallback_algorithm,
                # The assigner's seed: the same draw as production made.
                rng=random.Random(f"{self.account}:{t.id}:{lead_id}:{attempt}"),
            )
        except NobodyToPick:
            return None
        self.attempts[lead_id] = attempt
        self.states[t.id] = chosen.state
        return chosen.user

    def place(self, lead_id: str, facts: LeadFacts, at: datetime) -> bool:
        """Tries to push the lead now; False when it stays held."""
        t = self.first_template(facts, at)
        if t is None:
            return False
        pool = self.pool(t, lead_id, at)
        if not pool:
            if t.fallback_user is None:
                return False
            self.attempts[lead_id] = self.attempts.get(lead_id, 0) + 1
            self.assign(lead_id, t, t.fallback_user, at, watch=False)
            return True
        user = self.pick(t, lead_id, pool)
        if user is None:
            return False
        self.assign(lead_id, t, user, at, watch=True)
        return True

    def home_group_id(self, lead_id: str) -> str:
        group = self.home_group(lead_id)
        return group.id if group else ""

    def home_group(self, lead_id: str) -> GroupSpec | None:
        lead = self.leads[lead_id]
        stage = lead.last_open if lead.replayed else lead.stage
        return next((g for g in self.ws.groups if stage in g.source_stages), None)

    def allowed_by_limits(self, group: GroupSpec, user: str, at: datetime) -> bool:
        settings = self.settings(group, user)
        if settings is None:
            return True  # not an enabled member: no limits to fail
        verdicts = evaluate(settings, self.activity(group, user, at), at, self.tz)
        return all(v.passed for v in verdicts)

    def assign(
        self, lead_id: str, t: Template, user: str, at: datetime, *, watch: bool
    ) -> None:
        lead = self.leads[lead_id]
        self.give(lead, lead_id, user, at)
        if t.target_stage and lead.stage == lead.arrived:
            # The assigner moves it too; the history's own move is then no news.
            self._move(lead_id, t.target_stage, at, touch=False)
        if self.inbox.get(lead_id) == HELD:
            # The first placement is the one compared; SLA and handover are
            # counted on their own, as the journal counts them.
            self.inbox[lead_id] = user
            per_user = self.pushed.setdefault(t.id, {})
            per_user[user] = per_user.get(user, 0) + 1
        old = self.watched.get(lead_id)
        if not watch or (old is None and lead.touched_at is not None):
            # A lead the history had already taken into work while the replay
            # held it is nobody's untouched lead: no timer would watch it.
            self.watched.pop(lead_id, None)
            return
        self.seq += 1
        self.watched[lead_id] = _Watch(
            t, user, at, lead.stage, self.seq, old.skipped if old else set()
        )
        if t.reassign_after_minutes:
            self.later(
                at + timedelta(minutes=t.reassign_after_minutes),
                ("sla", lead_id, self.seq),
            )

    def release(self, at: datetime) -> None:
        """Held leads, oldest first; a kind of lead that found nobody stops, as
        in the assigner's queue."""
        still: list[_Held] = []
        stuck: set[tuple[object, ...]] = set()
        for item in self.held:
            if self.inbox.get(item.lead) != HELD:
                continue  # taken out of the queue by a hand-over in the history
            kind = (item.facts, self.home_group_id(item.lead))
            if kind in stuck:
                still.append(item)
                continue
            if self.place(item.lead, item.facts, at):
                waited = (at - item.since).total_seconds()
                self.held_seconds += waited
                self.held_max_seconds = max(self.held_max_seconds, waited)
            else:
                stuck.add(kind)
                still.append(item)
        self.held = still

    # -- SLA and handover -------------------------------------------------------
    def untouched(self, lead_id: str, w: _Watch) -> bool:
        lead = self.leads[lead_id]
        return (
            self.kinds.get(lead.stage) == "open"
            and lead.responsible == w.assignee
            and lead.stage == w.stage
            and (lead.touched_at is None or lead.touched_at <= w.assigned_at)
        )

    def send_on(self, lead_id: str, at: datetime, sla: bool) -> None:
        w = self.watched.get(lead_id)
        if w is None:
            return
        if not self.untouched(lead_id, w):
            del self.watched[lead_id]  # taken into work: the timers stop
            return
        t = w.template
        pool = self.pool(t, lead_id, at)
        seated = {s.user for s in pool}
        allowed = seated - (w.skipped if sla else set()) - {w.assignee}
        if not allowed and sla:
            allowed = seated - {w.assignee}
        if not allowed:
            if sla and t.reassign_after_minutes:
                # Nobody else on duty: it stays, and the timer starts again.
                self.seq += 1
                w.timer = self.seq
                self.later(
                    at + timedelta(minutes=t.reassign_after_minutes),
                    ("sla", lead_id, w.timer),
                )
            return
        user = self.pick(t, lead_id, pool, frozenset(allowed))
        if user is None:
            return
        if sla:
            w.skipped.add(w.assignee)
            self.sla += 1
        else:
            self.handovers += 1
        self.assign(lead_id, t, user, at, watch=True)

    def timer(self, item: object, at: datetime) -> None:
        if isinstance(item, str):
            self.dirty.add(item)
            self.freed = True
        elif isinstance(item, tuple) and item[0] == "sla":
            w = self.watched.get(item[1])
            if w is not None and w.timer == item[2]:
                self.send_on(item[1], at, sla=True)

    def hand_over(self, at: datetime) -> None:
        for lead_id in sorted(
            self.watched, key=lambda i: (self.watched[i].assigned_at, i)
        ):
            w = self.watched.get(lead_id)
            if w is not None and not self.on_duty(w.assignee, at):
                self.send_on(lead_id, at, sla=False)

    # -- the history ----------------------------------------------------------
    def apply(self, e: h.CanonicalEvent) -> None:
        in_range = self.start <= e.at < self.end
        if isinstance(e, h.LeadCreated):
            key = f"{e.pipeline}/{e.stage}"
            lead = _Lead(
                stage=key, responsible=e.responsible, last_open=key, arrived=key
            )
            lead.moved_by, lead.moved_at = e.responsible, e.at
            self.leads[e.lead] = lead
            self.owned.setdefault(e.responsible, set()).add(e.lead)
            self.became.setdefault(e.responsible, []).append((e.at, e.lead))
            self.dirty.add(e.responsible)
            inbox = e.responsible in self.technical and self.kinds.get(key) == "open"
            if in_range and inbox:
                facts = LeadFacts(e.channel, e.pipeline, frozenset(e.tags))
                self.arrive(e.lead, facts, e.at)
            return
        if isinstance(e, h.StageChanged):
            lead = self.leads[e.lead]
            pipeline = e.pipeline or lead.stage.split("/", 1)[0]
            own_push = lead.replayed and (e.lead, e.at) in self.history_pushes
            self._move(e.lead, f"{pipeline}/{e.to}", e.at, touch=not own_push)
        elif isinstance(e, h.LeadReopened):
            self._reopen(e.lead, e.at)
        elif isinstance(e, h.ResponsibleChanged):
            lead = self.leads[e.lead]
            lead.first_actual = lead.first_actual or e.to
            if lead.replayed and (e.lead, e.at) in self.history_pushes:
                return  # the history's own push: the replay decided this one instead
            if self.inbox.get(e.lead) == HELD:
                self.inbox[e.lead] = e.to
            self.watched.pop(e.lead, None)
            self.give(lead, e.lead, e.to, e.at)
        elif isinstance(e, h.TaskCreated):
            self.tasks[e.task] = _Task(e.responsible, e.deadline, e.lead)
            self.tasks_of.setdefault(e.responsible, set()).add(e.task)
            self.dirty.add(e.responsible)
            self.later(e.deadline + JUST_AFTER, e.responsible)
            for n in self.overdue_days:
                self.later(e.deadline + timedelta(days=n) + JUST_AFTER, e.responsible)
        elif isinstance(e, h.TaskCompleted):
            if e.task in self.tasks:
                task = self.tasks[e.task]
                task.done = True
                self.dirty.add(task.responsible)
                if task.lead is not None and task.lead in self.leads:
                    self.leads[task.lead].touched_at = e.at
        elif isinstance(e, h.TaskResponsibleChanged) and e.task in self.tasks:
            task = self.tasks[e.task]
            self.tasks_of.get(task.responsible, set()).discard(e.task)
            self.dirty.add(task.responsible)
            task.responsible = e.to
            self.tasks_of.setdefault(e.to, set()).add(e.task)
            self.dirty.add(e.to)
            self.later(task.deadline + JUST_AFTER, e.to)

    @property
    def overdue_days(self) -> set[int]:
        return {
            s.max_overdue_days
            for ms in self.memberships.values()
            for _, s in ms
            if s.max_overdue_days is not None
        }

    def _reopen(self, lead_id: str, at: datetime) -> None:
        """As the crm reopens: no move into a stage for any limit."""
        lead = self.leads[lead_id]
        pipeline, stage = lead.stage.split("/", 1)
        key = reopening_stage(
            pipeline=pipeline,
            stage=stage,
            kind=self.kinds.get(lead.stage, ""),
            last_open_stage=lead.last_open,
            stages=self.stage_order.get(pipeline, []),
        )
        lead.stage = key or lead.last_open
        lead.moved_by, lead.moved_at = "", at
        lead.last_open = lead.stage
        lead.touched_at = at
        self.dirty.add(lead.responsible)

    def _move(self, lead_id: str, key: str, at: datetime, *, touch: bool) -> None:
        lead = self.leads[lead_id]
        lead.stage = key
        lead.moved_by, lead.moved_at = lead.responsible, at
        if touch:
            lead.touched_at = at
        if self.kinds.get(key) == "open":
            lead.last_open = key
        self.moves.setdefault(lead.responsible, []).append((at, lead_id, key))
        self.dirty.add(lead.responsible)
        if self.kinds.get(key) == "won":
            # days_without_sales: the window slides past this sale N days on.
            for ms in self.memberships.get(lead.responsible, ()):
                n = ms[1].days_without_sales
                if n is not None:
                    self.later(at + timedelta(days=n) + JUST_AFTER, lead.responsible)

    def actual(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for lead_id in self.inbox:
            lead = self.leads[lead_id]
            first = lead.first_actual or UNASSIGNED
            out[first] = out.get(first, 0) + 1
        return out


def _needs_load(t: Template) -> bool:
    return t.algorithm == "least_loaded" or (
        t.algorithm == "linked" and t.fallback_algorithm == "least_loaded"
    )


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


def _midnights(tz: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """Local midnights in (start, end): when the daily, weekly and monthly
    counts of the limits roll over."""
    out: list[datetime] = []
    day = start.astimezone(tz).date() + timedelta(days=1)
    while True:
        at = calendar(datetime(day.year, day.month, day.day, 12, tzinfo=tz), tz)
        if at.today_start >= end:
            return out
        out.append(at.today_start)
        day += timedelta(days=1)


def _max_deviation(weights: dict[str, int], counts: dict[str, int]) -> float:
    total, weight = sum(counts.values()), sum(weights.values())
    if not total or not weight:
        return 0.0
    return max(abs(counts.get(u, 0) - total * w / weight) for u, w in weights.items())


def window_label(t: TemplateSpec) -> str:
    """The template's schedule window as a person says it: "Mon–Fri 09:00–16:00"."""
    days = sorted(WEEKDAYS.index(d) for d in t.days) or list(range(7))
    if len(days) == 7:
        when = "every day"
    elif days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        when = f"{DAY_NAMES[days[0]]}–{DAY_NAMES[days[-1]]}"
    else:
        when = ", ".join(DAY_NAMES[d] for d in days)
    hours = str(t.window).replace("-", "–") if t.window else "all day"
    return f"{when} {hours}"


def _ideal(
    weights: dict[str, dict[str, int]], by_template: dict[str, dict[str, int]]
) -> tuple[dict[str, float], dict[str, int], int]:
    """Ideal leads per user by the weights, the leads counted, and their total."""
    ideal: dict[str, float] = {}
    counts: dict[str, int] = {}
    for t, per_user in by_template.items():
        w = weights.get(t)
        if not w:
            continue  # a template the proposal does not have: weights unknown
        n, total = sum(per_user.values()), sum(w.values())
        for user, weight in w.items():
            ideal[user] = ideal.get(user, 0.0) + n * weight / total
        for user, c in per_user.items():
            counts[user] = counts.get(user, 0) + c
    return ideal, counts, sum(counts.values())


def _fairness(ideal: dict[str, float], counts: dict[str, int], n: int) -> float | None:
    if not n:
        return None
    users = set(ideal) | set(counts)
    return round(max(abs(counts.get(u, 0) - ideal.get(u, 0.0)) / n for u in users), 4)


def _journal(
    pushes: Sequence[PushRecord], inbox: Iterable[str], created: dict[str, datetime]
) -> tuple[dict[str, dict[str, int]], Held, int, int]:
    """What the journal says really happened to the range's inbox leads."""
    wanted = set(inbox)
    by_template: dict[str, dict[str, int]] = {}
    first: dict[str, PushRecord] = {}
    held_first: set[str] = set()
    sla = handovers = 0
    for p in pushes:
        if p.lead not in wanted:
            continue
        if p.outcome == "held" and p.lead not in first:
            held_first.add(p.lead)
        if p.outcome != "assigned":
            continue
        if p.lead not in first:
            first[p.lead] = p
            per_user = by_template.setdefault(p.template, {})
            per_user[p.user] = per_user.get(p.user, 0) + 1
        else:
            sla += p.trigger == "sla"
            handovers += p.trigger == "handover"
    waits = [
        (first[lead].at - created[lead]).total_seconds()
        for lead in held_first
        if lead in first and lead in created
    ]
    held = Held(
        leads=len(held_first),
        total_minutes=int(sum(waits) // 60),
        max_minutes=int(max(waits, default=0) // 60),
    )
    return (
        {t: {u: c for u, c in sorted(p.items()) if c} for t, p in by_template.items()},
        held,
        sla,
        handovers,
    )


def replay(
    ws: Workspace,
    tz: ZoneInfo,
    events: Iterable[h.CanonicalEvent],
    claims: Iterable[ClaimPress],
    *,
    start: datetime,
    end: datetime,
    pushes: Iterable[PushRecord] | None = None,
    account: str = "",
) -> WhatIfResult:
    """The proposal `ws` replayed over `events` (all history before `end`).

    `pushes` (the journal's push decisions in the range) fill in the actual
    side's templates, held leads and reassignments; `account` seeds the random
    draws exactly as the assigner does, so the current workspace reproduces
    what happened.
    """
    r = _Replay(ws=ws, tz=tz, start=start, end=end, account=account)
    r.kinds = {
        f"{p.id}/{s.id}": s.kind
        for p in ws.pipelines
        if not p.archived
        for s in p.stages
    }
    r.stage_order = {p.id: [(s.id, s.kind) for s in p.stages] for p in ws.pipelines}
    r.technical = {u.id for u in ws.users if u.technical}
    for g in ws.groups:
        r.technical.update(g.exchange_users)
        for m in g.members:
            settings = _settings(g, m.user)
            if settings is not None and any(
                v is not None for v in m.limits.values().values()
            ):
                r.memberships.setdefault(m.user, []).append((g, settings))
    r.schedules = {s.user: schedule_of(s) for s in ws.schedules}
    r.templates = [template_of(t) for t in ws.templates]
    lo, hi = start - timedelta(days=1), end + OPENING_HORIZON + timedelta(days=1)
    r.duty = {u: _spans(x, tz, lo, hi) for u, x in r.schedules.items()}
    r.opening = {t.id: _spans(template_schedule(t), tz, lo, hi) for t in r.templates}
    history = [e for e in events if e.at < end]
    journal = list(pushes) if pushes is not None else None
    created: dict[str, datetime] = {}
    first_handover: dict[str, datetime] = {}
    for e in history:
        if isinstance(e, h.ResponsibleChanged):
            first_handover.setdefault(e.lead, e.at)
        elif isinstance(e, h.LeadCreated):
            created[e.lead] = e.at
    if journal is not None:
        r.history_pushes = {(p.lead, p.at) for p in journal if p.outcome == "assigned"}
    else:
        # Without the journal, a pushed lead's first hand-over is taken to be
        # the push.
        r.history_pushes = set(first_handover.items())
    presses = [c for c in claims if c.at < end]
    # At one instant: duty changes first, then presses, then the history's
    # events (a press precedes the hand-over it causes), then the replay's
    # own timers (limits re-evaluated, SLA).
    # A press's own hand-over follows it at once: presses at one instant see
    # each other's leads, as they did.
    timeline: list[tuple[datetime, int, object, object]] = []
    duty = _boundaries(r)
    timeline += [(at, 0, i, None) for i, at in enumerate(duty)]
    took = {(c.lead, c.at): i for i, c in enumerate(presses) if c.lead}
    timeline += [(c.at, 1, (i, -1), c) for i, c in enumerate(presses)]
    for i, e in enumerate(history):
        lead = getattr(e, "lead", None)
        press = took.get((lead, e.at)) if isinstance(lead, str) else None
        if press is not None:
            timeline.append((e.at, 1, (press, i), e))
        else:
            timeline.append((e.at, 2, i, e))
    midnights = _midnights(tz, start, end)
    timeline += [(at, 3, -1 - i, "midnight") for i, at in enumerate(midnights)]
    timeline += [(start, 3, -len(midnights) - 1, "start")]
    heapq.heapify(timeline)
    r.timers = timeline
    now: datetime | None = None
    while timeline:
        at, kind, _, item = heapq.heappop(timeline)
        if now is not None and at != now and r.dirty:
            r.settle(now)
        now = at
        if at >= start:
            if kind == 0:
                r.hand_over(at)
            # Held leads can move only when someone comes on duty, a window
            # opens, or a limit lets go; other instants would change nothing.
            if r.held and (kind == 0 or r.freed):
                r.release(at)
                r.freed = False
        if isinstance(item, ClaimPress):
            r.press(item)
        elif kind in (1, 2):
            r.apply(item)  # type: ignore[arg-type]
        elif item in ("midnight", "start"):
            r.dirty.update(r.memberships)
        elif kind == 3:
            r.timer(item, at)
    if now is not None:
        r.settle(now)
    for key in sorted(r.blocked_since):
        r.close(key, end)
    for held in r.held:
        if r.inbox.get(held.lead) == HELD:
            waited = (end - held.since).total_seconds()
            r.held_seconds += waited
            r.held_max_seconds = max(r.held_max_seconds, waited)
    return _result(r, ws, presses, journal, created)


def _result(
    r: _Replay,
    ws: Workspace,
    presses: list[ClaimPress],
    pushes: list[PushRecord] | None,
    created: dict[str, datetime],
) -> WhatIfResult:
    proposed: dict[str, int] = {}
    for owner in r.inbox.values():
        proposed[owner] = proposed.get(owner, 0) + 1
    actual = r.actual()
    weights = {t.id: {p.user: p.weight for p in t.participants} for t in r.templates}
    pushed = {t: dict(sorted(c.items())) for t, c in r.pushed.items() if c}
    ideal, counts, n = _ideal(weights, pushed)
    actual_by_template: dict[str, dict[str, int]] = {}
    actual_held: Held | None = None
    actual_sla = actual_handovers = None
    if pushes is not None:
        actual_by_template, actual_held, actual_sla, actual_handovers = _journal(
            pushes, r.inbox, created
        )
    a_ideal, a_counts, a_n = _ideal(weights, actual_by_template)
    users = sorted(
        (set(proposed) | set(actual) | set(ideal) | set(a_ideal))
        - {BUTTON, HELD, UNASSIGNED}
    )
    managers = tuple(
        ManagerRow(
            user=u,
            proposed=proposed.get(u, 0),
            actual=actual.get(u, 0),
            proposed_share=round(counts.get(u, 0) / n, 4) if n else 0.0,
            actual_share=round(a_counts.get(u, 0) / a_n, 4) if a_n else 0.0,
            ideal_share=round(ideal.get(u, 0.0) / n, 4) if n else 0.0,
            actual_ideal_share=round(a_ideal.get(u, 0.0) / a_n, 4) if a_n else 0.0,
        )
        for u in users
    )
    known = [p for p in presses if r.start <= p.at < r.end and p.outcome]
    actual_refused: dict[str, dict[str, int]] = {}
    for p in known:
        if p.outcome == "refused":
            per = actual_refused.setdefault(p.user, {})
            for limit in p.limits or ("other",):
                per[limit] = per.get(limit, 0) + 1
    return WhatIfResult(
        proposed=dict(sorted(proposed.items())),
        actual=dict(sorted(actual.items())),
        pushed_by_template=pushed,
        max_deviation={
            t.id: _max_deviation(weights[t.id], r.pushed.get(t.id, {}))
            for t in r.templates
        },
        claims=r.claims,
        refused_claims=r.refused_claims,
        refused={u: dict(sorted(c.items())) for u, c in sorted(r.refused.items())},
        held_leads=r.held_leads,
        held_minutes=int(r.held_seconds // 60),
        held_max_minutes=int(r.held_max_seconds // 60),
        managers=managers,
        fairness=_fairness(ideal, counts, n),
        actual_fairness=_fairness(a_ideal, a_counts, a_n),
        blocked={
            u: {limit: tuple(s) for limit, s in sorted(limits.items())}
            for u, limits in sorted(r.blocked.items())
        },
        sla_reassignments=r.sla,
        handovers=r.handovers,
        actual_by_template=actual_by_template,
        windows={t.id: window_label(t) for t in ws.templates},
        actual_refused_claims=(
            sum(1 for p in known if p.outcome == "refused") if known else None
        ),
        actual_refused={
            u: dict(sorted(c.items())) for u, c in sorted(actual_refused.items())
        },
        actual_held=actual_held,
        actual_sla_reassignments=actual_sla,
        actual_handovers=actual_handovers,
        leads={
            lead: (owner, r.leads[lead].first_actual or UNASSIGNED)
            for lead, owner in sorted(r.inbox.items())
        },
    )


__all__: Sequence[str] = (
    "ClaimPress",
    "Held",
    "ManagerRow",
    "PushRecord",
    "WhatIfResult",
    "replay",
    "window_label",
)
