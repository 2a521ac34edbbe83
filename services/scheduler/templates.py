"""Distribution templates: which template takes a lead at a given instant."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from leadrouter.windows import WHOLE_DAY, Window
from services.scheduler.domain import Schedule, is_working, working_intervals

ALGORITHMS = frozenset({"round_robin", "weighted", "random", "least_loaded", "linked"})
# How far ahead a lead no template takes now looks for the window that will:
# push holds it if one opens within this long, and leaves it to the button if
# none does (live push and what-if alike).
OPENING_HORIZON = timedelta(days=14)


@dataclass(frozen=True)
class LeadFacts:
    """What template matching needs to know about an incoming lead."""

    channel: str
    pipeline: str | None = None
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Match:
    """Which leads a template takes; an empty set means any."""

    channels: frozenset[str] = frozenset()
    channels_except: frozenset[str] = frozenset()
    pipelines: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()  # the lead needs any one of them

    def accepts(self, lead: LeadFacts) -> bool:
        return (
            (not self.channels or lead.channel in self.channels)
            and lead.channel not in self.channels_except
            and (not self.pipelines or lead.pipeline in self.pipelines)
            and (not self.tags or not self.tags.isdisjoint(lead.tags))
        )


@dataclass(frozen=True)
class Participant:
    """A user sharing a template's leads; weight 2 gets twice as many."""

    user: str
    weight: int = 1

    def __post_init__(self) -> None:
        if self.weight < 1:
            raise ValueError(
                f"participant {self.user}: weight must be at least 1, got {self.weight}"
            )


@dataclass(frozen=True, kw_only=True)
class Template:
    """A push rule: which leads, when, to whom and how.

    When nobody is on duty the lead is held (``hold``) or given to
    ``fallback_user``; exactly one of the two applies.
    """

    id: str
    match: Match = field(default_factory=Match)
    days: frozenset[int] = frozenset()  # 0 = Monday; empty = every day
    window: Window | None = None  # None = the whole day
    participants: tuple[Participant, ...]
    algorithm: str
    fallback_algorithm: str | None = None
    respect_limits: bool = False
    target_stage: str | None = None
    hold: bool = True
    fallback_user: str | None = None
    reassign_after_minutes: int | None = None

    def __post_init__(self) -> None:
        problems = list(self._problems())
        if problems:
            raise ValueError(f"template {self.id}: " + "; ".join(problems))

    def _problems(self) -> list[str]:
        problems = []
        if not self.participants:
            problems.append("needs at least one participant")
        users = [p.user for p in self.participants]
        if len(set(users)) != len(users):
            problems.append(f"a participant is listed twice in {users}")
        if bad_days := sorted(d for d in self.days if not 0 <= d <= 6):
            problems.append(f"days must be 0 (Monday) .. 6 (Sunday), got {bad_days}")
        if self.algorithm not in ALGORITHMS:
            problems.append(
                f"unknown algorithm '{self.algorithm}', "
                f"expected one of {', '.join(sorted(ALGORITHMS))}"
            )
        fallback = self.fallback_algorithm
        if fallback is not None and fallback not in ALGORITHMS - {"linked"}:
            problems.append(
                f"fallback_algorithm '{fallback}' must be one of "
                f"{', '.join(sorted(ALGORITHMS - {'linked'}))}"
            )
        if self.hold == (self.fallback_user is not None):
            problems.append("when nobody is on duty: set either hold or fallback_user")
        minutes = self.reassign_after_minutes
        if minutes is not None and minutes < 1:
            problems.append(f"reassign_after_minutes must be at least 1, got {minutes}")
        return problems

    def takes(self, lead: LeadFacts) -> bool:
        return self.match.accepts(lead)


def template_schedule(template: Template) -> Schedule:
    """The template's opening hours as a weekly schedule.

    A template's window, like a shift, belongs to the day it starts: Friday
    16:00-09:00 covers Saturday 08:59, and Monday 00:00-09:00 belongs to
    Sunday's window. Reusing the schedule algebra keeps both rules identical.
    """
    window = template.window or WHOLE_DAY
    days = template.days or frozenset(range(7))
    return Schedule(weekly={day: (window,) for day in days})


def template_open(template: Template, tz: ZoneInfo, at: datetime) -> bool:
    """Whether the template's window is open at ``at`` (wall clock in tz)."""
    return is_working(template_schedule(template), tz, at)


def first_template(
    templates: Sequence[Template], lead: LeadFacts, tz: ZoneInfo, at: datetime
) -> Template | None:
    """The first template, in order, that takes the lead and is open at ``at``.

    Who of its participants is on duty is not considered: a template with
    nobody on duty still wins and then holds the lead or uses its fallback.
    """
    for template in templates:
        if template.takes(lead) and template_open(template, tz, at):
            return template
    return None


def next_template_opening(
    templates: Sequence[Template],
    lead: LeadFacts,
    tz: ZoneInfo,
    at: datetime,
    horizon: timedelta,
) -> datetime | None:
    """The first instant in [at, at + horizon) at which some template takes the lead.

    Returns ``at`` itself when a template takes the lead already, and None
    when no template that matches opens within the horizon.
    """
    openings: list[datetime] = []
    for template in templates:
        if not template.takes(lead):
            continue
        schedule = template_schedule(template)
        intervals = working_intervals(schedule, tz, at, at + horizon)
        if intervals:
            openings.append(intervals[0][0])
    return min(openings, default=None)
