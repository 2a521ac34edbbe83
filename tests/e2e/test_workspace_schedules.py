"""Schedules and templates in `applyWorkspace`: problems with paths, all or nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.stack import Stack

TOMSK = ZoneInfo("Asia/Tomsk")

HEAD = """
account: {timezone: Asia/Tomsk}
users:
  - {id: head, name: Head}
  - {id: ursula, name: Ursula}
  - {id: marina, name: Marina}
  - {id: pool, name: Lead exchange, technical: true}
pipelines:
  - id: sales
    stages: [{id: new, kind: open}, {id: taken, kind: open}, {id: won, kind: won},
             {id: lost, kind: lost}]
"""

GOOD = (
    HEAD
    + """
schedules:
  - user: ursula
    weekly: {mon: ["09:00-18:00"]}
    presence: follow_schedule
  - user: marina
    cycle: {on: 2, off: 2, anchor: 2026-11-02, window: "20:00-08:00"}
    presence: follow_schedule
templates:
  - id: calls
    match: {channels: [call]}
    days: [mon, tue, wed, thu, fri]
    window: "09:00-18:00"
    participants: [{user: ursula, weight: 1}]
    algorithm: round_robin
  - id: nights
    window: "20:00-08:00"
    participants: [{user: marina, weight: 2}]
    algorithm: weighted
    when_nobody: {user: ursula}
"""
)

ON_DUTY = """
query($at: DateTime!) {
  onDuty(at: $at, channel: "call") { users { userId } template { id } }
}
"""


def tomsk(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TOMSK)


async def apply(stack: Stack, text: str) -> dict[str, Any]:
    return await stack.apply(text)


def problems(result: dict[str, Any]) -> list[str]:
    assert result["ok"] is False
    assert result["changes"] == []
    return [f"{p['path']}: {p['message']}" for p in result["problems"]]


def replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


async def test_a_good_file_applies_and_again_changes_nothing(any_stack: Stack) -> None:
    first = await apply(any_stack, GOOD)
    assert first["ok"], first["problems"]
    assert {
        "schedule of ursula: added",
        "schedule of marina: added",
        "template calls: added",
        "template nights: added",
    } <= set(first["changes"])
    assert await apply(any_stack, GOOD) == {"ok": True, "changes": [], "problems": []}


async def test_changes_are_reported_per_schedule_and_template(stack: Stack) -> None:
    assert (await apply(stack, GOOD))["ok"]
    edited = replace(GOOD, 'mon: ["09:00-18:00"]', 'mon: ["10:00-18:00"]')
    edited = replace(
        edited,
        "participants: [{user: marina, weight: 2}]",
        "participants: [{user: marina, weight: 3}]",
    )
    result = await apply(stack, edited)
    assert result["ok"], result["problems"]
    assert result["changes"] == [
        "schedule of ursula: weekly.mon ['09:00-18:00'] → ['10:00-18:00']",
        "template nights: participants [{user: marina, weight: 2}] → "
        "[{user: marina, weight: 3}]",
    ]
    renamed = replace(edited, "  - id: calls\n", "  - id: calls-day\n")
    result = await apply(stack, renamed)
    assert result["ok"], result["problems"]
    # Without leave to remove, the template the file no longer names stays.
    assert result["changes"] == ["template calls-day: added"]
    result = await stack.data(
        "mutation($y: String!) { applyWorkspace(yaml: $y, allowRemovals: true) "
        "{ changes } }",
        {"y": renamed},
    )
    assert result["applyWorkspace"]["changes"] == ["template calls: removed"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'mon: ["09:00-18:00"]',
            'mon: ["09:00-25:00"]',
            "schedules[0].weekly.mon[0]: schedule of Ursula: window '09:00-25:00': "
            "bad time '25:00', "
            "expected 00:00..23:59 (or 24:00 as an end)",
        ),
        (
            'mon: ["09:00-18:00"]',
            'mon: ["09:00-09:00"]',
            "schedules[0].weekly.mon[0]: schedule of Ursula: window '09:00-09:00': "
            "start equals end, "
            "ambiguous",
        ),
        (
            'mon: ["09:00-18:00"]',
            'mon: ["9 to 6"]',
            "schedules[0].weekly.mon[0]: schedule of Ursula: window '9 to 6': "
            "expected HH:MM-HH:MM, "
            "e.g. 09:00-18:00",
        ),
        (
            'mon: ["09:00-18:00"]',
            'monday: ["09:00-18:00"]',
            "schedules[0].weekly.monday: schedule of Ursula: unknown value 'monday': "
            "expected 'mon', "
            "'tue', 'wed', 'thu', 'fri', 'sat' or 'sun'",
        ),
        (
            'window: "20:00-08:00"}',
            'window: "24:00-08:00"}',
            "schedules[1].cycle.window: schedule of Marina: window '24:00-08:00': "
            "24:00 is only valid "
            "as an end",
        ),
        (
            "{on: 2, off: 2,",
            "{on: 0, off: 2,",
            "schedules[1].cycle.on: schedule of Marina: must be >= 1",
        ),
        (
            "anchor: 2026-11-02",
            "anchor: 2026-13-02",
            "schedules[1].cycle.anchor: schedule of Marina: must be a date, written "
            "YYYY-MM-DD",
        ),
        (
            "presence: follow_schedule\n  - user: marina",
            "presence: sometimes\n  - user: marina",
            "schedules[0].presence: schedule of Ursula: unknown value 'sometimes': "
            "expected "
            "'follow_schedule' or 'manual'",
        ),
        (
            "  - user: marina\n",
            "  - user: ursula\n",
            "schedules[1].user: schedule of Ursula: 'Ursula' already has a schedule; "
            "put all of a "
            "user's working time in one entry",
        ),
        (
            "  - user: marina\n",
            "  - user: olga\n",
            "schedules[1].user: schedule of olga: unknown user 'olga'",
        ),
        (
            "presence: follow_schedule\n  - user: marina",
            "exceptions: [{from: 2026-12-14, to: 2026-12-01, reason: vacation}]"
            "\n  - user: marina",
            "schedules[0].exceptions[0].to: schedule of Ursula: ends before 'from'",
        ),
        (
            "days: [mon, tue, wed, thu, fri]",
            "days: [mon, tue, wed, thu, fry]",
            "templates[0].days[4]: template calls: unknown value 'fry': expected "
            "'mon', 'tue', "
            "'wed', 'thu', 'fri', 'sat' or 'sun'",
        ),
        (
            'window: "09:00-18:00"\n',
            'window: "18:00"\n',
            "templates[0].window: template calls: window '18:00': expected "
            "HH:MM-HH:MM, e.g. "
            "09:00-18:00",
        ),
        (
            "participants: [{user: marina, weight: 2}]",
            "participants: [{user: marina, weight: 0}]",
            "templates[1].participants[0].weight: template nights: must be >= 1",
        ),
        (
            "participants: [{user: marina, weight: 2}]",
            "participants: [{user: marina, weight: 1.5}]",
            "templates[1].participants[0].weight: template nights: must be a whole "
            "number",
        ),
        (
            "participants: [{user: ursula, weight: 1}]",
            "participants: [{user: ursula, weight: 1}, {user: olga}]",
            "templates[0].participants[1].user: template calls: unknown user 'olga'",
        ),
        (
            "participants: [{user: ursula, weight: 1}]",
            "participants: [{user: ursula, weight: 1}, {user: ursula, weight: 2}]",
            "templates[0].participants[1].user: template calls: 'Ursula' is listed "
            "twice",
        ),
        (
            "participants: [{user: ursula, weight: 1}]",
            "participants: [{user: pool}]",
            "templates[0].participants[0].user: template calls: 'Lead exchange' is "
            "a technical user; it takes no leads",
        ),
        (
            "participants: [{user: ursula, weight: 1}]",
            "participants: []",
            "templates[0].participants: template calls: must not be empty",
        ),
        (
            "algorithm: round_robin",
            "algorithm: fastest",
            "templates[0].algorithm: template calls: unknown value 'fastest': expected "
            "'round_robin', 'weighted', 'random', 'least_loaded' or 'linked'",
        ),
        (
            "algorithm: round_robin",
            "algorithm: round_robin\n    fallback_algorithm: least_loaded",
            "templates[0].fallback_algorithm: template calls: only a linked template "
            "has one",
        ),
        (
            "when_nobody: {user: ursula}",
            "when_nobody: {user: olga}",
            "templates[1].when_nobody.user: template nights: unknown user 'olga'",
        ),
        (
            "when_nobody: {user: ursula}",
            "when_nobody: nobody",
            "templates[1].when_nobody: template nights: expected 'hold' or {user: ID}",
        ),
        (
            "match: {channels: [call]}",
            "match: {channel: [call]}",
            "templates[0].match.channel: template calls: unknown field",
        ),
        (
            "match: {channels: [call]}",
            "match: {channels: [call], pipelines: [rentals]}",
            "templates[0].match.pipelines[0]: template calls: unknown pipeline "
            "'rentals'",
        ),
        (
            "algorithm: round_robin",
            "algorithm: round_robin\n    target_stage: sales/gone",
            "templates[0].target_stage: template calls: unknown stage 'sales/gone'",
        ),
        (
            "algorithm: round_robin",
            "algorithm: round_robin\n    reassign_after_minutes: 0",
            "templates[0].reassign_after_minutes: template calls: must be >= 1",
        ),
        (
            "  - id: nights",
            "  - id: calls",
            "templates[1].id: template calls: duplicate template 'calls'",
        ),
    ],
)
async def test_a_problem_is_reported_with_its_path_and_nothing_is_applied(
    stack: Stack, old: str, new: str, expected: str
) -> None:
    assert (await apply(stack, GOOD))["ok"]
    before = await stack.data(ON_DUTY, {"at": tomsk("2026-11-02 10:00").isoformat()})
    broken = replace(GOOD, old, new)
    # Changes that would show at Monday 10:00 if any part of the file landed.
    for window in ('mon: ["09:00-18:00"]', 'window: "09:00-18:00"\n'):
        broken = broken.replace(window, window.replace("09:00", "11:00"))
    result = await apply(stack, broken)
    assert problems(result) == [expected]
    after = await stack.data(ON_DUTY, {"at": tomsk("2026-11-02 10:00").isoformat()})
    assert (
        after
        == before
        == {"onDuty": {"users": [{"userId": "ursula"}], "template": {"id": "calls"}}}
    )
    assert await apply(stack, GOOD) == {"ok": True, "changes": [], "problems": []}


async def test_every_problem_of_a_file_is_reported_at_once(stack: Stack) -> None:
    broken = replace(
        GOOD,
        "participants: [{user: marina, weight: 2}]",
        "participants: [{user: marina, weight: 0}]",
    )
    broken = replace(broken, "algorithm: round_robin", "algorithm: fastest")
    broken = replace(broken, 'mon: ["09:00-18:00"]', 'mon: ["09:00-09:00"]')
    result = await apply(stack, broken)
    paths = sorted(p["path"] for p in result["problems"])
    assert paths == [
        "schedules[0].weekly.mon[0]",
        "templates[0].algorithm",
        "templates[1].participants[0].weight",
    ]
    nothing = await stack.data(ON_DUTY, {"at": tomsk("2026-11-02 10:00").isoformat()})
    assert nothing == {"onDuty": {"users": [], "template": None}}


async def test_references_are_checked_once_the_file_is_well_formed(
    stack: Stack,
) -> None:
    broken = replace(
        GOOD,
        "participants: [{user: ursula, weight: 1}]",
        "participants: [{user: olga}, {user: pavel}]",
    )
    broken = replace(broken, "  - user: marina\n", "  - user: nadya\n")
    result = await apply(stack, broken)
    assert problems(result) == [
        "schedules[1].user: schedule of nadya: unknown user 'nadya'",
        "templates[0].participants[0].user: template calls: unknown user 'olga'",
        "templates[0].participants[1].user: template calls: unknown user 'pavel'",
    ]


async def test_a_dry_run_validates_without_applying(stack: Stack) -> None:
    result = await stack.data(
        "mutation($y: String!) { applyWorkspace(yaml: $y, dryRun: true) "
        "{ ok changes problems { path } } }",
        {"y": GOOD},
    )
    assert result["applyWorkspace"]["ok"] is True
    nothing = await stack.data(ON_DUTY, {"at": tomsk("2026-11-02 10:00").isoformat()})
    assert nothing == {"onDuty": {"users": [], "template": None}}
