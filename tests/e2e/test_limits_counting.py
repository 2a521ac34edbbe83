"""Each of the ten limits end to end: what counts, for whom, and in which window."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.e2e.limits_history import (
    ELIGIBILITY,
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


ALL_TEN = {
    "interval_minutes": 10,
    "max_active": 1,
    "max_new_today": 1,
    "max_overdue_tasks": 0,
    "max_overdue_days": 0,
    "days_without_sales": 30,
    "max_lost_today": 0,
    "max_lost_month": 0,
    "min_sales_last_month": 1,
    "min_key_stage_last_week": 1,
}


async def _work_in(
    stack: Stack, tmp_path: Path, *, open_stage: str, won: str, lost: str, key: str
) -> None:
    """Today's work of Ursula: one open lead, one sale, one loss, one key move."""
    pipeline, open_id = open_stage.split("/")
    day = MONDAY - timedelta(hours=2)
    history = History()
    for lead in ("W1", "W2", "W3", "W4"):
        history.lead(lead, day, owner="ursula", stage=open_id, pipeline=pipeline)
    for lead, target, at in (
        ("W2", won, local("2026-10-15 12:00")),
        ("W3", lost, day + timedelta(minutes=10)),
        ("W4", key, local("2026-10-28 12:00")),
    ):
        to_pipeline, to_stage = target.split("/")
        history.move(
            lead,
            at,
            to_stage,
            pipeline=to_pipeline if to_pipeline != pipeline else None,
        )
    history.task("T1", day, owner="ursula", lead="W1", deadline=day)
    await history.load(stack, tmp_path)


def _values(seen: dict[str, dict[str, object]]) -> dict[str, object]:
    return {name: v["value"] for name, v in seen.items()}


async def test_excluded_stages_count_in_no_limit(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    excluded = ["sales/parked", "sales/won_internal", "sales/spam", "sales/meeting"]
    await apply(stack, workspace({"ursula": ALL_TEN}))
    await _work_in(
        stack,
        tmp_path,
        open_stage="sales/parked",
        won="sales/won_internal",
        lost="sales/spam",
        key="sales/meeting",
    )
    counted = _values((await eligibility(stack, "ursula")).limits)
    await apply(
        stack, workspace({"ursula": ALL_TEN}, counting={"excluded_stages": excluded})
    )
    ignored = _values((await eligibility(stack, "ursula")).limits)
    assert counted == {
        "interval_minutes": None,
        "max_active": 2,
        "max_new_today": 4,
        "max_overdue_tasks": 1,
        "max_overdue_days": 0,
        "days_without_sales": 1,
        "max_lost_today": 1,
        "max_lost_month": 1,
        "min_sales_last_month": 1,
        "min_key_stage_last_week": 1,
    }
    # W1 sits in an excluded stage, W2 to W4 moved into one.
    assert ignored == {
        **counted,
        "max_active": 0,
        "max_new_today": 0,
        "max_overdue_tasks": 0,
        "days_without_sales": 0,
        "max_lost_today": 0,
        "max_lost_month": 0,
        "min_sales_last_month": 0,
        "min_key_stage_last_week": 0,
    }


async def test_archived_pipelines_count_in_no_limit(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    ws = workspace({"ursula": ALL_TEN}, counting={"key_stage": "old/meeting"})
    live = ws.replace("    archived: true\n", "")
    assert live != ws
    await apply(stack, live)
    await _work_in(
        stack,
        tmp_path,
        open_stage="old/open",
        won="old/done",
        lost="old/gone",
        key="old/meeting",
    )
    counted = _values((await eligibility(stack, "ursula")).limits)
    await apply(stack, ws)
    ignored = _values((await eligibility(stack, "ursula")).limits)
    assert counted == {
        "interval_minutes": None,
        "max_active": 2,
        "max_new_today": 4,
        "max_overdue_tasks": 1,
        "max_overdue_days": 0,
        "days_without_sales": 1,
        "max_lost_today": 1,
        "max_lost_month": 1,
        "min_sales_last_month": 1,
        "min_key_stage_last_week": 1,
    }
    assert ignored == {name: 0 for name in counted} | {"interval_minutes": None}


async def test_disabled_members_and_exchange_users_have_no_limits(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await apply(
        stack,
        workspace({"ursula": {"max_active": 0}}, disabled=("marina",)),
    )
    asked = ["ursula", "marina", "pool", "nadezhda", "ursula"]
    data = await stack.data(ELIGIBILITY, {"g": "main", "u": asked})
    assert [
        (row["userId"], row["membership"], row["eligible"], len(row["limits"]))
        for row in data["eligibility"]
    ] == [
        ("ursula", "ENABLED", False, 1),
        ("marina", "DISABLED", False, 0),
        ("pool", "EXCHANGE_USER", False, 0),
        ("nadezhda", "NOT_A_MEMBER", False, 0),
    ]
    assert await claim(stack, "marina") == {
        "__typename": "Refused",
        "reasons": [
            {
                "code": "disabled",
                "limit": None,
                "value": None,
                "threshold": None,
                "passesAt": None,
                "periodCount": None,
            }
        ],
    }


async def test_a_lead_created_already_closed_or_in_the_key_stage_was_not_moved(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await apply(stack, workspace({"ursula": ALL_TEN}))
    today = MONDAY - timedelta(hours=1)
    await (
        History()
        .lead("C1", today, owner="ursula", stage="lost")
        .lead("C2", today, owner="ursula", stage="won")
        .lead("C3", local("2026-10-28 12:00"), owner="ursula", stage="meeting")
        .lead("C4", local("2026-10-15 12:00"), owner="ursula", pipeline="rentals")
        .load(stack, tmp_path)
    )
    values = _values((await eligibility(stack, "ursula")).limits)
    assert values == {
        "interval_minutes": None,
        "max_active": 2,
        "max_new_today": 2,
        "max_overdue_tasks": 0,
        "max_overdue_days": 0,
        "days_without_sales": 0,
        "max_lost_today": 0,
        "max_lost_month": 0,
        "min_sales_last_month": 0,
        "min_key_stage_last_week": 0,
    }
