"""`schedule(userId, from, to)` through the gateway: working intervals of a user."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.stack import Stack

BERLIN = ZoneInfo("Europe/Berlin")

# Nina works Friday and Saturday nights; Vera 5/2 with a vacation;
# Ilya a 2/2 cycle. 2026-11-02 is a Monday.
WORKSPACE = """
account: {timezone: Europe/Berlin}
users:
  - {id: head, name: Head}
  - {id: nina, name: Nina}
  - {id: vera, name: Vera}
  - {id: ilya, name: Ilya}
  - {id: otto, name: Otto}
pipelines:
  - id: sales
    stages: [{id: new, kind: open}, {id: won, kind: won}, {id: lost, kind: lost}]
schedules:
  - user: nina
    weekly: {fri: ["22:00-06:00"], sat: ["22:00-06:00"]}
    exceptions: [{from: 2026-11-14, to: 2026-11-14, reason: day_off}]
  - user: vera
    weekly: {mon: ["09:00-18:00"], tue: ["09:00-18:00"], wed: ["09:00-18:00"],
             thu: ["09:00-18:00"], fri: ["09:00-18:00"]}
    dates: [{date: 2026-11-15, window: "10:00-14:00"}]
    exceptions: [{from: 2026-11-10, to: 2026-11-12, reason: vacation}]
  - user: ilya
    cycle: {on: 2, off: 2, anchor: 2026-11-02, window: "08:00-20:00"}
"""

SCHEDULE = """
query($u: ID!, $from: DateTime!, $to: DateTime!) {
  schedule(userId: $u, from: $from, to: $to) { start end }
}
"""


def berlin(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


@pytest.fixture
async def team(stack: Stack) -> Stack:
    result = await stack.apply(WORKSPACE)
    assert result["ok"], result["problems"]
    return stack


async def ask(
    stack: Stack, user_id: str, start: Any, end: Any, **caller: str
) -> dict[str, Any]:
    def text(value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime) else value

    return await stack.gql(
        SCHEDULE, {"u": user_id, "from": text(start), "to": text(end)}, **caller
    )


async def intervals(
    stack: Stack, user: str, start: str, end: str
) -> list[tuple[str, str]]:
    """Working intervals as Berlin wall-clock text, "YYYY-MM-DD HH:MM"."""
    body = await ask(stack, user, berlin(start), berlin(end))
    assert "errors" not in body, body["errors"]

    def wall(value: str) -> str:
        return (
            datetime.fromisoformat(value).astimezone(BERLIN).strftime("%Y-%m-%d %H:%M")
        )

    return [(wall(i["start"]), wall(i["end"])) for i in body["data"]["schedule"]]


async def test_a_night_shift_is_one_interval_across_midnight(team: Stack) -> None:
    assert await intervals(team, "nina", "2026-11-02 00:00", "2026-11-09 00:00") == [
        ("2026-11-06 22:00", "2026-11-07 06:00"),
        ("2026-11-07 22:00", "2026-11-08 06:00"),
    ]


async def test_the_range_clips_intervals_at_both_ends(team: Stack) -> None:
    assert await intervals(team, "nina", "2026-11-07 03:00", "2026-11-07 23:00") == [
        ("2026-11-07 03:00", "2026-11-07 06:00"),
        ("2026-11-07 22:00", "2026-11-07 23:00"),
    ]


async def test_a_day_off_removes_the_shift_starting_that_day_only(
    team: Stack,
) -> None:
    # Saturday 14 November is off: Friday night's shift still ends Saturday 06:00.
    assert await intervals(team, "nina", "2026-11-13 00:00", "2026-11-16 00:00") == [
        ("2026-11-13 22:00", "2026-11-14 06:00"),
    ]


async def test_a_vacation_removes_every_day_of_its_range(team: Stack) -> None:
    assert await intervals(team, "vera", "2026-11-09 00:00", "2026-11-16 00:00") == [
        ("2026-11-09 09:00", "2026-11-09 18:00"),
        ("2026-11-13 09:00", "2026-11-13 18:00"),
        ("2026-11-15 10:00", "2026-11-15 14:00"),  # an extra Sunday
    ]


async def test_a_cycle_works_two_days_then_rests_two(team: Stack) -> None:
    assert await intervals(team, "ilya", "2026-11-01 00:00", "2026-11-08 00:00") == [
        ("2026-11-02 08:00", "2026-11-02 20:00"),
        ("2026-11-03 08:00", "2026-11-03 20:00"),
        ("2026-11-06 08:00", "2026-11-06 20:00"),
        ("2026-11-07 08:00", "2026-11-07 20:00"),
    ]


async def test_a_user_without_a_schedule_has_no_working_time(team: Stack) -> None:
    assert await intervals(team, "otto", "2026-11-02 00:00", "2026-11-09 00:00") == []


@pytest.mark.parametrize(
    ("night", "end", "hours"),
    [
        # 29 March 2026: clocks go from 02:00 to 03:00, the night is an hour short.
        ("2026-03-27", "2026-03-28 06:00+01:00", 8),
        ("2026-03-28", "2026-03-29 06:00+02:00", 7),
        # 25 October 2026: clocks go from 03:00 back to 02:00, an hour long.
        ("2026-10-24", "2026-10-25 06:00+01:00", 9),
    ],
)
async def test_a_night_across_a_dst_change_keeps_its_wall_clock_hours(
    team: Stack, night: str, end: str, hours: int
) -> None:
    start = berlin(f"{night} 12:00")
    body = await ask(team, "nina", start, start + timedelta(days=1))
    [interval] = body["data"]["schedule"]
    started = datetime.fromisoformat(interval["start"])
    ended = datetime.fromisoformat(interval["end"])
    assert started.astimezone(BERLIN).strftime("%H:%M") == "22:00"
    assert ended == datetime.fromisoformat(end)
    assert ended.astimezone(BERLIN).strftime("%H:%M") == "06:00"
    assert ended - started == timedelta(hours=hours)


async def test_a_manager_reads_their_own_schedule(team: Stack) -> None:
    body = await ask(
        team,
        "vera",
        berlin("2026-11-09 00:00"),
        berlin("2026-11-10 00:00"),
        user="vera",
        role="manager",
    )
    assert body["data"]["schedule"] == [
        {"start": "2026-11-09T08:00:00+00:00", "end": "2026-11-09T17:00:00+00:00"}
    ]


async def test_a_manager_cannot_read_someone_elses_schedule(team: Stack) -> None:
    body = await ask(
        team,
        "nina",
        berlin("2026-11-09 00:00"),
        berlin("2026-11-10 00:00"),
        user="vera",
        role="manager",
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_an_unknown_user_is_not_found(team: Stack) -> None:
    body = await ask(team, "olga", berlin("2026-11-09 00:00"), berlin("2026-11-10"))
    [error] = body["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert "olga" in error["message"]


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-11-10T00:00:00+01:00", "2026-11-09T00:00:00+01:00", "'to' must be"),
        ("2026-11-09T00:00:00+01:00", "2026-11-09T00:00:00+01:00", "'to' must be"),
        ("2026-01-01T00:00:00+01:00", "2027-01-03T00:00:00+01:00", "a year"),
        ("2026-11-09T00:00:00", "2026-11-10T00:00:00+01:00", "'from' needs a UTC"),
        ("2026-11-09T00:00:00+01:00", "2026-11-10T00:00:00", "'to' needs a UTC"),
        ("next monday", "2026-11-10T00:00:00+01:00", "from"),
    ],
)
async def test_a_bad_range_is_bad_user_input(
    team: Stack, start: str, end: str, message: str
) -> None:
    body = await ask(team, "vera", start, end)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in error["message"]


async def test_a_whole_year_is_allowed(team: Stack) -> None:
    body = await ask(
        team, "ilya", berlin("2026-01-01 00:00"), berlin("2027-01-01 00:00")
    )
    assert "errors" not in body
    # 365 days in 2/2 turns, starting on the cycle's rhythm: 182 or 183 shifts.
    assert len(body["data"]["schedule"]) in (182, 183)
