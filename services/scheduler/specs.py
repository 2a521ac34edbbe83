"""Turns workspace entries into the scheduler's domain objects."""

from __future__ import annotations

from leadrouter.windows import Window, parse_window
from leadrouter.workspace import WEEKDAYS, FallbackUser, ScheduleSpec, TemplateSpec
from services.scheduler.domain import Cycle, DatedWindow, DateRange, Schedule
from services.scheduler.templates import LeadFacts, Match, Participant, Template


def _window(text: str | None) -> Window | None:
    return parse_window(text) if text else None


def schedule_of(spec: ScheduleSpec) -> Schedule:
    return Schedule(
        weekly={
            WEEKDAYS.index(day): tuple(parse_window(w) for w in windows)
            for day, windows in spec.weekly.items()
        },
        cycle=Cycle(
            spec.cycle.on, spec.cycle.off, spec.cycle.anchor, _window(spec.cycle.window)
        )
        if spec.cycle
        else None,
        free=spec.free,
        dates=tuple(DatedWindow(d.date, _window(d.window)) for d in spec.dates),
        exceptions=tuple(DateRange(e.from_, e.to, e.reason) for e in spec.exceptions),
    )


def template_of(spec: TemplateSpec) -> Template:
    fallback = (
        spec.when_nobody.user if isinstance(spec.when_nobody, FallbackUser) else None
    )
    return Template(
        id=spec.id,
        match=Match(
            channels=frozenset(spec.match.channels),
            channels_except=frozenset(spec.match.channels_except),
            pipelines=frozenset(spec.match.pipelines),
            tags=frozenset(spec.match.tags),
        ),
        days=frozenset(WEEKDAYS.index(d) for d in spec.days),
        window=_window(spec.window),
        participants=tuple(Participant(p.user, p.weight) for p in spec.participants),
        algorithm=spec.algorithm,
        fallback_algorithm=spec.fallback_algorithm,
        respect_limits=spec.respect_limits,
        target_stage=spec.target_stage,
        hold=fallback is None,
        fallback_user=fallback,
        reassign_after_minutes=spec.reassign_after_minutes,
    )


__all__ = ["LeadFacts", "schedule_of", "template_of"]
