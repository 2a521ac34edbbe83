"""The outcome limits end to end: sales, losses and key-stage moves, what counts
as each and for whom."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

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

# The stack's clock: Monday 2 November 2026, 10:00 in Tomsk.
MONDAY = local("2026-11-02 10:00")
TUESDAY = local("2026-11-03 00:00")


async def test_days_without_sales_counts_her_own_moves_into_sale_stages(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    limits = {"days_without_sales": 14}
    await apply(
        stack,
        workspace(
            {"ursula": limits, "nadezhda": limits},
            counting={"excluded_stages": ["sales/won_internal"]},
        ),
    )
    window_start = MONDAY - timedelta(days=14)
    month_ago = MONDAY - timedelta(days=30)
    history = History().lead("P1", month_ago, owner="pool")
    for lead in ("S1", "S2", "S3", "S4"):
        history.lead(lead, month_ago, owner="ursula", stage="taken")
    history.lead("S5", month_ago, owner="nadezhda", stage="taken")
    await (
        history
        # A microsecond before the window opens.
        .move("S1", window_start - timedelta(microseconds=1), "won")
        # Into an excluded won stage.
        .move("S2", MONDAY - timedelta(days=3), "won_internal")
        # Into a won stage of an archived pipeline.
        .move("S3", MONDAY - timedelta(days=2), "done", pipeline="old")
        # Won while Nadezhda was responsible, handed to Ursula afterwards.
        .move("S5", MONDAY - timedelta(days=1), "won")
        .hand("S5", MONDAY - timedelta(hours=1), "ursula")
        .load(stack, tmp_path)
    )
    assert await limit(stack, "ursula", "days_without_sales") == verdict(0, 14, False)
    assert await limit(stack, "nadezhda", "days_without_sales") == verdict(1, 14, True)
    assert await claim(stack, "ursula") == {
        "__typename": "Refused",
        "reasons": [refusal("days_without_sales", 0, 14)],
    }

    # A sale in another pipeline, exactly as the window opens, counts.
    await (
        History()
        .move("S4", window_start, "signed", pipeline="rentals")
        .load(stack, tmp_path)
    )
    assert await limit(stack, "ursula", "days_without_sales") == verdict(1, 14, True)
    assert (await claim(stack, "ursula"))["__typename"] == "Claimed"


async def test_sale_stages_default_to_every_won_stage_or_follow_the_group_list(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    limits = {"ursula": {"min_sales_last_month": 3}}
    await apply(stack, workspace(limits))
    history = History()
    for lead in ("S1", "S2", "S3"):
        history.lead(lead, local("2026-09-01 09:00"), owner="ursula", stage="taken")
    await (
        history.move("S1", local("2026-10-05 12:00"), "won")
        .move("S2", local("2026-10-06 12:00"), "won_internal")
        .move("S3", local("2026-10-07 12:00"), "signed", pipeline="rentals")
        .load(stack, tmp_path)
    )
    assert await limit(stack, "ursula", "min_sales_last_month") == verdict(
        3, 3, True, None, period_count=0
    )
    await apply(
        stack,
        workspace(limits, counting={"sale_stages": ["sales/won", "rentals/signed"]}),
    )
    assert await limit(stack, "ursula", "min_sales_last_month") == verdict(
        2, 3, False, None, period_count=0
    )


async def test_loss_stages_default_to_every_lost_stage_or_follow_the_group_list(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    limits = {"ursula": {"max_lost_today": 0, "max_lost_month": 10}}
    await apply(stack, workspace(limits))
    history = History()
    for lead in ("L1", "L2", "L3", "L4", "L5"):
        history.lead(lead, local("2026-10-01 09:00"), owner="ursula", stage="taken")
    await (
        history.move("L1", local("2026-11-02 08:00"), "lost")
        .move("L2", local("2026-11-02 08:10"), "spam")
        .move("L3", local("2026-11-02 08:20"), "refused", pipeline="rentals")
        .move("L4", local("2026-11-02 08:30"), "gone", pipeline="old")  # archived
        .move("L5", local("2026-11-01 23:59"), "lost")  # yesterday, this month
        .load(stack, tmp_path)
    )
    seen = await eligibility(stack, "ursula")
    assert seen.limits["max_lost_today"]["value"] == 3
    assert seen.limits["max_lost_month"]["value"] == 4

    await apply(stack, workspace(limits, counting={"loss_stages": ["sales/lost"]}))
    seen = await eligibility(stack, "ursula")
    assert seen.limits["max_lost_today"]["value"] == 1
    assert seen.limits["max_lost_month"]["value"] == 2


async def test_max_lost_today_counts_leads_lost_while_she_was_responsible(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    limits = {"max_lost_today": 1}
    await apply(stack, workspace({"ursula": limits, "nadezhda": limits}))
    await (
        History()
        .lead("P1", MONDAY - timedelta(days=5), owner="pool")
        .lead("U1", MONDAY - timedelta(days=5), owner="ursula", stage="taken")
        .lead("U2", MONDAY - timedelta(days=5), owner="ursula", stage="taken")
        .lead("N1", MONDAY - timedelta(days=5), owner="nadezhda", stage="taken")
        .move("U1", local("2026-11-02 08:00"), "lost")
        .move("U2", local("2026-11-02 09:00"), "lost")
        # Ursula lost U2 and it went to Nadezhda afterwards: still Ursula's loss.
        .hand("U2", local("2026-11-02 09:10"), "nadezhda")
        # Nadezhda lost N1 before it came to Ursula: Nadezhda's loss.
        .move("N1", local("2026-11-02 09:20"), "lost")
        .hand("N1", local("2026-11-02 09:30"), "ursula")
        .load(stack, tmp_path)
    )
    assert await limit(stack, "ursula", "max_lost_today") == verdict(
        2, 1, False, TUESDAY
    )
    assert await limit(stack, "nadezhda", "max_lost_today") == verdict(1, 1, True)
    assert await claim(stack, "ursula") == {
        "__typename": "Refused",
        "reasons": [refusal("max_lost_today", 2, 1, TUESDAY)],
    }
    assert await limit(stack, "ursula", "max_lost_today", at=TUESDAY) == verdict(
        0, 1, True
    )


async def test_min_key_stage_last_week_counts_only_leads_she_moved_there(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    limits = {"min_key_stage_last_week": 1}
    await apply(stack, workspace({"ursula": limits, "nadezhda": limits}))
    await (
        History()
        .lead("K1", local("2026-10-01 09:00"), owner="nadezhda", stage="taken")
        .move("K1", local("2026-10-27 12:00"), "meeting")
        .hand("K1", local("2026-10-28 12:00"), "ursula")
        .move("K1", local("2026-10-29 12:00"), "taken")
        .load(stack, tmp_path)
    )
    assert await limit(stack, "ursula", "min_key_stage_last_week") == verdict(
        0, 1, False, None, period_count=0
    )
    assert await limit(stack, "nadezhda", "min_key_stage_last_week") == verdict(
        1, 1, True, None, period_count=0
    )
