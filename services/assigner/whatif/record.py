"""Recording a past: the engine decides a stream of arrivals, work and presses.

The stream says what people and partner systems did: leads arriving in the
inbox, managers moving leads and doing tasks, presses of the button. The
replay's clock runs it with the workspace as push and the limits would have
run it live, and what they did becomes part of the history: each
assignment's owner and stage change, each claim's lead (the oldest of the
pool, as the crm gives it), and the journal's decisions, with the rows and
rotations push keeps. So a generated account (the demo) is a true record of
what the product would have done.

A task in the stream may name its owner as OWNER: the owner of its lead at
that moment, whoever the engine made that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from leadrouter.workspace import Workspace
from services.assigner.engine import press as press_rule
from services.assigner.engine.reasons import Outcome, Reason
from services.assigner.engine.rotation import RotationState
from services.assigner.whatif.account import Lead
from services.assigner.whatif.distribution import Journaled, Row
from services.assigner.whatif.inputs import ClaimPress
from services.assigner.whatif.limits import membership
from services.assigner.whatif.replay import _Replay
from services.crm import history as h

OWNER = "(owner)"


@dataclass(frozen=True)
class Pressed:
    """A press of the button as the journal keeps it."""

    press: ClaimPress
    details: dict[str, Any]


@dataclass
class Recorded:
    events: list[h.CanonicalEvent]  # the whole history, in the order it happened
    journal: list[Journaled | Pressed]  # in the order decided
    rows: dict[str, Row]  # push's leads as the last decision left them
    rotations: dict[str, RotationState]
    last_claims: dict[tuple[str, str], datetime] = field(default_factory=dict)


class _Recorder(_Replay):
    def __init__(
        self, ws: Workspace, tz: ZoneInfo, start: datetime, end: datetime, account: str
    ) -> None:
        super().__init__(ws, tz, start, end, account)
        self.events: list[h.CanonicalEvent] = []
        self.journal: list[Journaled | Pressed] = []
        self.push.explain = True
        self.push.journal = self.journal  # type: ignore[assignment]
        self.push.on_given = self._given

    def _apply(self, e: h.CanonicalEvent, in_range: bool) -> None:
        if isinstance(e, h.TaskCreated) and e.responsible == OWNER:
            lead = self.account.leads.get(e.lead or "")
            owner = lead.responsible if lead is not None else OWNER
            e = e.model_copy(update={"responsible": owner})
        self.events.append(e)
        super()._apply(e, in_range)

    def _given(self, lead: Lead, at: datetime, previous: str, moved_to: str) -> None:
        """An assignment's owner and stage change, as the crm would log them."""
        if lead.responsible != previous:
            self.events.append(
                h.ResponsibleChanged(
                    type="responsible_changed", at=at, lead=lead.id, to=lead.responsible
                )
            )
        if moved_to:
            pipeline, stage = moved_to.split("/", 1)
            self.events.append(
                h.StageChanged(
                    type="stage_changed",
                    at=at,
                    lead=lead.id,
                    to=stage,
                    pipeline=pipeline if pipeline != lead.pipeline else None,
                )
            )

    def _press(self, c: ClaimPress) -> None:
        group = self.groups.get(c.group)
        verdicts = [
            {
                "limit": v.limit,
                "value": v.value,
                "threshold": v.threshold,
                "passed": v.passed,
                "passes_at": v.passes_at.isoformat() if v.passes_at else None,
            }
            for v in (self.limits.verdicts(group, c.user, c.at) if group else [])
        ]
        reasons = press_rule.refusals(membership(group, c.user), verdicts)
        taken: Lead | None = None
        if not reasons and group is not None:
            taken = self._oldest_in_pool(group.source_stages, group.exchange_users)
            if taken is None:
                reasons = [{"code": Reason.POOL_EMPTY}]
        details: dict[str, Any] = {"limits": verdicts}
        if taken is not None and group is not None:
            previous = taken.responsible
            self.account.give(taken, c.user, c.at)
            target = group.target_stage or ""
            moved = bool(target) and target != taken.stage
            if moved:
                self.account.move(taken, target, c.at)
            self._given(taken, c.at, previous, target if moved else "")
            self.limits.claimed(c.group, c.user, c.at)
            details.update(target_stage=group.target_stage, cascade=group.cascade)
        outcome = Outcome.CLAIMED if taken is not None else Outcome.REFUSED
        pressed = ClaimPress(
            c.at, c.user, c.group, outcome, tuple(reasons), taken.id if taken else ""
        )
        self.presses.append(pressed)
        self.journal.append(Pressed(pressed, details))

    def _oldest_in_pool(self, sources: list[str], owners: list[str]) -> Lead | None:
        """The crm's claim: the oldest lead (by created_at, then id) of the pool."""
        found = [
            lead
            for owner in owners
            for lead in (
                self.account.leads[i] for i in self.account.held_in(owner, sources)
            )
            if self.account.is_open(lead)
        ]
        return min(found, key=lambda x: (x.created_at, x.id), default=None)


def record(
    ws: Workspace,
    tz: ZoneInfo,
    stream: list[h.CanonicalEvent],
    presses: list[ClaimPress],
    *,
    start: datetime,
    end: datetime,
    account: str,
) -> Recorded:
    """The stream before `end`, decided by the engine from `start` on."""
    r = _Recorder(ws, tz, start, end, account)
    r.run(
        [e for e in stream if e.at < end],
        sorted((p for p in presses if start <= p.at < end), key=lambda p: p.at),
        [],
    )
    return Recorded(
        events=r.events,
        journal=r.journal,
        rows=r.push.rows,
        rotations=r.push.rotations,
        last_claims=dict(r.limits.last_claim),
    )


def reasons_json(reasons: Any) -> str:
    return json.dumps([dict(x) for x in reasons], default=str)
