"""The overdue-task limit end to end: only tasks above the threshold block."""

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


async def test_max_overdue_tasks_blocks_only_above_the_threshold(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await apply(
        stack,
        workspace(
            {"ursula": {"max_overdue_tasks": 2}},
            counting={"excluded_stages": ["sales/parked"]},
        ),
    )
    week_ago = MONDAY - timedelta(days=7)
    await (
        History()
        .lead("P1", week_ago, owner="pool")
        .lead("L1", week_ago, owner="ursula", stage="taken")
        .lead("X1", week_ago, owner="ursula", stage="parked")
        .lead("O1", week_ago, owner="ursula", pipeline="old", stage="open")
        .task("T1", week_ago, owner="ursula", lead="L1", deadline=week_ago)
        .task(
            "T2",
            week_ago,
            owner="ursula",
            lead="L1",
            deadline=MONDAY - timedelta(hours=1),
        )
        .task("T3", week_ago, owner="ursula", deadline=MONDAY - timedelta(days=2))
        # Due right now is not overdue yet; due tomorrow is not overdue.
        .task("T4", week_ago, owner="ursula", lead="L1", deadline=MONDAY)
        .task("T5", week_ago, owner="ursula", lead="L1", deadline=TUESDAY)
        # Completed, someone else's, on an excluded lead, in an archived pipeline.
        .task("D1", week_ago, owner="ursula", lead="L1", deadline=week_ago)
        .complete("D1", week_ago + timedelta(hours=1))
        .task("N1", week_ago, owner="nadezhda", lead="L1", deadline=week_ago)
        .task("E1", week_ago, owner="ursula", lead="X1", deadline=week_ago)
        .task("A1", week_ago, owner="ursula", lead="O1", deadline=week_ago)
        .load(stack, tmp_path)
    )
    assert await limit(stack, "ursula", "max_overdue_tasks") == verdict(3, 2, False)
    assert await claim(stack, "ursula") == {
        "__typename": "Refused",
        "reasons": [refusal("max_overdue_tasks", 3, 2)],
    }
    assert await limit(
        stack, "ursula", "max_overdue_tasks", at=MONDAY + timedelta(microseconds=1)
    ) == verdict(4, 2, False)

    await History().complete("T3", MONDAY).load(stack, tmp_path)
    assert await limit(stack, "ursula", "max_overdue_tasks") == verdict(2, 2, True)
    assert (await claim(stack, "ursula"))["__typename"] == "Claimed"
