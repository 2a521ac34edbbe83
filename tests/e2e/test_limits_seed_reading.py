"""Issue 23, points 1-5 and 9: the limits and reopening as the seeds mean them.

Each test is named after its rule (domain.md sections 4 and 9) and runs on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

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

# The stack's clock: Monday 2 November 2026, 10:00 in Tomsk. Last week is
# 26 October to 1 November, last month is October.
MONDAY = local("2026-11-02 10:00")
TUESDAY = local("2026-11-03 00:00")
LONG_AGO = local("2026-09-01 09:00")
REOPEN = """
mutation($id: ID!) {
  reopenLead(leadId: $id) { id pipeline stage responsible closedAt lossReason }
}
"""


async def _reopen(stack: Stack, lead: str) -> dict[str, Any]:
    data = await stack.data(REOPEN, {"id": lead}, user="head", role="admin")
    reopened: dict[str, Any] = data["reopenLead"]
    return reopened


async def test_23_1_limits_6_and_9_count_a_lead_won_reopened_and_won_again_once(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    limits = {"days_without_sales": 14, "min_sales_last_month": 3}
    await apply(stack, workspace({"ursula": limits}))
    history = History()
    for lead in ("S1", "S2", "S3"):
        history.lead(lead, LONG_AGO, owner="ursula", stage="taken")
    await (
        history
        # October: won, reopened by the head of sales, won again.
        .move("S1", local("2026-10-05 12:00"), "won")
        .reopen("S1", local("2026-10-06 12:00"))
        .move("S1", local("2026-10-07 12:00"), "won")
        # Late October, inside the 14 days: won, then on to another won stage.
        .move("S2", local("2026-10-26 12:00"), "won")
        .move("S2", local("2026-10-27 12:00"), "won_internal")
        # This month: won, reopened, won again.
        .move("S3", local("2026-11-01 09:00"), "won")
        .reopen("S3", local("2026-11-01 10:00"))
        .move("S3", local("2026-11-01 11:00"), "won")
        .load(stack, tmp_path)
    )
    # Two distinct leads sold in October, not four moves; one so far in November.
    assert await limit(stack, "ursula", "min_sales_last_month") == verdict(
        2, 3, False, None, period_count=1
    )
    # S2 and S3 in the last 14 days: two sales.
    assert await limit(stack, "ursula", "days_without_sales") == verdict(2, 14, True)


async def test_23_2_reopening_is_no_move_into_a_stage_for_limits_6_9_and_10(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    # An open stage that is both the key stage and listed as a sale stage:
    # a reopening returns leads to it, and still counts as neither.
    await apply(
        stack,
        workspace(
            {
                "ursula": {
                    "days_without_sales": 14,
                    "min_sales_last_month": 1,
                    "min_key_stage_last_week": 1,
                }
            },
            counting={
                "key_stage": "sales/parked",
                "sale_stages": ["sales/won", "sales/parked"],
            },
        ),
    )
    history = History()
    for lead in ("L1", "L2", "L3"):
        history.lead(lead, LONG_AGO, owner="ursula", stage="parked")
    await (
        history.move("L2", local("2026-10-05 12:00"), "lost")
        .reopen("L2", local("2026-10-06 12:00"))
        .move("L1", local("2026-10-27 12:00"), "lost")
        .reopen("L1", local("2026-10-28 12:00"))
        .move("L3", local("2026-11-02 09:00"), "lost")
        .load(stack, tmp_path)
    )
    assert (await _reopen(stack, "L3"))["stage"] == "parked"

    assert await limit(stack, "ursula", "days_without_sales") == verdict(0, 14, False)
    assert await limit(stack, "ursula", "min_sales_last_month") == verdict(
        0, 1, False, None, period_count=0
    )
    assert await limit(stack, "ursula", "min_key_stage_last_week") == verdict(
        0, 1, False, None, period_count=0
    )
    # Her own move into the key stage after the reopening counts as usual.
    await (
        History()
        .move("L3", MONDAY, "taken")
        .move("L3", MONDAY, "parked")
        .load(stack, tmp_path)
    )
    assert await limit(stack, "ursula", "min_key_stage_last_week") == verdict(
        0, 1, False, local("2026-11-09 00:00"), period_count=1
    )


async def test_23_3_a_lead_in_an_excluded_stage_now_counts_in_no_limit_6_9_or_10(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await apply(
        stack,
        workspace(
            {
                "ursula": {
                    "days_without_sales": 14,
                    "min_sales_last_month": 2,
                    "min_key_stage_last_week": 1,
                }
            },
            counting={"excluded_stages": ["sales/parked", "sales/won_internal"]},
        ),
    )
    history = History()
    for lead in ("S1", "S2", "S3", "S4", "K1", "K2"):
        history.lead(lead, LONG_AGO, owner="ursula", stage="taken")
    await (
        history
        # Sold in October, then parked in an excluded stage: no sale any more.
        .move("S1", local("2026-10-10 12:00"), "won")
        .move("S1", local("2026-10-30 12:00"), "parked")
        # Sold inside the 14 days, then parked.
        .move("S2", local("2026-10-25 12:00"), "won")
        .move("S2", local("2026-10-31 12:00"), "parked")
        # Still won: the one sale of October that counts.
        .move("S3", local("2026-10-12 12:00"), "won")
        # A move into an excluded won stage is no sale.
        .move("S4", local("2026-10-26 12:00"), "won_internal")
        # Through the key stage last week, parked since.
        .move("K1", local("2026-10-27 12:00"), "meeting")
        .move("K1", local("2026-10-28 12:00"), "parked")
        # Through the key stage last week, now lost: still counts.
        .move("K2", local("2026-10-27 13:00"), "meeting")
        .move("K2", local("2026-10-28 13:00"), "lost")
        .load(stack, tmp_path)
    )
    assert await limit(stack, "ursula", "min_sales_last_month") == verdict(
        1, 2, False, None, period_count=0
    )
    assert await limit(stack, "ursula", "days_without_sales") == verdict(0, 14, False)
    assert await limit(stack, "ursula", "min_key_stage_last_week") == verdict(
        1, 1, True, None, period_count=0
    )
    # Won again out of the excluded stage: S2 is one sale again.
    await History().move("S2", MONDAY, "won").load(stack, tmp_path)
    assert await limit(stack, "ursula", "days_without_sales") == verdict(1, 14, True)


async def test_23_4_limit_2_counts_every_open_stage_also_one_listed_as_a_sale_stage(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await apply(
        stack,
        workspace(
            {"ursula": {"max_active": 3}},
            counting={
                "sale_stages": ["sales/won", "sales/parked"],
                "loss_stages": ["sales/lost", "sales/meeting"],
            },
        ),
    )
    await (
        History()
        .lead("P1", LONG_AGO, owner="pool")
        .lead("T1", LONG_AGO, owner="ursula", stage="taken")
        .lead("T2", LONG_AGO, owner="ursula", stage="parked")
        .lead("T3", LONG_AGO, owner="ursula", stage="meeting")
        .lead("W1", LONG_AGO, owner="ursula", stage="won")
        .load(stack, tmp_path)
    )
    assert await limit(stack, "ursula", "max_active") == verdict(3, 3, False)
    assert await claim(stack, "ursula") == {
        "__typename": "Refused",
        "reasons": [refusal("max_active", 3, 3)],
    }


async def test_23_5_reopening_a_won_lead_returns_it_to_the_last_open_stage_before_won(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await apply(stack, workspace({"ursula": {}}))
    await (
        History()
        # Sales: new, taken, meeting, parked, won, won_internal, lost, spam.
        .lead("W1", LONG_AGO, owner="ursula", stage="taken")
        .move("W1", local("2026-10-20 12:00"), "meeting")
        .move("W1", local("2026-10-21 12:00"), "won")
        .lead("W2", LONG_AGO, owner="ursula", stage="won")
        .lead("W3", LONG_AGO, owner="ursula", stage="taken")
        .move("W3", local("2026-10-21 12:00"), "won")
        .move("W3", local("2026-10-22 12:00"), "won_internal")
        # Rentals: new, viewing, signed, refused.
        .lead("R1", LONG_AGO, owner="ursula", pipeline="rentals")
        .move("R1", local("2026-10-21 12:00"), "signed")
        .lead("R2", LONG_AGO, owner="ursula", pipeline="rentals", stage="signed")
        # From lost a lead goes back where it was lost from.
        .lead("L1", LONG_AGO, owner="ursula", stage="taken")
        .move("L1", local("2026-10-21 12:00"), "meeting")
        .move("L1", local("2026-10-22 12:00"), "lost")
        .load(stack, tmp_path)
    )
    back = {lead: await _reopen(stack, lead) for lead in ("W1", "W2", "W3", "R1")}
    back["R2"] = await _reopen(stack, "R2")
    back["L1"] = await _reopen(stack, "L1")
    assert {lead: (x["pipeline"], x["stage"]) for lead, x in back.items()} == {
        "W1": ("sales", "parked"),
        "W2": ("sales", "parked"),
        "W3": ("sales", "parked"),
        "R1": ("rentals", "viewing"),
        "R2": ("rentals", "viewing"),
        "L1": ("sales", "meeting"),
    }
    assert all(x["closedAt"] is None for x in back.values())


async def test_23_9_limit_3_a_daily_limit_of_20_lets_a_manager_reach_20(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await apply(stack, workspace({"ursula": {"max_new_today": 20}}))
    history = History().lead("P1", LONG_AGO).lead("P2", LONG_AGO)
    for n in range(19):
        history.lead(f"N{n}", local("2026-11-02 08:00"), owner="ursula", stage="taken")
    await history.load(stack, tmp_path)
    assert await limit(stack, "ursula", "max_new_today") == verdict(19, 20, True)

    assert (await claim(stack, "ursula"))["__typename"] == "Claimed"
    assert await limit(stack, "ursula", "max_new_today") == verdict(
        20, 20, False, TUESDAY
    )
    assert await claim(stack, "ursula") == {
        "__typename": "Refused",
        "reasons": [refusal("max_new_today", 20, 20, TUESDAY)],
    }


async def test_23_9_limit_6_fourteen_days_without_sales_block_after_14_days_of_none(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await apply(stack, workspace({"ursula": {"days_without_sales": 14}}))
    sold = MONDAY - timedelta(days=14)
    await (
        History()
        .lead("P1", LONG_AGO)
        .lead("S1", LONG_AGO, owner="ursula", stage="taken")
        .move("S1", sold, "won")
        .load(stack, tmp_path)
    )
    # Thirteen days after the sale, and 14 days to the second: not yet 14 days
    # without a sale.
    day_13 = sold + timedelta(days=13)
    assert await limit(stack, "ursula", "days_without_sales", day_13) == verdict(
        1, 14, True
    )
    assert await limit(stack, "ursula", "days_without_sales") == verdict(1, 14, True)
    # Past 14 whole days with no sale: blocked, until she sells again.
    stack.clock.advance(timedelta(seconds=1))
    assert await claim(stack, "ursula") == {
        "__typename": "Refused",
        "reasons": [refusal("days_without_sales", 0, 14)],
    }
