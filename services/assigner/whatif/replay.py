"""What-if: the account's past replayed under a proposed workspace, in memory.

The replay walks the history in time order on its own clock. Leads arriving
in the inbox are pushed by the engine under the proposal (arrival, queue,
SLA, handover, as live push does); presses of the button are judged by the
proposal's limits; everything else (stage and task events, hand-overs by
people) happens as it did, attributed to whoever owns the lead in the replay,
so the limits see the proposal's consequences. The history's own pushes (the
owner and stage changes production's push made) are left out: the replay
makes its own.

At one instant: duty changes first, then presses and distributeLead calls
(each with the hand-over it caused), then the history's other events, then
the replay's timers; then the tick's rounds that can change anything at that
instant. Production ticks every few seconds; the replay ticks where a round
can find something (a shift or window turning, a limit letting go, an SLA
timer running out), which is the same decision a few seconds earlier.

Known simplifications: a press refused under the proposal still lets the
history's lead move as it did; presence follows the schedule; linked
templates take their fallback (contacts are not replayed).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from leadrouter.workspace import Workspace
from services.assigner.engine import arrival, lifecycle
from services.assigner.engine import press as press_rule
from services.assigner.engine.reasons import Outcome, Trigger
from services.assigner.whatif.account import Account
from services.assigner.whatif.distribution import Distribution, Row
from services.assigner.whatif.hours import Hours
from services.assigner.whatif.inputs import ClaimPress, PushRecord
from services.assigner.whatif.limits import Limits, membership
from services.assigner.whatif.result import WhatIfResult, result
from services.assigner.whatif.tally import count
from services.crm import history as h
from services.limits.domain import calendar
from services.scheduler.specs import schedule_of, template_of

# Kinds of timeline items, in their order within one instant.
DUTY, ASKED, HISTORY, TIMER = 0, 1, 2, 3
CHANGES = (h.StageChanged, h.ResponsibleChanged, h.LeadReopened)
ANY_STAGE = "*"


@dataclass(frozen=True)
class _Own:
    """An assignment production's push made: the events it caused are its own."""

    user: str
    target: str


class _Replay:
    def __init__(
        self,
        ws: Workspace,
        tz: ZoneInfo,
        start: datetime,
        end: datetime,
        account: str,
    ) -> None:
        self.ws, self.tz, self.start, self.end = ws, tz, start, end
        kinds = {
            f"{p.id}/{s.id}": s.kind
            for p in ws.pipelines
            if not p.archived
            for s in p.stages
        }
        technical = {u.id for u in ws.users if u.technical}
        for g in ws.groups:
            technical.update(g.exchange_users)
        order = {p.id: [(s.id, s.kind) for s in p.stages] for p in ws.pipelines}
        self.account = Account(kinds, technical, order)
        self.hours = Hours(
            {s.user: schedule_of(s) for s in ws.schedules},
            [template_of(t) for t in ws.templates],
            tz,
            start,
            end,
        )
        self.timeline: list[tuple[datetime, int, int, object]] = []
        self.seq = 0
        self.limits = Limits(ws, tz, self.account, self._later)
        self.push = Distribution(
            ws, account, self.account, self.hours, self.limits, self._later
        )
        self.presses: list[ClaimPress] = []
        self.own: dict[tuple[str, datetime], list[_Own]] = {}
        self.inbox: dict[str, datetime] = {}
        self.groups = {g.id: g for g in ws.groups}
        # What the instant being replayed asks of the tick.
        self.turned = self.sla_due = False

    def _later(self, at: datetime, item: object) -> None:
        # A limit's verdict turning is looked at first thing at its instant, so
        # an attempt at that very instant sees it, as the limits would.
        if at < self.end:
            self.seq += 1
            kind = DUTY if isinstance(item, str) else TIMER
            heapq.heappush(self.timeline, (at, kind, self.seq, item))

    # -- the clock -----------------------------------------------------------------
    def run(
        self,
        events: list[h.CanonicalEvent],
        presses: list[ClaimPress],
        asked: list[PushRecord],
    ) -> None:
        took = {(c.lead, c.at): i for i, c in enumerate(presses) if c.lead}
        items: list[tuple[datetime, int, tuple[int, int], object]] = []
        items += [(at, DUTY, (i, 0), None) for i, at in enumerate(self.hours.changes())]
        items += [(c.at, ASKED, (i, -1), c) for i, c in enumerate(presses)]
        n = len(presses)
        items += [(p.at, ASKED, (n + i, -1), p) for i, p in enumerate(asked)]
        for i, e in enumerate(events):
            lead = _lead_of(e)
            mine = took.get((lead, e.at)) if isinstance(lead, str) else None
            if mine is not None:
                items.append((e.at, ASKED, (mine, i), e))  # the press's own hand-over
            else:
                items.append((e.at, HISTORY, (i, 0), e))
        for i, at in enumerate(_midnights(self.tz, self.start, self.end)):
            items.append((at, DUTY, (-1 - i, 0), "midnight"))
        items.append((self.start, DUTY, (-1, 0), "start"))
        items.sort(key=lambda x: (x[0], x[1], x[2]))
        timeline = self.timeline
        now: datetime | None = None
        i = 0

        def upcoming() -> tuple[datetime, int] | None:
            heap = (timeline[0][0], timeline[0][1]) if timeline else None
            listed = items[i][:2] if i < len(items) else None
            if heap is None or listed is None:
                return heap or listed
            return min(heap, listed)

        while True:
            nxt = upcoming()
            if nxt is None or nxt[0] != now:
                if now is not None:
                    self._instant_ends(now)  # the tick may set new timers
                nxt = upcoming()
                if nxt is None:
                    break
            if timeline and (timeline[0][0], timeline[0][1]) == nxt:
                at, kind, _, item = heapq.heappop(timeline)
            else:
                at, kind, _, item = items[i]
                i += 1
            now = at
            self._handle(at, kind, item)
        self.limits.close_all(self.end)

    def _handle(self, at: datetime, kind: int, item: object) -> None:
        in_range = self.start <= at < self.end
        if kind == DUTY and item is None:
            self.turned = True
        elif isinstance(item, ClaimPress):
            if in_range:
                self._press(item)
        elif isinstance(item, PushRecord):
            if in_range:
                self._asked(item)
        elif kind in (ASKED, HISTORY):
            self._apply(item, in_range)  # type: ignore[arg-type]
        elif item in ("midnight", "start"):
            self.account.changed.update(self.limits.members)
        elif isinstance(item, tuple):
            self.sla_due = True
        elif isinstance(item, str):
            self.account.changed.add(item)

    def _instant_ends(self, at: datetime) -> None:
        """The tick at `at`, and the limits as of `at` for the blocked time."""
        if at < self.start:
            self.account.changed.clear()
            return
        self._settle(at)
        freed, self.limits.freed = self.limits.freed, False
        rounds: set[Trigger] = set()
        if self.push.waiting() and (self.turned or freed):
            rounds.add(Trigger.QUEUE)
        if self.sla_due:
            rounds.add(Trigger.SLA)
        if self.turned:
            rounds.add(Trigger.HANDOVER)
        if rounds and at < self.end:
            self.push.tick(at, frozenset(rounds))
            self._settle(at)
        self.turned = self.sla_due = False

    def _settle(self, at: datetime) -> None:
        """Re-evaluates the members whose figures changed, as of `at`."""
        changed = sorted(u for u in self.account.changed if u in self.limits.members)
        self.account.changed.clear()
        for user in changed:
            self.limits.check(user, at)

    # -- what happened -----------------------------------------------------------
    def _apply(self, e: h.CanonicalEvent, in_range: bool) -> None:
        lead_id = _lead_of(e)
        if isinstance(lead_id, str) and lead_id in self.push.rows:
            own = self.own.get((lead_id, e.at))
            if own and self._own_effect(e, own):
                return
        lead = self.account.apply(e)
        if isinstance(e, h.LeadCreated) and lead is not None:
            technical = lead.responsible in self.account.technical
            if in_range and technical and self.account.is_open(lead):
                self.inbox[lead.id] = e.at
                self.push.arrived(lead, e.at)
            return
        if isinstance(e, h.TaskCreated):
            self.limits.task_created(e.responsible, e.deadline)
        won = lead is not None and self.account.kinds.get(lead.stage) == "won"
        if isinstance(e, h.StageChanged) and lead is not None and won:
            self.limits.sold(lead.responsible, e.at)
        target = lead.id if isinstance(e, CHANGES) and lead is not None else None
        if isinstance(e, h.TaskCompleted):
            target = self.account.task_lead(e)
        if target is not None:
            self.push.changed(target, e.at)

    def _own_effect(self, e: h.CanonicalEvent, own: list[_Own]) -> bool:
        """Whether `e` is one of the owner and stage changes production's push
        made at that instant (the replay makes its own instead)."""
        for o in own:
            if isinstance(e, h.ResponsibleChanged) and e.to == o.user:
                own.remove(o)
                own.append(_Own("", o.target))  # its stage change may follow
                return True
            if isinstance(e, h.StageChanged) and (
                o.target == ANY_STAGE or o.target.endswith("/" + e.to)
            ):
                own.remove(o)
                return True
        return False

    def _press(self, c: ClaimPress) -> None:
        group = self.groups.get(c.group)
        m = membership(group, c.user)
        verdicts = (
            [
                {"limit": v.limit, "passed": v.passed, "value": v.value}
                for v in self.limits.verdicts(group, c.user, c.at)
            ]
            if group is not None
            else []
        )
        reasons = press_rule.refusals(m, verdicts)
        if not reasons and c.outcome == Outcome.REFUSED:
            # The limits let it through, but the pool was empty as it happened.
            reasons = [r for r in c.reasons if r["code"] in press_rule.NOT_A_LIMIT]
        outcome = Outcome.REFUSED if reasons else Outcome.CLAIMED
        if outcome == Outcome.CLAIMED:
            self.limits.claimed(c.group, c.user, c.at)
        self.presses.append(
            ClaimPress(c.at, c.user, c.group, outcome, tuple(reasons), c.lead)
        )

    def _asked(self, p: PushRecord) -> None:
        """distributeLead as someone called it: the replay decides it anew."""
        lead = self.account.leads.get(p.lead)
        if lead is None:
            return
        row = self.push.rows.get(p.lead)
        if row is None:
            if not self.account.is_open(lead):
                return
            if lead.responsible not in self.account.technical:
                return
            home = arrival.home_group(
                ((g.id, g.source_stages) for g in self.ws.groups), lead.stage
            )
            row = Row(lead.id, lead.created_at, home, lead.responsible)
            self.push.rows[lead.id] = row
        if row.state == lifecycle.WAITING:
            self.push.attempt(row, lead, Trigger.ON_DEMAND, p.at)


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
    names: Mapping[str, str] | None = None,
) -> WhatIfResult:
    """The proposal `ws` replayed over `events` (all history before `end`).

    `claims` are the presses of the range as the journal has them; `pushes`
    the journal's push decisions of the range, the actual side of the
    comparison (None: the actual side is unknown). `account` seeds the random
    draws exactly as the assigner does, so the workspace in force reproduces
    what happened; `names` names users the proposal does not.
    """
    r = _Replay(ws, tz, start, end, account)
    journal = list(pushes) if pushes is not None else None
    history = [e for e in events if e.at < end]
    for p in journal or ():
        if p.outcome == Outcome.ASSIGNED:
            r.own.setdefault((p.lead, p.at), []).append(_Own(p.user, p.target_stage))
    if journal is None:
        # Without the journal, an inbox lead's first hand-over is taken to be
        # production's push, with any stage change at that instant.
        for lead, e in _first_handovers(history).items():
            r.own[(lead, e.at)] = [_Own(e.to, ANY_STAGE)]
    asked = [p for p in journal or () if p.trigger == Trigger.ON_DEMAND]
    presses = [c for c in claims if c.at < end]
    r.run(history, presses, asked)
    proposed = count(r.push.decisions, r.presses, r.inbox, end)
    actual = None
    if journal is not None:
        in_range = [c for c in presses if start <= c.at < end]
        actual = count(journal, in_range, r.inbox, end)
    return result(ws, proposed, actual, r.limits.blocked, names or {})


def _lead_of(e: h.CanonicalEvent) -> object:
    """The lead an event names, if its kind names one (asking a pydantic
    model for a field it lacks costs an exception)."""
    kind = type(e)
    names = _NAMES_LEAD.get(kind)
    if names is None:
        names = _NAMES_LEAD[kind] = "lead" in kind.model_fields
    return e.lead if names else None  # type: ignore[union-attr]


_NAMES_LEAD: dict[type, bool] = {}


def _first_handovers(
    history: list[h.CanonicalEvent],
) -> dict[str, h.ResponsibleChanged]:
    out: dict[str, h.ResponsibleChanged] = {}
    for e in history:
        if isinstance(e, h.ResponsibleChanged) and e.lead not in out:
            out[e.lead] = e
    return out


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
