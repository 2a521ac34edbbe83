"""One try to place a pushed lead now: the template, who is on duty, the limits.

The caller gathers the facts (live: from the scheduler, limits and crm; what-if:
from the replayed history) into a `Situation` and asks `plan()`. The answer is
what to do: hold the lead (`Hold`), leave it with its holder and restart the
SLA timer (`Keep`), give it to the template's fallback user (`Give`), or take
the template's next turn (`Rotate`, whose `pick()` runs under the rotation's
lock with the stored rotation state).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Any, TypeAlias

from services.assigner.engine import explain
from services.assigner.engine.reasons import Reason, Trigger
from services.assigner.engine.rotation import Pick, RotationState, Seat, pick
from services.assigner.engine.situation import Duty, GroupFacts, Situation, Verdict
from services.scheduler.templates import Template


def on_duty(template: Template, duty: Mapping[str, Duty]) -> list[str]:
    """The template's participants on duty, in its order."""
    return [
        p.user
        for p in template.participants
        if (d := duty.get(p.user)) is not None and d.on_duty
    ]


def needs_verdicts(
    template: Template, group: GroupFacts | None, duty: Mapping[str, Duty]
) -> bool:
    """Whether the limits must be asked about the on-duty participants."""
    return (
        template.respect_limits and group is not None and bool(on_duty(template, duty))
    )


def seats(
    template: Template, duty: Mapping[str, Duty], verdicts: Mapping[str, Verdict]
) -> list[Seat]:
    """The on-duty participants the limits let take a lead, in template order."""
    return [
        _seat(p.user, p.weight)
        for p in template.participants
        if (d := duty.get(p.user)) is not None
        and d.on_duty
        and ((v := verdicts.get(p.user)) is None or v.eligible)
    ]


@cache
def _seat(user: str, weight: int) -> Seat:
    return Seat(user, weight)


def takers(
    pool: Sequence[Seat], trigger: Trigger, assignee: str, skipped: frozenset[str]
) -> frozenset[str]:
    """Who of the seats may take this lead: a reassignment skips its holder,
    and SLA also skips who let it sit before, unless that leaves nobody."""
    seated = {x.user for x in pool}
    holder = assignee if trigger in (Trigger.SLA, Trigger.HANDOVER) else ""
    passed = skipped if trigger == Trigger.SLA else frozenset()
    allowed = seated - passed - {holder}
    if not allowed and trigger == Trigger.SLA:
        # Everyone on duty already let it sit: only the holder is skipped now.
        allowed = seated - {holder}
    return frozenset(allowed)


def needs_open_leads(template: Template) -> bool:
    return template.algorithm == "least_loaded" or (
        template.algorithm == "linked" and template.fallback_algorithm == "least_loaded"
    )


def needs_links(template: Template) -> bool:
    return template.algorithm == "linked"


def _draws(template: Template) -> bool:
    """Whether the template's pick may draw at random (seeding costs time)."""
    return "random" in (template.algorithm, template.fallback_algorithm)


def draw_seed(account: str, template_id: str, lead_id: str, attempt: int) -> str:
    """The random draw of an attempt: the same inputs draw the same participant."""
    return f"{account}:{template_id}:{lead_id}:{attempt}"


@dataclass(frozen=True)
class Hold:
    """The lead waits: no template takes it, or nobody of it may."""

    reason: Reason
    template_id: str = ""
    algorithm: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Keep:
    """SLA with nobody else on duty: the lead stays, its timer starts again."""

    holder: str
    template_id: str
    algorithm: str
    rearm_after: timedelta
    reason: Reason = Reason.NOBODY_ELSE_ON_DUTY
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Give:
    """The lead goes to `user`: a reserved attempt, finished by the CRM change."""

    user: str
    template_id: str
    algorithm: str
    target_stage: str
    cascade: bool
    watched: bool  # SLA and handover watch it (not for a fallback user)
    reassign_after_minutes: int | None
    rotated: bool  # counted in the template's rotation
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rotate:
    """The template's next turn among `pool`; `pick` decides under the lock."""

    situation: Situation
    template: Template
    pool: tuple[Seat, ...]
    allowed: frozenset[str]
    explain: bool = True

    def pick(self, state: RotationState) -> tuple[Give, RotationState]:
        s, t = self.situation, self.template
        chosen = pick(
            t.algorithm,
            state,
            self.pool,
            allowed=self.allowed,
            open_leads=s.open_leads,
            links=s.links,
            fallback_algorithm=t.fallback_algorithm,
            rng=random.Random(draw_seed(s.account, t.id, s.lead.id, s.attempt + 1))
            if _draws(t)
            else None,
            explain=self.explain,
        )
        given = Give(
            user=chosen.user,
            template_id=t.id,
            algorithm=t.algorithm,
            target_stage=t.target_stage or "",
            cascade=s.group.cascade if s.group else False,
            watched=True,
            reassign_after_minutes=t.reassign_after_minutes,
            rotated=True,
            details=self._picked(chosen) if self.explain else {},
        )
        return given, chosen.state

    def _picked(self, chosen: Pick) -> dict[str, Any]:
        details = explain.base(self.situation, self.template, self.pool, self.allowed)
        explain.standings(details["candidates"], chosen)
        details.update(
            winner=chosen.user,
            why=chosen.why,
            decided_by=chosen.algorithm,
            cycle={s.user: chosen.state.counts.get(s.user, 0) for s in self.pool},
            open_leads=dict(self.situation.open_leads) or None,
        )
        return details


Plan: TypeAlias = Hold | Keep | Give | Rotate


def plan(s: Situation, *, explain_it: bool = True) -> Plan:
    """What to do with the lead now. `explain_it=False` skips the journal's
    details (what-if needs the decision only)."""
    t = s.template
    if t is None:
        return Hold(
            Reason.NO_TEMPLATE, details=explain.no_template(s) if explain_it else {}
        )
    pool = tuple(seats(t, s.duty, s.verdicts))
    allowed = takers(pool, s.trigger, s.assignee, s.skipped)
    holder = s.holder
    if allowed:
        return Rotate(s, t, pool, allowed, explain_it)

    def details(**more: Any) -> dict[str, Any]:
        if not explain_it:
            return {}
        out = explain.base(s, t, pool, frozenset())
        out.update(more)
        return out

    if s.trigger == Trigger.SLA and t.reassign_after_minutes:
        return Keep(
            holder,
            t.id,
            t.algorithm,
            timedelta(minutes=t.reassign_after_minutes),
            details=details(why=f"nobody else is on duty: stays with {holder}"),
        )
    if t.fallback_user:
        return Give(
            user=t.fallback_user,
            template_id=t.id,
            algorithm=t.algorithm,
            target_stage=t.target_stage or "",
            cascade=s.group.cascade if s.group else False,
            watched=False,
            reassign_after_minutes=None,
            rotated=False,
            details=details(
                winner=t.fallback_user,
                why=f"nobody is on duty: when_nobody gives it to {t.fallback_user}",
            ),
        )
    why = (
        "nobody of the template is on duty"
        if not on_duty(t, s.duty)
        else "no participant on duty may take it now"
    )
    return Hold(Reason.NOBODY_ON_DUTY, t.id, t.algorithm, details(why=why))
