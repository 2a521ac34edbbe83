"""Whether a press of the button may take a lead: who presses, then the limits.

The claim itself (the oldest lead of the pool, taken once) is the crm's; this
is the rule the assigner and what-if both apply before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.assigner.engine.reasons import MEMBERSHIP_REFUSALS, Membership, Reason


def refusals(
    membership: Membership, verdicts: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The press's reasons to refuse, as the journal stores them ([] = go on).

    Someone not an enabled member is refused for that alone; a member for
    each failing limit, with its verdict.
    """
    refused = MEMBERSHIP_REFUSALS.get(membership)
    if refused is not None:
        return [{"code": refused}]
    return [
        {"code": Reason.LIMIT, "verdict": v} for v in verdicts if not v.get("passed")
    ]


def counted_as(reason: dict[str, Any]) -> str:
    """What what-if counts a refusal under: the limit's name, or the code."""
    if reason["code"] == Reason.LIMIT:
        return str(reason["verdict"]["limit"])
    return str(reason["code"])


# A press refused because the pool was empty was not refused by a limit: the
# limits let the manager press, there was just nothing to take.
NOT_A_LIMIT = frozenset({Reason.POOL_EMPTY})
