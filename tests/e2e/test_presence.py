"""Presence through the gateway: who may set it, and how it follows the shifts."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.stack import Stack

TOMSK = ZoneInfo("Asia/Tomsk")

# Ursula follows her schedule; Pavel sets his presence by hand. Both work
# Monday and Tuesday 09:00-18:00 (2026-11-02 is a Monday).
WORKSPACE = """
account: {timezone: Asia/Tomsk}
users:
  - {id: head, name: Head}
  - {id: ursula, name: Ursula}
  - {id: pavel, name: Pavel}
pipelines:
  - id: sales
    stages: [{id: new, kind: open}, {id: won, kind: won}, {id: lost, kind: lost}]
schedules:
  - user: ursula
    weekly: {mon: ["09:00-18:00"], tue: ["09:00-18:00"]}
    presence: follow_schedule
  - user: pavel
    weekly: {mon: ["09:00-18:00"], tue: ["09:00-18:00"]}
    presence: manual
"""

SET_PRESENCE = """
mutation($u: ID!, $online: Boolean!) {
  setPresence(userId: $u, online: $online) { userId working online onDuty }
}
"""
DUTY = """
query($at: DateTime) { onDuty(at: $at) { users { userId } } }
"""


def tomsk(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TOMSK)


@pytest.fixture
async def team(stack: Stack) -> Stack:
    result = await stack.apply(WORKSPACE)
    assert result["ok"], result["problems"]
    return stack


async def set_presence(
    stack: Stack, user: str, online: bool, *, by: str, role: str = "manager"
) -> dict[str, Any]:
    return await stack.gql(
        SET_PRESENCE, {"u": user, "online": online}, user=by, role=role
    )


async def on_duty_at(stack: Stack, at: str | None = None) -> list[str]:
    """Who is on duty at a Tomsk wall-clock time (default: the clock's now)."""
    variables = {"at": tomsk(at).isoformat() if at else None}
    data = await stack.data(DUTY, variables, user="head", role="admin")
    return sorted(u["userId"] for u in data["onDuty"]["users"])


async def test_a_manager_sets_their_own_presence(team: Stack) -> None:
    team.clock.set(tomsk("2026-11-02 10:00"))
    body = await set_presence(team, "pavel", True, by="pavel")
    assert body == {
        "data": {
            "setPresence": {
                "userId": "pavel",
                "working": True,
                "online": True,
                "onDuty": True,
            }
        }
    }
    assert await on_duty_at(team) == ["pavel", "ursula"]


async def test_a_manager_cannot_set_someone_elses_presence(team: Stack) -> None:
    team.clock.set(tomsk("2026-11-02 10:00"))
    body = await set_presence(team, "ursula", False, by="pavel")
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "themselves" in error["message"]
    assert await on_duty_at(team) == ["ursula"]


async def test_an_admin_sets_anyones_presence(team: Stack) -> None:
    team.clock.set(tomsk("2026-11-02 10:00"))
    on = await set_presence(team, "pavel", True, by="head", role="admin")
    off = await set_presence(team, "ursula", False, by="head", role="admin")
    assert on["data"]["setPresence"]["onDuty"] is True
    assert off["data"]["setPresence"]["onDuty"] is False
    assert await on_duty_at(team) == ["pavel"]


@pytest.mark.parametrize("role", ["partner", "viewer"])
async def test_other_roles_cannot_set_presence(team: Stack, role: str) -> None:
    body = await set_presence(team, "pavel", True, by="pavel", role=role)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_presence_of_an_unknown_user_is_not_found(team: Stack) -> None:
    body = await set_presence(team, "olga", True, by="head", role="admin")
    [error] = body["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert "olga" in error["message"]


async def test_presence_follows_the_schedule(team: Stack) -> None:
    seen = {}
    for at in (
        "2026-11-02 08:59",
        "2026-11-02 09:00",
        "2026-11-02 17:59",
        "2026-11-02 18:00",
        "2026-11-03 09:30",
        "2026-11-04 10:00",
    ):
        team.clock.set(tomsk(at))
        seen[at] = await on_duty_at(team)
    assert seen == {
        "2026-11-02 08:59": [],
        "2026-11-02 09:00": ["ursula"],
        "2026-11-02 17:59": ["ursula"],
        "2026-11-02 18:00": [],
        "2026-11-03 09:30": ["ursula"],
        "2026-11-04 10:00": [],  # no shift on Wednesday
    }


async def test_going_offline_holds_until_the_next_shift_starts(team: Stack) -> None:
    team.clock.set(tomsk("2026-11-02 10:00"))
    body = await set_presence(team, "ursula", False, by="ursula")
    assert body["data"]["setPresence"] == {
        "userId": "ursula",
        "working": True,
        "online": False,
        "onDuty": False,
    }
    for at, expected in [
        ("2026-11-02 17:59", []),  # still offline by her own choice
        ("2026-11-02 18:00", []),  # the shift ends: offline anyway
        ("2026-11-03 09:00", ["ursula"]),  # the next shift brings her back
    ]:
        team.clock.set(tomsk(at))
        assert await on_duty_at(team) == expected, at


async def test_going_online_off_shift_holds_until_the_shift_ends(team: Stack) -> None:
    team.clock.set(tomsk("2026-11-02 20:00"))
    body = await set_presence(team, "ursula", True, by="ursula")
    # Online, but not on duty: on duty needs the schedule too.
    assert body["data"]["setPresence"] == {
        "userId": "ursula",
        "working": False,
        "online": True,
        "onDuty": False,
    }
    duty = """query { onDuty { users { userId } } }"""
    states = """
    query($u: ID!, $from: DateTime!, $to: DateTime!) {
      schedule(userId: $u, from: $from, to: $to) { start }
    }
    """
    assert (await team.data(duty))["onDuty"]["users"] == []
    team.clock.set(tomsk("2026-11-03 17:59"))
    assert await on_duty_at(team) == ["ursula"]
    team.clock.set(tomsk("2026-11-03 18:00"))
    assert await on_duty_at(team) == []
    # The schedule itself never changed.
    intervals = await team.data(
        states,
        {
            "u": "ursula",
            "from": tomsk("2026-11-02 00:00").isoformat(),
            "to": tomsk("2026-11-04 00:00").isoformat(),
        },
    )
    assert len(intervals["schedule"]) == 2


async def test_a_later_presence_change_does_not_rewrite_the_past(team: Stack) -> None:
    team.clock.set(tomsk("2026-11-02 12:00"))
    await set_presence(team, "ursula", False, by="ursula")
    assert await on_duty_at(team, "2026-11-02 11:00") == ["ursula"]
    assert await on_duty_at(team, "2026-11-02 13:00") == []


async def test_manual_presence_stays_as_set_across_shifts(team: Stack) -> None:
    team.clock.set(tomsk("2026-11-02 10:00"))
    assert await on_duty_at(team) == ["ursula"]  # Pavel has not gone online
    await set_presence(team, "pavel", True, by="pavel")
    for at, expected in [
        ("2026-11-02 10:00", ["pavel", "ursula"]),
        ("2026-11-02 19:00", []),  # online, but off shift
        ("2026-11-03 10:00", ["pavel", "ursula"]),  # still online next morning
    ]:
        team.clock.set(tomsk(at))
        assert await on_duty_at(team) == expected, at
    await set_presence(team, "pavel", False, by="pavel")
    assert await on_duty_at(team) == ["ursula"]


async def test_template_participants_show_presence(team: Stack) -> None:
    workspace = (
        WORKSPACE
        + """
templates:
  - id: everything
    participants: [{user: ursula, weight: 3}, {user: pavel, weight: 1}]
    algorithm: weighted
"""
    )
    assert (await team.apply(workspace))["ok"]
    team.clock.set(tomsk("2026-11-02 10:00"))
    await set_presence(team, "ursula", False, by="ursula")
    query = """{ onDuty(channel: "form") {
        template { id participants { userId weight onDuty } } } }"""
    data = await team.data(query)
    assert data["onDuty"]["template"] == {
        "id": "everything",
        "participants": [
            {"userId": "ursula", "weight": 3, "onDuty": False},
            {"userId": "pavel", "weight": 1, "onDuty": False},
        ],
    }
    await set_presence(team, "pavel", True, by="pavel")
    data = await team.data(query)
    assert [p["onDuty"] for p in data["onDuty"]["template"]["participants"]] == [
        False,
        True,
    ]
