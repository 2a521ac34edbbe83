"""What one attempt depends on: the lead, the duty, the limits' verdicts.

The attempt (`attempt.plan`) and its journal account (`explain`) both read
it, so it sits below both of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.assigner.engine.reasons import Membership, Trigger
from services.assigner.engine.rotation import Link
from services.scheduler.templates import Template


@dataclass(frozen=True)
class Duty:
    """A participant's schedule state at the moment of the attempt."""

    working: bool
    online: bool
    on_duty: bool


@dataclass(frozen=True)
class Verdict:
    """What the limits said about one on-duty participant."""

    membership: Membership
    passed: bool  # every enabled limit passes
    limits: tuple[Mapping[str, Any], ...] = ()  # each limit as the journal shows it
    eligible: bool = field(init=False)

    def __post_init__(self) -> None:
        # Limits are per (group, member): someone not an enabled member has
        # none to fail.
        eligible = self.passed or self.membership != Membership.ENABLED
        object.__setattr__(self, "eligible", eligible)


@dataclass(frozen=True)
class LeadFacts:
    """The lead as push sees it at the attempt."""

    id: str
    channel: str
    pipeline: str
    stage: str  # pipeline/stage
    tags: tuple[str, ...] = ()
    responsible: str = ""


@dataclass(frozen=True)
class GroupFacts:
    """The group whose source stages held the lead on arrival: its limits apply."""

    id: str
    cascade: bool = False


@dataclass(frozen=True)
class Situation:
    """Everything one attempt depends on; `plan` reads nothing else."""

    account: str
    trigger: Trigger
    lead: LeadFacts
    template: Template | None  # the first template taking the lead now
    next_opening: datetime | None = None  # when none does: when one will
    duty: Mapping[str, Duty] = field(default_factory=dict)  # the participants'
    group: GroupFacts | None = None
    verdicts: Mapping[str, Verdict] = field(default_factory=dict)
    assignee: str = ""  # who has the lead now (push gave it to them)
    skipped: frozenset[str] = frozenset()  # who let it sit before (SLA)
    attempt: int = 0  # attempts reserved for this lead so far
    open_leads: Mapping[str, int] = field(default_factory=dict)
    links: Sequence[Link] = ()
    actor: str = ""

    @property
    def holder(self) -> str:
        """Whom a reassignment takes the lead from ("" for a first placement)."""
        return self.assignee if self.trigger in (Trigger.SLA, Trigger.HANDOVER) else ""
