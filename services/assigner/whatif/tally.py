"""Counting one side of a comparison from its decisions, manager by manager.

The proposal's side is counted from the decisions the replay made, the
actual side from the journal's; one function counts both, so an unchanged
workspace gives two equal sides exactly when the replay decided as
production did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from services.assigner.engine.press import NOT_A_LIMIT, counted_as
from services.assigner.engine.reasons import Outcome, Trigger
from services.assigner.whatif.inputs import ClaimPress, PushRecord

BUTTON = "(button)"  # no template took the lead: it was left for the button
HELD = "(held)"  # still waiting when the range ends


@dataclass(frozen=True)
class Held:
    """Leads that waited on arrival: no template open, or nobody on duty."""

    leads: int = 0
    total_minutes: int = 0
    max_minutes: int = 0


@dataclass(frozen=True)
class Side:
    """What happened to the range's inbox leads and presses on one side."""

    placed: dict[str, int]  # user, BUTTON or HELD -> leads, by first placement
    by_template: dict[str, dict[str, int]]  # template -> user -> first placements
    held: Held
    held_by_user: dict[str, int]  # leads that waited first, by who got them
    sla: dict[str, int]  # SLA reassignments, by who received the lead
    handovers: dict[str, int]  # shift handovers, by who received the lead
    presses: int
    claimed: dict[str, int]  # presses that took a lead, per user
    refused: dict[str, dict[str, int]]  # user -> limit or code -> presses
    refused_presses: int  # refused by a limit or for who pressed (not pool_empty)
    first: dict[str, str] = field(default_factory=dict)  # lead -> first placement

    @property
    def sla_total(self) -> int:
        return sum(self.sla.values())

    @property
    def handovers_total(self) -> int:
        return sum(self.handovers.values())


def count(
    pushes: Iterable[PushRecord],
    presses: Iterable[ClaimPress],
    inbox: Mapping[str, datetime],
    end: datetime,
) -> Side:
    """One side over the inbox leads (lead -> arrival) and presses of a range."""
    first: dict[str, PushRecord] = {}
    waited: set[str] = set()
    seen: set[str] = set()
    by_template: dict[str, dict[str, int]] = {}
    sla: dict[str, int] = {}
    handovers: dict[str, int] = {}
    for p in pushes:
        if p.lead not in inbox:
            continue
        if p.lead not in first and p.outcome == Outcome.HELD and p.lead not in seen:
            waited.add(p.lead)
        seen.add(p.lead)
        if p.outcome != Outcome.ASSIGNED:
            continue
        if p.lead not in first:
            first[p.lead] = p
            per_user = by_template.setdefault(p.template, {})
            per_user[p.user] = per_user.get(p.user, 0) + 1
        elif p.trigger == Trigger.SLA:
            sla[p.user] = sla.get(p.user, 0) + 1
        elif p.trigger == Trigger.HANDOVER:
            handovers[p.user] = handovers.get(p.user, 0) + 1
    placed: dict[str, str] = {}
    for lead in inbox:
        if lead in first:
            placed[lead] = first[lead].user
        else:
            placed[lead] = HELD if lead in seen else BUTTON
    waits = [
        ((first[lead].at if lead in first else end) - inbox[lead]).total_seconds()
        for lead in waited
    ]
    held_by_user: dict[str, int] = {}
    for lead in waited:
        if lead in first:
            user = first[lead].user
            held_by_user[user] = held_by_user.get(user, 0) + 1
    n, claimed, refused, refused_presses = _presses(presses)
    return Side(
        placed=_counts(placed.values()),
        by_template={
            t: dict(sorted(u.items())) for t, u in sorted(by_template.items())
        },
        held=Held(len(waited), int(sum(waits) // 60), int(max(waits, default=0) // 60)),
        held_by_user=dict(sorted(held_by_user.items())),
        sla=dict(sorted(sla.items())),
        handovers=dict(sorted(handovers.items())),
        first=dict(sorted(placed.items())),
        presses=n,
        claimed=claimed,
        refused=refused,
        refused_presses=refused_presses,
    )


def _presses(
    presses: Iterable[ClaimPress],
) -> tuple[int, dict[str, int], dict[str, dict[str, int]], int]:
    n = refused_presses = 0
    claimed: dict[str, int] = {}
    refused: dict[str, dict[str, int]] = {}
    for p in presses:
        n += 1
        if p.outcome == Outcome.CLAIMED:
            claimed[p.user] = claimed.get(p.user, 0) + 1
            continue
        codes = [counted_as(r) for r in p.reasons if r["code"] not in NOT_A_LIMIT]
        if codes:
            refused_presses += 1
        per = refused.setdefault(p.user, {}) if codes else {}
        for code in codes:
            per[code] = per.get(code, 0) + 1
    return (
        n,
        dict(sorted(claimed.items())),
        {u: dict(sorted(c.items())) for u, c in sorted(refused.items())},
        refused_presses,
    )


def _counts(values: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return dict(sorted(out.items()))
