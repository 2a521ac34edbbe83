"""The seed-001 customer (Tomsk) through the gateway: who takes a lead, and when."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from leadrouter.config import SERVICES
from tests.e2e.push_support import decided, submit, tick
from tests.stack import Stack

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "seed001-tomsk.yaml"
TOMSK = ZoneInfo("Asia/Tomsk")

ON_DUTY = """
query($at: DateTime, $channel: String) {
  onDuty(at: $at, channel: $channel) {
    at
    users { userId working online onDuty }
    template { id participants { userId weight onDuty } }
    nextOpening
  }
}
"""


def tomsk(text: str) -> datetime:
    """A wall-clock time in Tomsk; 2026-11-02 is a Monday."""
    return datetime.fromisoformat(text).replace(tzinfo=TOMSK)


def instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


async def on_duty(stack: Stack, at: datetime | None, channel: str | None) -> Any:
    variables = {"channel": channel, "at": at.isoformat() if at else None}
    return (await stack.data(ON_DUTY, variables))["onDuty"]


# A template's participants as (user, weight, on duty now); the managers follow
# their schedules and nobody changed their presence, so on duty = on shift.
Team = list[tuple[str, int, bool]]
WRITTEN_WEEKDAYS: Team = [("ursula", 1, True), ("nadezhda", 1, True)]
CALLS_DAY: Team = [("ursula", 1, True), ("nadezhda", 2, True)]
CALLS_EVENING: Team = [("ursula", 1, True), ("marina", 1, True)]
SATURDAY: Team = [("marina", 1, True), ("nadezhda", 2, True)]

MON_09 = "2026-11-02 09:00"
TUE_09 = "2026-11-03 09:00"
SAT_09 = "2026-11-07 09:00"
NEXT_MON_00 = "2026-11-09 00:00"
NEXT_MON_09 = "2026-11-09 09:00"

# instant (Tomsk) -> users on duty, call template, written (form) template.
# A template is (id, participants) or, when none takes the lead, the instant
# at which one will ("nextOpening").
CASES: list[tuple[str, list[str], Any, Any]] = [
    (
        "2026-11-02 03:00",  # Monday night: REON's 00:00-09:00 template
        ["marina", "ursula"],
        ("calls-night", CALLS_EVENING),
        MON_09,
    ),
    (
        "2026-11-02 10:00",  # Monday morning
        ["nadezhda", "ursula"],
        ("calls-day", CALLS_DAY),
        ("written-weekdays", WRITTEN_WEEKDAYS),
    ),
    (
        "2026-11-02 15:59",
        ["nadezhda", "ursula"],
        ("calls-day", CALLS_DAY),
        ("written-weekdays", WRITTEN_WEEKDAYS),
    ),
    (
        "2026-11-02 16:00",  # Marina comes on; evening calls start
        ["marina", "nadezhda", "ursula"],
        ("calls-evening", CALLS_EVENING),
        ("written-weekdays", WRITTEN_WEEKDAYS),
    ),
    (
        "2026-11-02 23:30",
        ["marina", "ursula"],
        ("calls-evening", CALLS_EVENING),
        TUE_09,
    ),
    (
        "2026-11-02 23:59:30",  # 16:00-23:59 covers its last minute
        ["marina", "ursula"],
        ("calls-evening", CALLS_EVENING),
        TUE_09,
    ),
    (
        "2026-11-03 00:00",  # Tuesday's night template takes over
        ["marina", "ursula"],
        ("calls-night", CALLS_EVENING),
        TUE_09,
    ),
    (
        "2026-11-03 08:59",
        ["marina", "ursula"],
        ("calls-night", CALLS_EVENING),
        TUE_09,
    ),
    (
        "2026-11-06 23:00",  # Friday night
        ["marina", "ursula"],
        ("calls-evening", CALLS_EVENING),
        SAT_09,
    ),
    # Saturday night is no weekday: no template takes a call until 09:00.
    ("2026-11-07 00:00", [], SAT_09, SAT_09),
    ("2026-11-07 03:00", [], SAT_09, SAT_09),
    ("2026-11-07 08:59", [], SAT_09, SAT_09),
    (
        "2026-11-07 10:00",
        ["marina", "nadezhda"],
        ("calls-saturday", SATURDAY),
        ("written-saturday", SATURDAY),
    ),
    ("2026-11-07 17:30", [], NEXT_MON_00, NEXT_MON_09),  # Saturday evening
    ("2026-11-08 12:00", [], NEXT_MON_00, NEXT_MON_09),  # Sunday
    (
        "2026-11-09 03:00",  # Monday night again, after the weekend
        ["marina", "ursula"],
        ("calls-night", CALLS_EVENING),
        NEXT_MON_09,
    ),
]


def expected_answer(users: list[str], expected: Any) -> dict[str, Any]:
    if isinstance(expected, str):
        return {"users": users, "template": None, "nextOpening": tomsk(expected)}
    template_id, team = expected
    return {
        "users": users,
        "template": {
            "id": template_id,
            "participants": [
                {"userId": user, "weight": weight, "onDuty": duty}
                for user, weight, duty in team
            ],
        },
        "nextOpening": None,
    }


def seen_answer(answer: dict[str, Any]) -> dict[str, Any]:
    return {
        "users": sorted(u["userId"] for u in answer["users"]),
        "template": answer["template"],
        "nextOpening": instant(answer["nextOpening"]),
    }


@pytest.fixture
async def customer(stack: Stack) -> Stack:
    result = await stack.apply(EXAMPLE.read_text(encoding="utf-8"))
    assert result["ok"], result["problems"]
    return stack


@pytest.mark.parametrize(
    ("at", "users", "call", "written"), CASES, ids=[case[0] for case in CASES]
)
async def test_on_duty_names_the_template_of_the_customer_case(
    customer: Stack, at: str, users: list[str], call: Any, written: Any
) -> None:
    for channel, expected in (("call", call), ("form", written)):
        answer = await on_duty(customer, tomsk(at), channel)
        assert instant(answer["at"]) == tomsk(at)
        assert seen_answer(answer) == expected_answer(users, expected), channel


@pytest.mark.parametrize("channel", ["email", "chat", "whatsapp"])
async def test_every_channel_but_call_is_a_written_request(
    customer: Stack, channel: str
) -> None:
    monday = await on_duty(customer, tomsk("2026-11-02 17:00"), channel)
    saturday = await on_duty(customer, tomsk("2026-11-07 12:00"), channel)
    assert monday["template"]["id"] == "written-weekdays"
    assert saturday["template"]["id"] == "written-saturday"


async def test_on_duty_defaults_to_the_current_instant(customer: Stack) -> None:
    customer.clock.set(tomsk("2026-11-07 16:59"))
    answer = await on_duty(customer, None, "call")
    assert instant(answer["at"]) == tomsk("2026-11-07 16:59")
    assert answer["template"]["id"] == "calls-saturday"
    customer.clock.set(tomsk("2026-11-07 17:00"))
    answer = await on_duty(customer, None, "call")
    assert answer["template"] is None
    assert instant(answer["nextOpening"]) == tomsk(NEXT_MON_00)


async def test_without_a_channel_on_duty_lists_users_only(customer: Stack) -> None:
    answer = await on_duty(customer, tomsk("2026-11-02 16:30"), None)
    assert sorted(u["userId"] for u in answer["users"]) == [
        "marina",
        "nadezhda",
        "ursula",
    ]
    assert all(u["working"] and u["online"] for u in answer["users"])
    assert answer["template"] is None
    assert answer["nextOpening"] is None


async def test_the_example_applies_on_each_database_and_again_without_changes(
    any_stack: Stack,
) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    first = await any_stack.apply(text)
    assert first["ok"], first["problems"]
    assert "template calls-evening: added" in first["changes"]
    assert "schedule of marina: added" in first["changes"]
    again = await any_stack.apply(text)
    assert again == {"ok": True, "changes": [], "problems": []}
    answer = await on_duty(any_stack, tomsk("2026-11-02 03:00"), "call")
    assert answer["template"]["id"] == "calls-night"
    answer = await on_duty(any_stack, tomsk("2026-11-07 03:00"), "call")
    assert answer["template"] is None
    assert instant(answer["nextOpening"]) == tomsk(SAT_09)


async def test_the_first_monday_window_opens_at_nine(customer: Stack) -> None:
    """Before a week's first window, a waiting lead is told when it will be taken."""
    answer = await on_duty(customer, tomsk("2026-11-02 08:00"), "form")
    assert answer["template"] is None
    assert instant(answer["nextOpening"]) == tomsk(MON_09)


async def test_leadrouter_apply_accepts_the_example(
    stack: Stack, tmp_path: Path
) -> None:
    """The command a person runs, pointed at this test's services."""
    env = dict(
        os.environ, LEADROUTER_ACCOUNT=stack.account, LEADROUTER_DATA_DIR=str(tmp_path)
    )
    for service in SERVICES:
        env[f"LEADROUTER_{service.upper()}_ADDR"] = stack.clients.addresses[service][0]

    async def leadrouter_apply() -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "leadrouter.cli",
            "apply",
            str(EXAMPLE),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
        return process.returncode or 0, out.decode()

    code, out = await leadrouter_apply()
    assert code == 0, out
    assert "template calls-evening: added" in out
    code, out = await leadrouter_apply()
    assert (code, out.strip()) == (0, f"{EXAMPLE}: no changes")
    answer = await on_duty(stack, tomsk("2026-11-02 16:00"), "call")
    assert answer["template"]["id"] == "calls-evening"


async def test_reons_two_night_templates_push_monday_03_00_and_hold_saturday_03_00(
    any_stack: Stack,
) -> None:
    """23.8 on each database: the seed's setup, pushed as it runs."""
    result = await any_stack.apply(EXAMPLE.read_text(encoding="utf-8"))
    assert result["ok"], result["problems"]

    any_stack.clock.set(tomsk("2026-11-07 03:00"))  # Saturday night
    await submit(any_stack, "SAT-03")
    (held,) = await decided(any_stack, "SAT-03")
    any_stack.clock.set(tomsk(SAT_09))
    released = await tick(any_stack)
    any_stack.clock.set(tomsk("2026-11-09 03:00"))  # Monday night
    await submit(any_stack, "MON-03")
    (monday,) = await decided(any_stack, "MON-03")

    assert (held["outcome"], held["reasons"]) == ("held", [{"code": "no_template"}])
    # Saturday 09:00: the Saturday calls' template, Marina first (Marina 1,
    # Nadezhda 2).
    assert [(d.lead_id, d.template_id, d.assignee) for d in released] == [
        ("SAT-03", "calls-saturday", "marina")
    ]
    assert monday["outcome"] == "assigned"
    assert monday["templateId"] == "calls-night"
    assert monday["assignee"] in {"ursula", "marina"}
