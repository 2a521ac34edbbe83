"""The proposal next to what happened: per manager, per template, in names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from leadrouter.workspace import TemplateSpec, Workspace
from services.assigner.whatif.tally import BUTTON, HELD, Side

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class Figures:
    """One manager's figures on one side."""

    leads: int = 0  # inbox leads push placed with them first
    held: int = 0  # of those, the ones that waited first
    sla: int = 0  # leads they received by SLA reassignment
    handovers: int = 0  # leads they received at someone's shift end
    claimed: int = 0  # presses that took a lead
    refused: Mapping[str, int] = field(default_factory=dict)  # limit -> presses


def figures(side: Side, user: str) -> Figures:
    return Figures(
        leads=side.placed.get(user, 0),
        held=side.held_by_user.get(user, 0),
        sla=side.sla.get(user, 0),
        handovers=side.handovers.get(user, 0),
        claimed=side.claimed.get(user, 0),
        refused=dict(side.refused.get(user, {})),
    )


@dataclass(frozen=True)
class ManagerRow:
    user: str
    name: str
    proposed: Figures
    actual: Figures | None
    proposed_share: float  # of the leads pushed by a template, 0..1
    actual_share: float
    ideal_share: float  # by the proposed templates' weights, over proposed pushes
    actual_ideal_share: float  # the same weights over what was really pushed


@dataclass(frozen=True)
class TemplateRow:
    id: str
    name: str
    window: str  # "Mon–Fri 09:00–16:00"; "" for one the proposal does not have
    proposed: Mapping[str, int]  # user -> first placements
    actual: Mapping[str, int]
    max_deviation: float | None  # leads off the ideal weighted share (proposal)


@dataclass(frozen=True)
class WhatIfResult:
    proposed: Side
    actual: Side | None  # None: the journal was not given
    managers: tuple[ManagerRow, ...]
    templates: tuple[TemplateRow, ...]
    fairness: float | None  # max |share - ideal share| over managers, 0..1
    actual_fairness: float | None
    # user -> limit -> intervals (UTC) in which that limit would refuse them
    blocked: Mapping[str, Mapping[str, tuple[Span, ...]]]
    names: Mapping[str, str]  # user -> name

    def name(self, user: str) -> str:
        return self.names.get(user, user)

    @property
    def blocked_hours(self) -> dict[str, dict[str, float]]:
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
                    last = (e - timedelta(microseconds=1)).astimezone(tz).date()
                    while day <= last:
                        days.add(day)
                        day += timedelta(days=1)
                out.setdefault(user, {})[limit] = sorted(days)
        return out

    def differences(self) -> list[str]:
        """Where the two sides differ, a line each ([] = the same, or no journal)."""
        if self.actual is None:
            return []
        out = [
            f"{m.name}: proposed {m.proposed}, actual {m.actual}"
            for m in self.managers
            if m.proposed != m.actual
        ]
        for bucket in (BUTTON, HELD):
            p, a = (
                self.proposed.placed.get(bucket, 0),
                self.actual.placed.get(bucket, 0),
            )
            if p != a:
                out.append(f"{bucket}: proposed {p}, actual {a}")
        if self.proposed.held != self.actual.held:
            out.append(
                f"held: proposed {self.proposed.held}, actual {self.actual.held}"
            )
        for lead, placed in self.proposed.first.items():
            if self.actual.first.get(lead) != placed:
                out.append(
                    f"lead {lead}: proposed {placed}, "
                    f"actual {self.actual.first.get(lead)}"
                )
        return out


def _hours(spans: tuple[Span, ...]) -> float:
    return round(sum((e - s).total_seconds() for s, e in spans) / 3600, 2)


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


def result(
    ws: Workspace,
    proposed: Side,
    actual: Side | None,
    blocked: Mapping[str, Mapping[str, list[Span]]],
    names: Mapping[str, str],
) -> WhatIfResult:
    known = {**names, **{u.id: u.name for u in ws.users if u.name}}
    weights = {t.id: {p.user: p.weight for p in t.participants} for t in ws.templates}
    ideal, counts, n = _ideal(weights, proposed.by_template)
    a_by = actual.by_template if actual else {}
    a_ideal, a_counts, a_n = _ideal(weights, a_by)
    people = set(proposed.placed) | set(proposed.claimed) | set(proposed.refused)
    people |= set(proposed.sla) | set(proposed.handovers) | set(ideal)
    if actual is not None:
        people |= set(actual.placed) | set(actual.claimed) | set(actual.refused)
        people |= set(actual.sla) | set(actual.handovers) | set(a_ideal)
    users = sorted(people - {BUTTON, HELD}, key=lambda u: (known.get(u, u), u))
    managers = tuple(
        ManagerRow(
            user=u,
            name=known.get(u, u),
            proposed=figures(proposed, u),
            actual=figures(actual, u) if actual is not None else None,
            proposed_share=round(counts.get(u, 0) / n, 4) if n else 0.0,
            actual_share=round(a_counts.get(u, 0) / a_n, 4) if a_n else 0.0,
            ideal_share=round(ideal.get(u, 0.0) / n, 4) if n else 0.0,
            actual_ideal_share=round(a_ideal.get(u, 0.0) / a_n, 4) if a_n else 0.0,
        )
        for u in users
    )
    specs = {t.id: t for t in ws.templates}
    ids = list(specs) + [t for t in a_by if t not in specs]
    templates = tuple(
        TemplateRow(
            id=t,
            name=(specs[t].name or t) if t in specs else t,
            window=window_label(specs[t]) if t in specs else "",
            proposed=proposed.by_template.get(t, {}),
            actual=a_by.get(t, {}),
            max_deviation=_max_deviation(weights[t], proposed.by_template.get(t, {}))
            if t in specs
            else None,
        )
        for t in ids
    )
    return WhatIfResult(
        proposed=proposed,
        actual=actual,
        managers=managers,
        templates=templates,
        fairness=_fairness(ideal, counts, n),
        actual_fairness=_fairness(a_ideal, a_counts, a_n),
        blocked={
            u: {limit: tuple(s) for limit, s in sorted(limits.items())}
            for u, limits in sorted(blocked.items())
        },
        names={u: known.get(u, u) for u in users},
    )


def _max_deviation(weights: dict[str, int], counts: Mapping[str, int]) -> float:
    total, weight = sum(counts.values()), sum(weights.values())
    if not total or not weight:
        return 0.0
    return max(abs(counts.get(u, 0) - total * w / weight) for u, w in weights.items())


def _ideal(
    weights: dict[str, dict[str, int]], by_template: Mapping[str, Mapping[str, int]]
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
