"""reopenLead (domain.md section 9) and what it does to limits 7 and 8."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.e2e.limits_history import (
    History,
    apply,
    claim,
    eligibility,
    limit,
    local,
    refusal,
    verdict,
    workspace,
)
from tests.stack import Stack

MONDAY = local("2026-11-02 10:00")
TUESDAY = local("2026-11-03 00:00")
REOPEN = """
mutation($id: ID!) {
  reopenLead(leadId: $id) { id pipeline stage responsible closedAt lossReason }
}
"""


def _error_code(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


async def _lost_and_won_leads(stack: Stack, tmp_path: Path) -> None:
    await apply(
        stack, workspace({"ursula": {"max_lost_today": 0, "max_lost_month": 5}})
    )
    long_ago = MONDAY - timedelta(days=20)
    await (
        History()
        .lead("P1", long_ago, owner="pool")
        # Lost today from "Meeting held".
        .lead("L1", long_ago, owner="ursula", stage="taken")
        .move("L1", local("2026-11-02 09:00"), "meeting")
        .move("L1", local("2026-11-02 09:30"), "lost", loss_reason="price")
        # Lost yesterday, this month, from another pipeline.
        .lead("L2", long_ago, owner="ursula", pipeline="rentals")
        .move("L2", local("2026-11-01 18:00"), "refused", loss_reason="no answer")
        # Won after a meeting, then moved on to another won stage.
        .lead("W1", long_ago, owner="ursula", stage="taken")
        .move("W1", local("2026-10-20 12:00"), "meeting")
        .move("W1", local("2026-10-21 12:00"), "won")
        .move("W1", local("2026-10-22 12:00"), "won_internal")
        .load(stack, tmp_path)
    )


async def test_reopening_a_lost_lead_returns_it_to_its_stage_and_out_of_lost_counts(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await _lost_and_won_leads(stack, tmp_path)
    seen = await eligibility(stack, "ursula")
    assert seen.limits["max_lost_today"]["value"] == 1
    assert seen.limits["max_lost_month"]["value"] == 2
    assert await claim(stack, "ursula") == {
        "__typename": "Refused",
        "reasons": [refusal("max_lost_today", 1, 0, TUESDAY)],
    }

    reopened = await stack.data(REOPEN, {"id": "L1"}, user="head", role="admin")
    assert reopened["reopenLead"] == {
        "id": "L1",
        "pipeline": "sales",
        "stage": "meeting",
        "responsible": "ursula",
        "closedAt": None,
        "lossReason": None,
    }
    assert await limit(stack, "ursula", "max_lost_today") == verdict(0, 0, True)
    assert await limit(stack, "ursula", "max_lost_month") == verdict(1, 5, True)

    reopened = await stack.data(REOPEN, {"id": "L2"}, user="head", role="admin")
    assert reopened["reopenLead"]["stage"] == "new"
    assert reopened["reopenLead"]["pipeline"] == "rentals"
    assert await limit(stack, "ursula", "max_lost_month") == verdict(0, 5, True)
    assert (await claim(stack, "ursula"))["__typename"] == "Claimed"

    # Lost again later today: it counts again.
    stack.clock.advance(timedelta(minutes=10))
    await (
        History()
        .move("L1", MONDAY + timedelta(minutes=5), "spam")
        .load(stack, tmp_path)
    )
    assert await limit(stack, "ursula", "max_lost_today") == verdict(
        1, 0, False, TUESDAY
    )


async def test_reopening_a_won_lead_returns_it_to_the_open_stage_before_won(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await _lost_and_won_leads(stack, tmp_path)
    reopened = await stack.data(REOPEN, {"id": "W1"}, user="head", role="admin")
    # Not "meeting", where W1 was last open: from won a lead goes to the last
    # open stage before its won stage in the pipeline (domain.md section 9).
    assert reopened["reopenLead"] == {
        "id": "W1",
        "pipeline": "sales",
        "stage": "parked",
        "responsible": "ursula",
        "closedAt": None,
        "lossReason": None,
    }


async def test_only_an_admin_reopens_and_only_a_closed_lead(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await _lost_and_won_leads(stack, tmp_path)
    body = await stack.gql(REOPEN, {"id": "L1"}, user="ursula", role="manager")
    assert _error_code(body) == "FORBIDDEN"
    body = await stack.gql(REOPEN, {"id": "P1"}, user="head", role="admin")
    assert _error_code(body) == "BAD_USER_INPUT"
    assert "not closed" in body["errors"][0]["message"]
    body = await stack.gql(REOPEN, {"id": "NOPE"}, user="head", role="admin")
    assert _error_code(body) == "NOT_FOUND"
    # Nothing was reopened by the refused attempts.
    seen = await eligibility(stack, "ursula")
    assert seen.limits["max_lost_today"]["value"] == 1
