"""The pace limits end to end: the interval between claims and new leads a day."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.e2e.limits_history import (
    History,
    apply,
    claim,
    limit,
    local,
    refusal,
    verdict,
    workspace,
)
from tests.stack import Stack

# The stack's clock: Monday 2 November 2026, 10:00 in Tomsk.
MONDAY = local("2026-11-02 10:00")
TUESDAY = local("2026-11-03 00:00")


async def test_interval_minutes_counts_from_the_last_successful_claim(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await apply(stack, workspace({"ursula": {"interval_minutes": 10}}))
    history = History()
    for lead in ("P1", "P2"):
        history.lead(lead, MONDAY - timedelta(days=1), owner="pool")
    await history.load(stack, tmp_path)

    assert await limit(stack, "ursula", "interval_minutes") == verdict(None, 10, True)
    assert (await claim(stack, "ursula"))["__typename"] == "Claimed"
    ready = MONDAY + timedelta(minutes=10)

    stack.clock.advance(timedelta(minutes=9, seconds=59))
    assert await claim(stack, "ursula") == {
        "__typename": "Refused",
        "reasons": [refusal("interval_minutes", 9, 10, ready)],
    }
    # The refused press does not restart the interval.
    stack.clock.set(ready)
    assert await limit(stack, "ursula", "interval_minutes") == verdict(10, 10, True)
    assert (await claim(stack, "ursula"))["__typename"] == "Claimed"
    assert await limit(stack, "ursula", "interval_minutes") == verdict(
        0, 10, False, ready + timedelta(minutes=10)
    )


async def test_max_new_today_counts_each_lead_once_even_after_going_back_and_forth(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await apply(
        stack,
        workspace(
            {"ursula": {"max_new_today": 5}, "nadezhda": {"max_new_today": 5}},
            counting={"excluded_stages": ["sales/parked"]},
        ),
    )
    midnight = local("2026-11-02 00:00")
    yesterday = MONDAY - timedelta(days=1)
    await (
        History()
        .lead("P1", yesterday, owner="pool")
        # Created with her exactly at local midnight: today.
        .lead("N1", midnight, owner="ursula", stage="taken")
        # A minute before midnight: yesterday.
        .lead("Y1", midnight - timedelta(minutes=1), owner="ursula", stage="taken")
        # Given to her, taken back, given again: one lead.
        .lead("B1", yesterday, owner="pool")
        .hand("B1", local("2026-11-02 08:00"), "ursula")
        .hand("B1", local("2026-11-02 08:30"), "pool")
        .hand("B1", local("2026-11-02 09:00"), "ursula")
        # Hers for ten minutes, now Nadezhda's: both became responsible today.
        .lead("C1", yesterday, owner="pool")
        .hand("C1", local("2026-11-02 09:10"), "ursula")
        .hand("C1", local("2026-11-02 09:20"), "nadezhda")
        # Another pipeline counts too.
        .lead("R1", local("2026-11-02 09:30"), owner="ursula", pipeline="rentals")
        # An excluded stage and an archived pipeline count in no limit.
        .lead("X1", local("2026-11-02 09:40"), owner="ursula", stage="parked")
        .lead(
            "O1",
            local("2026-11-02 09:50"),
            owner="ursula",
            pipeline="old",
            stage="open",
        )
        .load(stack, tmp_path)
    )
    assert await limit(stack, "ursula", "max_new_today") == verdict(4, 5, True)
    assert await limit(stack, "nadezhda", "max_new_today") == verdict(1, 5, True)

    # A claimed lead is a new lead too; the fifth one blocks until midnight.
    assert (await claim(stack, "ursula"))["__typename"] == "Claimed"
    assert await limit(stack, "ursula", "max_new_today") == verdict(
        5, 5, False, TUESDAY
    )
    assert await claim(stack, "ursula") == {
        "__typename": "Refused",
        "reasons": [refusal("max_new_today", 5, 5, TUESDAY)],
    }
    assert await limit(stack, "ursula", "max_new_today", at=TUESDAY) == verdict(
        0, 5, True
    )
