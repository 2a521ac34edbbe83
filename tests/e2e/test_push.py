"""Push distribution through the CRM's event stream, the assigner and the gateway."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest

from tests.e2e.push_support import (
    DISTRIBUTE,
    crm_events,
    decided,
    details,
    owners,
    push_decisions,
    pushed,
    stages,
    submit,
    tick,
    tomsk,
)
from tests.stack import Stack

# Ursula, Nadezhda and Marina work 09-18 on weekdays and follow their shifts;
# Pavel has no schedule (never on duty); the head of sales is the fallback.
WORKSPACE = """
account: {timezone: Asia/Tomsk}
users:
  - {id: head, name: Head}
  - {id: ursula, name: Ursula}
  - {id: nadezhda, name: Nadezhda}
  - {id: marina, name: Marina}
  - {id: pavel, name: Pavel}
  - {id: pool, name: Inbox, technical: true}
pipelines:
  - id: sales
    stages:
      - {id: new, kind: open}
      - {id: taken, kind: open}
      - {id: meeting, kind: open}
      - {id: won, kind: won}
      - {id: lost, kind: lost}
groups:
  - id: main
    source_stages: [sales/new]
    target_stage: sales/taken
    exchange_users: [pool]
    cascade: true
    members:
      - {user: ursula}
      - {user: nadezhda}
      - {user: marina, limits: {max_active: 2}}
schedules:
  - {user: ursula, weekly: {mon: ["09:00-18:00"], tue: ["09:00-18:00"]},
     presence: follow_schedule}
  - {user: nadezhda, weekly: {mon: ["09:00-18:00"], tue: ["09:00-18:00"]},
     presence: follow_schedule}
  - {user: marina, weekly: {mon: ["09:00-20:00"], tue: ["09:00-20:00"]},
     presence: follow_schedule}
templates:
  - id: calls
    match: {channels: [call]}
    participants: [{user: ursula, weight: 1}, {user: nadezhda, weight: 2}]
    algorithm: weighted
    target_stage: sales/taken
  - id: weekday-forms
    match: {channels: [form]}
    days: [mon, tue, wed, thu, fri]
    window: "09:00-18:00"
    participants: [{user: ursula}, {user: nadezhda}]
    algorithm: round_robin
    target_stage: sales/taken
  - id: chats
    match: {channels: [chat]}
    participants: [{user: ursula}, {user: pavel}]
    algorithm: round_robin
    when_nobody: {user: head}
"""


def variant(*edits: tuple[str, str]) -> str:
    """WORKSPACE with some lines replaced; each must be there to replace."""
    text = WORKSPACE
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    return text


async def _setup(stack: Stack, workspace: str = WORKSPACE) -> None:
    result = await stack.apply(workspace)
    assert result["ok"], result["problems"]


async def test_a_new_lead_goes_to_the_on_duty_participants_by_weight(
    any_stack: Stack,
) -> None:
    await _setup(any_stack)
    winners = [(await pushed(any_stack, f"L{i}"))["assignee"] for i in range(6)]
    assert winners == ["ursula", "nadezhda", "nadezhda"] * 2
    assert await owners(any_stack, "L0", "L1") == {"L0": "ursula", "L1": "nadezhda"}
    assert (await stages(any_stack, "L0"))["L0"] == "sales/taken"


async def test_the_decision_says_which_template_who_was_considered_and_why(
    any_stack: Stack,
) -> None:
    await _setup(any_stack)
    first = await pushed(any_stack, "L1")
    d = details(first)
    assert (first["templateId"], first["algorithm"], first["outcome"]) == (
        "calls",
        "weighted",
        "assigned",
    )
    assert d["trigger"] == "arrival"
    by_user = {c["user"]: c for c in d["candidates"]}
    assert by_user["ursula"]["result"] == "won"
    assert "its turn" in by_user["ursula"]["why"]
    assert by_user["nadezhda"]["on_duty"] is True
    assert by_user["nadezhda"]["result"] == "listed_later"
    assert "listed later" in by_user["nadezhda"]["why"]


async def test_distribute_lead_returns_the_decision_once_per_key(
    any_stack: Stack,
) -> None:
    await _setup(any_stack)
    first = await pushed(any_stack, "L1")
    again = await any_stack.data(
        DISTRIBUTE, {"lead": "L1", "key": "k1"}, user="site", role="partner"
    )
    assert again["distributeLead"]["id"] == first["id"]
    replay = await any_stack.data(
        DISTRIBUTE, {"lead": "L1", "key": "k1"}, user="site", role="partner"
    )
    assert replay == again
    types = [e["type"] for e in await crm_events(any_stack, "L1")]
    assert types.count("responsible_changed") == 1
    body = await any_stack.gql(
        DISTRIBUTE, {"lead": "L1"}, user="ursula", role="manager"
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_distribute_lead_refuses_a_lead_a_manager_already_owns(
    any_stack: Stack,
) -> None:
    await _setup(any_stack)
    await any_stack.import_history(
        [
            {
                "type": "lead_created",
                "at": any_stack.clock.now().isoformat(),
                "lead": "MINE",
                "pipeline": "sales",
                "stage": "taken",
                "responsible": "marina",
                "channel": "call",
            }
        ]
    )
    body = await any_stack.gql(DISTRIBUTE, {"lead": "MINE"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "already belongs to marina" in body["errors"][0]["message"]
    assert await owners(any_stack, "MINE") == {"MINE": "marina"}


async def test_a_lead_held_when_nobody_is_on_duty_goes_out_oldest_first(
    any_stack: Stack,
) -> None:
    await _setup(any_stack)
    any_stack.clock.set(tomsk("2026-11-02T20:00"))
    first = await pushed(any_stack, "EVE1")
    any_stack.clock.set(tomsk("2026-11-02T21:00"))
    await pushed(any_stack, "EVE2")
    assert first["outcome"] == "held"
    assert first["reasons"] == [{"code": "nobody_on_duty"}]
    assert await owners(any_stack, "EVE1", "EVE2") == {"EVE1": "pool", "EVE2": "pool"}

    any_stack.clock.set(tomsk("2026-11-03T08:59"))
    assert await tick(any_stack) == []
    any_stack.clock.set(tomsk("2026-11-03T09:00"))
    made = await tick(any_stack)
    assert [(d.lead_id, d.assignee) for d in made] == [
        ("EVE1", "ursula"),
        ("EVE2", "nadezhda"),
    ]
    assert await owners(any_stack, "EVE1", "EVE2") == {
        "EVE1": "ursula",
        "EVE2": "nadezhda",
    }


async def test_a_lead_no_template_takes_waits_for_the_window_that_does(
    any_stack: Stack,
) -> None:
    await _setup(any_stack)
    any_stack.clock.set(tomsk("2026-11-07T12:00"))  # Saturday
    held = await pushed(any_stack, "F1", "form")
    assert held["outcome"] == "held"
    assert held["reasons"] == [{"code": "no_template"}]
    opening = datetime.fromisoformat(details(held)["next_opening"])
    assert opening == tomsk("2026-11-09T09:00")  # Monday morning

    any_stack.clock.set(tomsk("2026-11-09T09:00"))
    made = await tick(any_stack)
    assert [(d.lead_id, d.template_id, d.assignee) for d in made] == [
        ("F1", "weekday-forms", "ursula")
    ]


async def test_when_nobody_is_on_duty_the_fallback_user_gets_the_lead(
    any_stack: Stack,
) -> None:
    await _setup(any_stack)
    any_stack.clock.set(tomsk("2026-11-02T22:00"))
    decision = await pushed(any_stack, "C1", "chat")
    assert (decision["outcome"], decision["assignee"]) == ("assigned", "head")
    # The fallback user's leads are not handed over at the next shift change.
    any_stack.clock.set(tomsk("2026-11-03T09:30"))
    await tick(any_stack)
    assert await owners(any_stack, "C1") == {"C1": "head"}


async def test_coming_online_releases_held_leads(any_stack: Stack) -> None:
    await _setup(
        any_stack,
        variant(
            (
                '  - {user: marina, weekly: {mon: ["09:00-20:00"], '
                'tue: ["09:00-20:00"]},\n     presence: follow_schedule}',
                "  - {user: marina, free: true}",
            ),
            (
                "participants: [{user: ursula}, {user: pavel}]",
                "participants: [{user: marina}]",
            ),
            ("    when_nobody: {user: head}\n", ""),
        ),
    )
    held = await pushed(any_stack, "C1", "chat")
    assert held["outcome"] == "held"  # marina is free but OFFLINE
    await any_stack.data(
        'mutation { setPresence(userId: "marina", online: true) { onDuty } }',
        user="marina",
        role="manager",
    )
    # Released by the presence change itself, not by a later periodic round.
    assert await owners(any_stack, "C1") == {"C1": "marina"}
    made = await tick(any_stack)
    assert [(d.lead_id, d.assignee) for d in made] == [("C1", "marina")]


@pytest.mark.parametrize("channel", ["call"])
async def test_submitting_the_same_lead_twice_pushes_it_once(
    any_stack: Stack, channel: str
) -> None:
    await _setup(any_stack)
    await submit(any_stack, "DUP", channel)
    await decided(any_stack, "DUP")
    counts = Counter(e["type"] for e in await crm_events(any_stack, "DUP"))
    assert counts["responsible_changed"] == 1


async def test_limits_gate_push_when_the_template_respects_them(
    any_stack: Stack,
) -> None:
    await _setup(
        any_stack,
        variant(
            (
                "{user: nadezhda, weight: 2}]\n    algorithm: weighted",
                "{user: marina, weight: 5}]\n    algorithm: weighted\n"
                "    respect_limits: true",
            )
        ),
    )
    start = any_stack.clock.now() - timedelta(days=1)
    await any_stack.import_history(
        [
            {
                "type": "lead_created",
                "at": (start + timedelta(minutes=i)).isoformat(),
                "lead": f"M{i}",
                "pipeline": "sales",
                "stage": "taken",
                "responsible": "marina",
                "channel": "call",
            }
            for i in range(2)
        ]
    )
    decision = await pushed(any_stack, "L1")
    assert decision["assignee"] == "ursula"
    marina = next(c for c in details(decision)["candidates"] if c["user"] == "marina")
    assert marina["result"] == "limit"
    assert marina["limits"][0]["limit"] == "max_active"
    assert marina["limits"][0]["passed"] is False
    assert details(decision)["limits_group"] == "main"


async def test_round_robin_alternates_whatever_the_weights(any_stack: Stack) -> None:
    await _setup(any_stack)
    winners = [(await pushed(any_stack, f"F{i}", "form"))["assignee"] for i in range(4)]
    assert winners == ["ursula", "nadezhda", "ursula", "nadezhda"]


async def test_leads_imported_from_past_days_stay_in_the_pool_until_asked(
    any_stack: Stack,
) -> None:
    await _setup(any_stack)
    now = any_stack.clock.now()
    await any_stack.import_history(
        [
            {
                "type": "lead_created",
                "at": (now - timedelta(days=2)).isoformat(),
                "lead": "OLD",
                "pipeline": "sales",
                "stage": "new",
                "responsible": "pool",
                "channel": "call",
            }
        ]
    )
    await pushed(any_stack, "NEW")  # read after OLD's event: OLD was passed over
    assert await push_decisions(any_stack, "OLD") == []
    assert await owners(any_stack, "OLD") == {"OLD": "pool"}
    asked = await any_stack.data(DISTRIBUTE, {"lead": "OLD"})
    assert asked["distributeLead"]["outcome"] == "assigned"
    assert details(asked["distributeLead"])["trigger"] == "on_demand"
