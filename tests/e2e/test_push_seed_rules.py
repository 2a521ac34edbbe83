"""Seed 001's push rules as the seed writes them (issue 23, points 6 and 7).

Each rule runs through the whole product on SQLite and on PostgreSQL: the
windows and the rotation live in the services' databases.
"""

from __future__ import annotations

from datetime import datetime

from tests.e2e.push_support import pushed, tomsk
from tests.stack import Stack

WORKSPACE = """
account: {timezone: Asia/Tomsk}
users:
  - {id: ursula, name: Ursula}
  - {id: nadezhda, name: Nadezhda}
  - {id: marina, name: Marina}
  - {id: pool, name: Inbox, technical: true}
pipelines:
  - id: sales
    stages:
      - {id: new, kind: open}
      - {id: taken, kind: open}
      - {id: won, kind: won}
      - {id: lost, kind: lost}
groups:
  - id: main
    source_stages: [sales/new]
    target_stage: sales/taken
    exchange_users: [pool]
    members: [{user: ursula}, {user: nadezhda}, {user: marina}]
schedules:
  - {user: ursula, free: true, presence: follow_schedule}
  - {user: nadezhda, free: true, presence: follow_schedule}
  - {user: marina, weekly: {mon: ["16:00-23:59"], sat: ["09:00-17:00"]},
     presence: follow_schedule}
templates:
  - id: calls-evening
    match: {channels: [call]}
    days: [mon, tue, wed, thu, fri]
    window: "16:00-23:59"
    participants: [{user: marina, weight: 1}]
    algorithm: weighted
    target_stage: sales/taken
  - id: chats
    match: {channels: [chat]}
    participants: [{user: ursula, weight: 1}, {user: nadezhda, weight: 2}]
    algorithm: weighted
    target_stage: sales/taken
  - id: written-saturday
    match: {channels_except: [call]}
    participants: [{user: marina, weight: 1}, {user: nadezhda, weight: 2}]
    algorithm: weighted
    target_stage: sales/taken
"""

SCHEDULE = """
query($u: ID!, $from: DateTime!, $to: DateTime!) {
  schedule(userId: $u, from: $from, to: $to) { start end }
}
"""


async def test_a_window_ending_at_23_59_covers_the_whole_last_minute(
    any_stack: Stack,
) -> None:
    assert (await any_stack.apply(WORKSPACE))["ok"]
    any_stack.clock.set(tomsk("2026-11-02T23:59:30"))

    call = await pushed(any_stack, "C1", "call")
    shift = await any_stack.data(
        SCHEDULE,
        {
            "u": "marina",
            "from": tomsk("2026-11-02T00:00").isoformat(),
            "to": tomsk("2026-11-03T12:00").isoformat(),
        },
    )

    # Monday 23:59:30 is inside "16:00-23:59", for the template and the shift.
    assert (call["outcome"], call["assignee"], call["templateId"]) == (
        "assigned",
        "marina",
        "calls-evening",
    )
    assert [
        (datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"]))
        for s in shift["schedule"]
    ] == [(tomsk("2026-11-02T16:00"), tomsk("2026-11-03T00:00"))]


async def test_weighted_ties_go_to_the_participant_listed_first(
    any_stack: Stack,
) -> None:
    assert (await any_stack.apply(WORKSPACE))["ok"]
    any_stack.clock.set(tomsk("2026-11-07T10:00"))  # Saturday

    # "Marina 1, Nadezhda 2" (seed 001: "Марине - 1 заявку, Надежде - 2").
    written = [(await pushed(any_stack, f"F{i}", "form"))["assignee"] for i in range(6)]
    # "Ursula 1, Nadezhda 2" starts with Ursula.
    chats = [(await pushed(any_stack, f"X{i}", "chat"))["assignee"] for i in range(3)]

    assert written == ["marina", "nadezhda", "nadezhda"] * 2
    assert chats == ["ursula", "nadezhda", "nadezhda"]
