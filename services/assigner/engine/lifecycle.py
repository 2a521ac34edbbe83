"""How a lead moves through push: waiting, being assigned, assigned, done.

The transitions are plain functions over a row with the columns of
`push_leads`: the store applies them to the locked row in its transaction,
what-if to its own record of each replayed lead. So "what SLA skips next
time", "when the timer fires" and "which wait is news for the journal" are
decided once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from leadrouter.timestamps import utc
from services.assigner.engine.reasons import Trigger

WAITING, ASSIGNING, ASSIGNED, DONE = "waiting", "assigning", "assigned", "done"


class PushRow(Protocol):
    """The columns of a lead in push (services/assigner/tables.py, PushLead)."""

    state: str
    attempt: int
    expected_owner: str
    wait_reason: str
    waiting_since: datetime | None
    template_id: str
    assignee: str
    assigned_at: datetime | None
    assigned_stage: str
    watched: bool
    reassign_at: datetime | None
    skipped: str
    pending: str
    pending_since: datetime | None
    done_reason: str


def movable(row: PushRow, attempt: int) -> bool:
    """Whether the lead is still where a caller that read `attempt` saw it."""
    return row.attempt == attempt and row.state in (WAITING, ASSIGNED)


def reserve(row: PushRow, now: datetime, pending: str) -> int:
    """Takes the next attempt; its crm operation id is push:<lead>:<attempt>."""
    row.state = ASSIGNING
    row.attempt += 1
    row.pending = pending
    row.pending_since = now
    return row.attempt


def skipped_users(row: PushRow) -> frozenset[str]:
    if not row.skipped or row.skipped == "[]":
        return frozenset()
    return frozenset(json.loads(row.skipped))


def complete(
    row: PushRow,
    *,
    trigger: str,
    user: str,
    template_id: str,
    watched: bool,
    reassign_after_minutes: int | None,
    at: datetime,
    assigned_stage: str,
) -> None:
    """The crm gave the lead to `user`: watched by SLA and handover if `watched`."""
    if trigger == Trigger.SLA and row.assignee:
        # Who let it sit is passed over by the next SLA reassignments.
        skipped = json.loads(row.skipped or "[]")
        if row.assignee not in skipped:
            row.skipped = json.dumps([*skipped, row.assignee])
    row.state = ASSIGNED
    row.template_id = template_id
    row.assignee = user
    row.expected_owner = user
    row.assigned_at = at
    row.assigned_stage = assigned_stage
    row.watched = watched
    row.reassign_at = (
        at + timedelta(minutes=reassign_after_minutes)
        if watched and reassign_after_minutes
        else None
    )
    row.wait_reason = ""
    row.waiting_since = None
    row.pending = "{}"
    row.pending_since = None


def give_back(row: PushRow, reason: str) -> None:
    """The crm refused the attempt (someone else has the lead): push lets go."""
    row.state = DONE
    row.done_reason = reason
    row.pending = "{}"
    row.pending_since = None


def hold(row: PushRow, now: datetime, reason: str) -> bool:
    """The lead waits (again); True when that is news for the journal.

    News is starting to wait, or waiting for another reason; every later
    round of the queue that finds the same adds nothing.
    """
    news = row.state != WAITING or row.wait_reason != reason
    if news:
        row.waiting_since = now
    row.state = WAITING
    row.wait_reason = reason
    row.watched = False
    row.reassign_at = None
    return news


def rearm(row: PushRow, reassign_at: datetime) -> None:
    """SLA found nobody else on duty: the lead stays, the timer restarts."""
    row.reassign_at = reassign_at


def finish(row: PushRow, reason: str) -> None:
    """Push lets the lead go: taken into work, closed, or taken by someone."""
    row.state = DONE
    row.done_reason = reason
    row.watched = False
    row.reassign_at = None


@dataclass(frozen=True)
class Work:
    """Where a lead stands, and how many of its tasks were done since assigned."""

    found: bool
    open: bool = True
    responsible: str = ""
    stage: str = ""  # pipeline/stage
    tasks_completed: int = 0


def untouched(row: PushRow, work: Work) -> str:
    """'' if the assignee has not taken the lead into work; else why push lets go."""
    if not work.found:
        return "the lead no longer exists"
    if not work.open:
        return "closed"
    if work.responsible != row.assignee:
        return f"now belongs to {work.responsible}"
    if work.stage != row.assigned_stage:
        return "taken into work: the stage changed"
    if work.tasks_completed:
        return "taken into work: a task was completed"
    return ""


def watches_work(row: PushRow) -> bool:
    """Whether the assignee taking the lead into work makes push let it go.

    An assignment push watches, and also one that went back into
    distribution (SLA or a shift's end) and waits because nobody could take
    it: its holder still has it, and once they work it, it is theirs, not the
    queue's to give away and move back to the target stage.
    """
    if row.state == ASSIGNED:
        return row.watched
    return row.state == WAITING and bool(row.assignee) and row.assigned_at is not None


def own_change(row: PushRow, at: datetime) -> bool:
    """A change at or before the assignment is the assignment's own event."""
    return row.assigned_at is not None and at <= utc(row.assigned_at)


def sla_due(row: PushRow, now: datetime) -> bool:
    """Whether the lead's SLA timer has run out at `now`."""
    return row.reassign_at is not None and utc(row.reassign_at) <= now
