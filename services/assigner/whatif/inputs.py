"""What the replay reads besides the CRM's events: the journal's decisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ClaimPress:
    """A press of the button, as the journal recorded it."""

    at: datetime
    user: str
    group: str
    outcome: str = ""  # claimed | refused, as it happened ("" when unknown)
    reasons: tuple[dict[str, Any], ...] = ()  # why it was refused, as journaled
    lead: str = ""  # the lead it took, as it happened


@dataclass(frozen=True)
class PushRecord:
    """A push decision: what happened to a lead push handled, and why."""

    at: datetime
    lead: str
    outcome: str  # assigned | held | kept | refused
    template: str
    user: str
    trigger: str = ""  # arrival | on_demand | queue | sla | handover | recovery
    target_stage: str = ""  # where the assignment moved the lead ("" = nowhere)
