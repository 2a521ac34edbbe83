"""The worked examples of domain.md section 4, through GraphQL and the real services."""

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

REOPEN = """
mutation($id: ID!) {
  reopenLead(leadId: $id) { id stage responsible closedAt lossReason }
}
"""


async def test_max_active_50_open_leads_block_a_claim_and_49_allow_it(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await apply(stack, workspace({"ursula": {"max_active": 50}}))
    now = stack.clock.now()
    start = now - timedelta(days=3)
    history = History()
    for i in range(50):
        history.lead(
            f"A{i}", start + timedelta(minutes=i), owner="ursula", stage="taken"
        )
    # Closed leads are not active.
    history.lead("W1", start, owner="ursula", stage="won")
    history.lead("X1", start, owner="ursula", stage="lost")
    history.lead("P1", start, owner="pool")
    await history.load(stack, tmp_path)

    assert await limit(stack, "ursula", "max_active") == verdict(50, 50, False)
    assert await claim(stack, "ursula") == {
        "__typename": "Refused",
        "reasons": [refusal("max_active", 50, 50)],
    }

    # She wins one of them: 49 open leads.
    await History().move("A0", now - timedelta(minutes=5), "won").load(stack, tmp_path)
    assert await limit(stack, "ursula", "max_active") == verdict(49, 50, True)
    assert await claim(stack, "ursula") == {
        "__typename": "Claimed",
        "lead": {"id": "P1", "responsible": "ursula", "stage": "taken"},
    }
    # The claimed lead is her 50th open lead.
    assert await limit(stack, "ursula", "max_active") == verdict(50, 50, False)


async def test_max_overdue_days_5_blocks_until_the_7_day_old_task_is_completed(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await apply(stack, workspace({"ursula": {"max_overdue_days": 5}}))
    now = stack.clock.now()
    week_ago = now - timedelta(days=7)
    yesterday = now - timedelta(days=1)
    await (
        History()
        .lead("L1", now - timedelta(days=10), owner="ursula", stage="taken")
        .lead("P1", now - timedelta(days=10), owner="pool")
        .task(
            "T1", now - timedelta(days=9), owner="ursula", deadline=yesterday, lead="L1"
        )
        .task(
            "T2", now - timedelta(days=9), owner="ursula", deadline=yesterday, lead="L1"
        )
        .task(
            "T3", now - timedelta(days=9), owner="ursula", deadline=week_ago, lead="L1"
        )
        .load(stack, tmp_path)
    )
    assert await limit(stack, "ursula", "max_overdue_days") == verdict(7, 5, False)
    assert await claim(stack, "ursula") == {
        "__typename": "Refused",
        "reasons": [refusal("max_overdue_days", 7, 5)],
    }

    # Yesterday's tasks are not what blocks her.
    await History().complete("T1", now).complete("T2", now).load(stack, tmp_path)
    assert await limit(stack, "ursula", "max_overdue_days") == verdict(7, 5, False)
    # Only a week later would the one-day-old tasks have blocked her too; the
    # limit has no passesAt because only her own work unblocks it.
    await History().complete("T3", now).load(stack, tmp_path)
    assert await limit(stack, "ursula", "max_overdue_days") == verdict(0, 5, True)
    assert (await claim(stack, "ursula"))["__typename"] == "Claimed"


async def _twelve_leads_lost_in_may(stack: Stack, tmp_path: Path) -> None:
    await apply(stack, workspace({"ursula": {"max_lost_month": 10}}))
    history = History().lead("P1", local("2026-04-01 09:00"), owner="pool")
    # Lost on 30 April: last month, not counted in May.
    history.lead("APR", local("2026-04-01 09:00"), owner="ursula", stage="taken")
    history.move("APR", local("2026-04-30 23:59"), "lost")
    for day in range(1, 13):
        lead = f"M{day:02d}"
        history.lead(lead, local("2026-04-20 09:00"), owner="ursula", stage="taken")
        history.move(
            lead, local(f"2026-05-{day:02d} 00:00"), "lost", loss_reason="price"
        )
    await history.load(stack, tmp_path)


async def test_max_lost_month_10_blocks_on_20_may_with_12_lost_until_1_june(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await _twelve_leads_lost_in_may(stack, tmp_path)
    june_1 = local("2026-06-01 00:00")
    stack.clock.set(local("2026-05-20 12:00"))

    assert await limit(stack, "ursula", "max_lost_month") == verdict(
        12, 10, False, june_1
    )
    assert await claim(stack, "ursula") == {
        "__typename": "Refused",
        "reasons": [refusal("max_lost_month", 12, 10, june_1)],
    }
    last_instant_of_may = june_1 - timedelta(microseconds=1)
    assert await limit(
        stack, "ursula", "max_lost_month", at=last_instant_of_may
    ) == verdict(12, 10, False, june_1)
    assert await limit(stack, "ursula", "max_lost_month", at=june_1) == verdict(
        0, 10, True
    )
    stack.clock.set(june_1)
    assert (await claim(stack, "ursula"))["__typename"] == "Claimed"


async def test_max_lost_month_reopening_2_of_the_12_lost_leads_unblocks(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await _twelve_leads_lost_in_may(stack, tmp_path)
    stack.clock.set(local("2026-05-20 12:00"))
    for lead in ("M03", "M07"):
        reopened = await stack.data(REOPEN, {"id": lead})
        assert reopened["reopenLead"] == {
            "id": lead,
            "stage": "taken",
            "responsible": "ursula",
            "closedAt": None,
            "lossReason": None,
        }
    assert await limit(stack, "ursula", "max_lost_month") == verdict(10, 10, True)
    assert (await claim(stack, "ursula"))["__typename"] == "Claimed"


async def test_min_sales_last_month_2_with_one_april_sale_blocks_all_of_may(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await apply(stack, workspace({"ursula": {"min_sales_last_month": 2}}))
    await (
        History()
        .lead("P1", local("2026-03-01 09:00"), owner="pool")
        .lead("S1", local("2026-04-02 09:00"), owner="ursula", stage="taken")
        .move("S1", local("2026-04-10 15:00"), "won")
        .lead("S2", local("2026-05-02 09:00"), owner="ursula", stage="taken")
        .move("S2", local("2026-05-12 15:00"), "won")
        .load(stack, tmp_path)
    )
    # April's one sale counts all May; May's own sale shows as the period in
    # progress but does not reach 2, so no instant is promised.
    assert await limit(
        stack, "ursula", "min_sales_last_month", at=local("2026-05-01 00:00")
    ) == verdict(1, 2, False, None, period_count=0)
    assert await limit(
        stack, "ursula", "min_sales_last_month", at=local("2026-05-20 12:00")
    ) == verdict(1, 2, False, None, period_count=1)
    last_instant_of_may = local("2026-06-01 00:00") - timedelta(microseconds=1)
    assert await limit(
        stack, "ursula", "min_sales_last_month", at=last_instant_of_may
    ) == verdict(1, 2, False, None, period_count=1)
    # 1 June re-evaluates on May's figures: one sale, still short of 2.
    assert await limit(
        stack, "ursula", "min_sales_last_month", at=local("2026-06-01 00:00")
    ) == verdict(1, 2, False, None, period_count=0)

    stack.clock.set(local("2026-05-20 12:00"))
    assert await claim(stack, "ursula") == {
        "__typename": "Refused",
        "reasons": [refusal("min_sales_last_month", 1, 2, None, period_count=1)],
    }


async def test_min_sales_last_month_passes_on_1_june_once_may_reaches_2(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await apply(stack, workspace({"ursula": {"min_sales_last_month": 2}}))
    june_1 = local("2026-06-01 00:00")
    await (
        History()
        .lead("P1", local("2026-03-01 09:00"), owner="pool")
        .lead("S1", local("2026-04-02 09:00"), owner="ursula", stage="taken")
        .move("S1", local("2026-04-10 15:00"), "won")
        .lead("S2", local("2026-05-02 09:00"), owner="ursula", stage="taken")
        .move("S2", local("2026-05-12 15:00"), "won")
        .lead("S3", local("2026-05-02 09:00"), owner="ursula", stage="taken")
        .move("S3", local("2026-05-25 15:00"), "won")
        .load(stack, tmp_path)
    )
    stack.clock.set(local("2026-05-26 10:00"))
    assert await limit(stack, "ursula", "min_sales_last_month") == verdict(
        1, 2, False, june_1, period_count=2
    )
    assert await claim(stack, "ursula") == {
        "__typename": "Refused",
        "reasons": [refusal("min_sales_last_month", 1, 2, june_1, period_count=2)],
    }
    stack.clock.set(june_1)
    assert await limit(stack, "ursula", "min_sales_last_month") == verdict(
        2, 2, True, None, period_count=0
    )
    assert (await claim(stack, "ursula"))["__typename"] == "Claimed"


async def test_min_key_stage_last_week_5_with_4_last_week_blocks_until_next_monday(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await apply(stack, workspace({"ursula": {"min_key_stage_last_week": 5}}))
    monday = local("2026-11-02 10:00")
    next_monday = local("2026-11-09 00:00")
    assert stack.clock.now() == monday
    history = History().lead("P1", local("2026-10-01 09:00"), owner="pool")
    for lead in ("K1", "K2", "K3", "K4", "K5", "K6"):
        history.lead(lead, local("2026-10-01 09:00"), owner="ursula", stage="taken")
    # The week before last: not counted.
    history.move("K5", local("2026-10-25 23:59"), "meeting")
    # Last week (Monday 26 October 00:00 to Sunday 1 November 24:00): 4 leads.
    history.move("K1", local("2026-10-26 00:00"), "meeting")
    history.move("K2", local("2026-10-28 12:00"), "meeting")
    history.move("K2", local("2026-10-28 13:00"), "taken")
    history.move("K2", local("2026-10-29 13:00"), "meeting")  # the same lead again
    history.move("K3", local("2026-10-30 12:00"), "meeting")
    history.move("K3", local("2026-10-31 12:00"), "lost")  # need not still be there
    history.move("K4", local("2026-11-01 23:59"), "meeting")
    # This week.
    history.move("K6", local("2026-11-02 00:00"), "meeting")
    await history.load(stack, tmp_path)

    assert await limit(stack, "ursula", "min_key_stage_last_week") == verdict(
        4, 5, False, None, period_count=1
    )
    assert await claim(stack, "ursula") == {
        "__typename": "Refused",
        "reasons": [refusal("min_key_stage_last_week", 4, 5, None, period_count=1)],
    }

    # She reaches 5 this week by Friday: she is re-evaluated next Monday on it.
    friday = local("2026-11-06 18:00")
    history = History()
    for lead in ("L1", "L2", "L3", "L4"):
        history.lead(lead, friday - timedelta(hours=2), owner="ursula", stage="taken")
        history.move(lead, friday - timedelta(hours=1), "meeting")
    await history.load(stack, tmp_path)
    stack.clock.set(friday)
    assert await limit(stack, "ursula", "min_key_stage_last_week") == verdict(
        4, 5, False, next_monday, period_count=5
    )
    assert await limit(
        stack, "ursula", "min_key_stage_last_week", at=next_monday
    ) == verdict(5, 5, True, None, period_count=0)
    stack.clock.set(next_monday)
    assert (await claim(stack, "ursula"))["__typename"] == "Claimed"


async def test_claim_refused_by_two_limits_lists_both_with_values_and_instants(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await apply(
        stack,
        workspace(
            {
                "ursula": {
                    "interval_minutes": 10,
                    "max_active": 50,
                    "max_lost_today": 1,
                    "min_key_stage_last_week": 2,
                }
            }
        ),
    )
    now = stack.clock.now()
    history = History().lead("P1", now - timedelta(days=30), owner="pool")
    for lead in ("A", "B", "C"):
        history.lead(lead, now - timedelta(days=30), owner="ursula", stage="taken")
    history.move("A", local("2026-10-27 11:00"), "meeting")
    history.move("B", local("2026-11-02 09:00"), "lost")
    history.move("C", local("2026-11-02 09:30"), "lost")
    await history.load(stack, tmp_path)

    seen = await eligibility(stack, "ursula")
    assert not seen.eligible
    # Never claimed: the interval passes.
    assert seen.limits["interval_minutes"]["value"] is None
    assert [name for name, v in seen.limits.items() if v["passed"]] == [
        "interval_minutes",
        "max_active",
    ]
    assert await claim(stack, "ursula") == {
        "__typename": "Refused",
        "reasons": [
            refusal("max_lost_today", 2, 1, local("2026-11-03 00:00")),
            refusal("min_key_stage_last_week", 1, 2, None, period_count=0),
        ],
    }
