"""Calendar windows of the limits in an account whose zone changes its clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.e2e.limits_history import (
    BERLIN,
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


def berlin(text: str) -> datetime:
    return local(text, BERLIN)


async def test_max_new_today_on_the_23_hour_spring_day_in_berlin(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await apply(
        stack, workspace({"ursula": {"max_new_today": 2}}, timezone="Europe/Berlin")
    )
    # Sunday 29 March 2026: 02:00 CET jumps to 03:00 CEST.
    stack.clock.set(berlin("2026-03-29 12:00"))
    midnight = berlin("2026-03-29 00:00")
    assert midnight == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    next_midnight = berlin("2026-03-30 00:00")
    assert next_midnight == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    await (
        History()
        .lead("P1", berlin("2026-03-20 09:00"), owner="pool")
        .lead("Y1", midnight - timedelta(minutes=1), owner="ursula", stage="taken")
        .lead("N1", midnight, owner="ursula", stage="taken")
        .lead("N2", berlin("2026-03-29 03:30"), owner="ursula", stage="taken")
        .load(stack, tmp_path)
    )
    assert await limit(stack, "ursula", "max_new_today") == verdict(
        2, 2, False, next_midnight
    )
    assert await claim(stack, "ursula") == {
        "__typename": "Refused",
        "reasons": [refusal("max_new_today", 2, 2, next_midnight)],
    }
    just_before = next_midnight - timedelta(microseconds=1)
    assert await limit(stack, "ursula", "max_new_today", at=just_before) == verdict(
        2, 2, False, next_midnight
    )
    assert await limit(stack, "ursula", "max_new_today", at=next_midnight) == verdict(
        0, 2, True
    )
    stack.clock.set(next_midnight)
    assert (await claim(stack, "ursula"))["__typename"] == "Claimed"


async def test_max_new_today_on_the_25_hour_autumn_day_in_berlin(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await apply(
        stack, workspace({"ursula": {"max_new_today": 2}}, timezone="Europe/Berlin")
    )
    # Sunday 25 October 2026: 03:00 CEST falls back to 02:00 CET.
    stack.clock.set(berlin("2026-10-25 12:00"))
    midnight = berlin("2026-10-25 00:00")
    assert midnight == datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
    next_midnight = berlin("2026-10-26 00:00")
    assert next_midnight == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)
    await (
        History()
        .lead("Y1", midnight - timedelta(minutes=1), owner="ursula", stage="taken")
        .lead("N1", midnight, owner="ursula", stage="taken")
        # 02:30 happens twice that night; this is the second one, in CET.
        .lead("N2", datetime(2026, 10, 25, 1, 30, tzinfo=UTC), owner="ursula")
        .load(stack, tmp_path)
    )
    assert await limit(stack, "ursula", "max_new_today") == verdict(
        2, 2, False, next_midnight
    )
    assert await limit(
        stack, "ursula", "max_new_today", at=next_midnight - timedelta(microseconds=1)
    ) == verdict(2, 2, False, next_midnight)
    assert await limit(stack, "ursula", "max_new_today", at=next_midnight) == verdict(
        0, 2, True
    )


async def test_week_and_month_windows_follow_the_berlin_wall_clock_in_spring(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await apply(
        stack,
        workspace(
            {"ursula": {"min_key_stage_last_week": 2, "max_lost_month": 0}},
            timezone="Europe/Berlin",
        ),
    )
    # Monday after the change: last week ran from Monday 23 March 00:00 CET
    # to Monday 30 March 00:00 CEST, six days and 23 hours.
    stack.clock.set(berlin("2026-03-30 10:00"))
    week_start = berlin("2026-03-30 00:00")
    assert week_start == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    history = History()
    for lead in ("K0", "K1", "K2", "K3", "X1", "X2"):
        history.lead(lead, berlin("2026-02-01 09:00"), owner="ursula", stage="taken")
    await (
        history
        # Sunday 22 March 23:59 CET: the week before last.
        .move("K0", berlin("2026-03-22 23:59"), "meeting")
        # Monday 23 March 00:00 CET and Sunday 29 March 23:59 CEST: last week.
        .move("K1", berlin("2026-03-23 00:00"), "meeting")
        .move("K2", berlin("2026-03-29 23:59"), "meeting")
        # Monday 30 March 00:30 CEST, 22:30 UTC on Sunday: this week.
        .move("K3", berlin("2026-03-30 00:30"), "meeting")
        # 1 March 00:00 CET is in March; 28 February 23:59 CET is not.
        .move("X1", berlin("2026-03-01 00:00"), "lost")
        .move("X2", berlin("2026-02-28 23:59"), "lost")
        .load(stack, tmp_path)
    )
    assert await limit(stack, "ursula", "min_key_stage_last_week") == verdict(
        2, 2, True, None, period_count=1
    )
    april_1 = berlin("2026-04-01 00:00")
    assert april_1 == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)
    assert await limit(stack, "ursula", "max_lost_month") == verdict(
        1, 0, False, april_1
    )
    assert await limit(stack, "ursula", "max_lost_month", at=april_1) == verdict(
        0, 0, True
    )
