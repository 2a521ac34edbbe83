"""What counts in no limit: excluded stages, archived pipelines, disabled
members and exchange users, and leads created already closed or in the key stage."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.e2e.limits_history import (
    ELIGIBILITY,
    History,
    apply,
    claim,
    eligibility,
    local,
    workspace,
)
from tests.stack import Stack

# The stack's clock: Monday 2 November 2026, 10:00 in Tomsk.
MONDAY = local("2026-11-02 10:00")


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
