"""The tick: what push looks at again as time passes, and in which order.

One round, at one instant: the waiting leads (oldest first), then the SLA
timers that ran out, then the leads of assignees who went off duty. Live
push runs a round every few seconds; what-if runs one at every instant of
the replay where one of them can change something.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

from services.assigner.engine import lifecycle
from services.assigner.engine.lifecycle import PushRow
from services.assigner.engine.reasons import Outcome, Trigger
from services.assigner.engine.situation import LeadFacts

ROUNDS = (Trigger.QUEUE, Trigger.SLA, Trigger.HANDOVER)


def leaves_queue(row: PushRow, lead: LeadFacts | None, is_open: bool) -> str:
    """Why a waiting lead is no longer push's to place ('' if it still is).

    A lead that waits after an assignment (SLA or a shift's end found nobody
    to take it) stays with its holder meanwhile; once they move it on, it is
    in work, and giving it away would move it back to the target stage.
    """
    if lead is None or not is_open:
        return "closed or gone"
    if lead.responsible != row.expected_owner:
        return f"taken by {lead.responsible}"
    if lifecycle.watches_work(row) and lead.stage != row.assigned_stage:
        return "taken into work: the stage changed"
    return ""


@dataclass
class QueueRound:
    """The queue's round: once a lead of a kind finds nobody, that kind waits.

    Leads of one kind (channel, pipeline, tags, group) meet the same template
    and the same people at one instant, so the rest of them would fare alike.
    """

    stuck: set[Hashable] = field(default_factory=set)

    @staticmethod
    def kind(lead: LeadFacts, group_id: str) -> Hashable:
        return (lead.channel, lead.pipeline, *sorted(lead.tags), group_id)

    def tries(self, lead: LeadFacts, group_id: str) -> bool:
        return self.kind(lead, group_id) not in self.stuck

    def tried(self, lead: LeadFacts, group_id: str, outcome: str | None) -> None:
        if outcome != Outcome.ASSIGNED:
            self.stuck.add(self.kind(lead, group_id))
