"""Who is on duty and which template is open, at any instant of the replay.

The schedules and the templates' windows are the scheduler's algebra
(services/scheduler/domain.py, templates.py); the replay computes their
intervals once over its range and answers by bisection, since it asks
hundreds of thousands of times. Presence is taken to follow the schedule:
the history does not say when someone went online by hand.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from services.assigner.engine.situation import Duty
from services.scheduler.domain import Schedule, is_working, working_intervals
from services.scheduler.templates import (
    OPENING_HORIZON,
    LeadFacts,
    Template,
    first_template,
    next_template_opening,
    template_schedule,
)

Span = tuple[datetime, datetime]
OFF = Duty(working=False, online=False, on_duty=False)
ON = Duty(working=True, online=True, on_duty=True)


class Spans:
    """Working intervals computed once over [lo, hi), asked by bisection."""

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

    def next_start(self, at: datetime) -> datetime | None:
        """The first instant at or after `at` that is covered, within the range."""
        if self.covers(at):
            return at
        i = bisect.bisect_right(self.starts, at)
        return self.starts[i] if i < len(self.starts) else None

    def boundaries(self) -> list[datetime]:
        return [*self.starts, *self.ends]


class Hours:
    """The proposal's schedules and template windows over the replay's range."""

    def __init__(
        self,
        schedules: dict[str, Schedule],
        templates: Sequence[Template],
        tz: ZoneInfo,
        start: datetime,
        end: datetime,
    ) -> None:
        self.tz = tz
        self.schedules = schedules
        self.templates = list(templates)
        self.start, self.end = start, end
        lo = start - timedelta(days=1)
        hi = end + OPENING_HORIZON + timedelta(days=1)
        self.lo, self.hi = lo.astimezone(UTC), hi.astimezone(UTC)
        self._shifts: dict[str, tuple[list[datetime], list[dict[str, Duty]]]] = {}
        self.duty = {
            u: Spans(working_intervals(x, tz, lo, hi), lo, hi)
            for u, x in schedules.items()
        }
        self.windows = {
            t.id: Spans(working_intervals(template_schedule(t), tz, lo, hi), lo, hi)
            for t in self.templates
        }

    def on_duty(self, user: str, at: datetime) -> bool:
        schedule = self.schedules.get(user)
        if schedule is None:
            return False
        spans = self.duty[user]
        if spans.knows(at):
            return spans.covers(at)
        return is_working(schedule, self.tz, at)

    def duty_of(self, template: Template, at: datetime) -> dict[str, Duty]:
        """The template's participants' duty at `at` (one bisection in range).

        Within the range the same dict answers for a whole stretch in which
        nobody's duty changes, so callers may remember what they derive from it.
        """
        shifts = self._shifts.get(template.id)
        if shifts is None:
            shifts = self._shifts[template.id] = self._shifts_of(template)
        starts, duties = shifts
        if not self.lo <= at < self.hi:
            return {
                p.user: ON if self.on_duty(p.user, at) else OFF
                for p in template.participants
            }
        return duties[bisect.bisect_right(starts, at) - 1]

    def _shifts_of(
        self, template: Template
    ) -> tuple[list[datetime], list[dict[str, Duty]]]:
        """The stretches over which the template's on-duty set stays the same."""
        users = [p.user for p in template.participants]
        turns = {self.lo}
        for u in users:
            spans = self.duty.get(u)
            if spans is not None:
                turns.update(x for x in spans.boundaries() if self.lo < x < self.hi)
        starts = sorted(turns)
        duties = [
            {u: ON if self.on_duty(u, at) else OFF for u in users} for at in starts
        ]
        return starts, duties

    def in_force(self, facts: LeadFacts, at: datetime) -> Template | None:
        """The scheduler's first_template, from the precomputed windows."""
        windows = self.windows
        for t in self.templates:
            if t.takes(facts):
                spans = windows[t.id]
                if not spans.knows(at):
                    return first_template(self.templates, facts, self.tz, at)
                if spans.covers(at):
                    return t
        return None

    def next_opening(self, facts: LeadFacts, at: datetime) -> datetime | None:
        """The scheduler's next_template_opening within its horizon."""
        limit = at + OPENING_HORIZON
        found: list[datetime] = []
        for t in self.templates:
            if not t.takes(facts):
                continue
            spans = self.windows[t.id]
            if not (spans.knows(at) and spans.knows(limit)):
                return next_template_opening(
                    self.templates, facts, self.tz, at, OPENING_HORIZON
                )
            first = spans.next_start(at)
            if first is not None and first < limit:
                found.append(first)
        return min(found, default=None)

    def changes(self) -> list[datetime]:
        """Instants in the range when someone's duty or a template's window turns."""
        out: set[datetime] = set()
        for spans in [*self.duty.values(), *self.windows.values()]:
            out.update(x for x in spans.boundaries() if self.start < x < self.end)
        return sorted(out)
