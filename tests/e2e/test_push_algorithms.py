"""least_loaded, linked (with its fallback) and random, through the whole stack."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from tests.e2e.push_support import decided, details, owners, pushed, submit
from tests.stack import Stack

WORKSPACE = """
account: {timezone: Asia/Tomsk}
users:
  - {id: head, name: Head}
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
schedules:
  - {user: ursula, free: true}
  - {user: nadezhda, free: true}
  - {user: marina, free: true}
templates:
  - id: calls
    match: {channels: [call]}
    participants: [{user: ursula}, {user: nadezhda}, {user: marina}]
    algorithm: least_loaded
    target_stage: sales/taken
  - id: returning
    match: {channels: [email]}
    participants: [{user: ursula}, {user: nadezhda}]
    algorithm: linked
    fallback_algorithm: least_loaded
    target_stage: sales/taken
  - id: lottery
    match: {channels: [chat]}
    participants: [{user: ursula, weight: 1}, {user: nadezhda, weight: 3}]
    algorithm: random
"""


async def _setup(stack: Stack, online: tuple[str, ...]) -> None:
    result = await stack.apply(WORKSPACE)
    assert result["ok"], result["problems"]
    for user in online:
        await stack.data(
            "mutation($u: ID!) { setPresence(userId: $u, online: true) { onDuty } }",
            {"u": user},
        )


def _created(lead: str, owner: str, at: Any, contacts: list[str] | None = None) -> Any:
    return {
        "type": "lead_created",
        "at": at.isoformat(),
        "lead": lead,
        "pipeline": "sales",
        "stage": "taken",
        "responsible": owner,
        "channel": "form",
        "contacts": contacts or [],
    }


async def test_least_loaded_gives_the_lead_to_whoever_has_fewest_open_leads(
    any_stack: Stack,
) -> None:
    await _setup(any_stack, ("ursula", "nadezhda", "marina"))
    earlier = any_stack.clock.now() - timedelta(days=1)
    await any_stack.import_history(
        [_created(f"U{i}", "ursula", earlier) for i in range(3)]
        + [_created(f"N{i}", "nadezhda", earlier) for i in range(1)]
        + [_created(f"M{i}", "marina", earlier) for i in range(2)]
        + [
            {
                "type": "stage_changed",
                "at": earlier.isoformat(),
                "lead": "M1",
                "to": "won",
            }
        ]
    )
    # Open leads: ursula 3, nadezhda 1, marina 1 (her second is won): the tie
    # goes to the one who got a pushed lead least recently.
    first = await pushed(any_stack, "L1")
    assert first["assignee"] == "nadezhda"
    assert details(first)["open_leads"] == {"ursula": 3, "nadezhda": 1, "marina": 1}
    second = await pushed(any_stack, "L2")
    assert second["assignee"] == "marina"
    losers = {c["user"]: c["result"] for c in details(second)["candidates"]}
    assert losers == {
        "ursula": "more_open_leads",
        "nadezhda": "more_open_leads",
        "marina": "won",
    }


async def test_linked_gives_a_returning_contact_to_the_user_who_has_it(
    any_stack: Stack,
) -> None:
    await _setup(any_stack, ("ursula", "nadezhda"))
    earlier = any_stack.clock.now() - timedelta(days=30)
    await any_stack.import_history(
        [
            {
                "type": "contact_created",
                "at": earlier.isoformat(),
                "contact": "C1",
                "responsible": "nadezhda",
            },
            _created("OLD", "ursula", earlier, contacts=["C2"]),
        ]
    )
    by_contact = await pushed(any_stack, "E1", "email", contacts=["C1"])
    assert (by_contact["assignee"], details(by_contact)["decided_by"]) == (
        "nadezhda",
        "linked",
    )
    assert "contact C1" in details(by_contact)["why"]
    # C2 came with OLD, so ursula is its responsible user.
    by_contact_2 = await pushed(any_stack, "E2", "email", contacts=["C2"])
    assert by_contact_2["assignee"] == "ursula"
    # C3 still belongs to the inbox; its last lead went to nadezhda.
    await any_stack.import_history(
        [
            {**_created("PREV", "pool", earlier, contacts=["C3"]), "stage": "new"},
            {
                "type": "responsible_changed",
                "at": earlier.isoformat(),
                "lead": "PREV",
                "to": "nadezhda",
            },
        ]
    )
    by_history = await pushed(any_stack, "E3", "email", contacts=["C3"])
    assert by_history["assignee"] == "nadezhda"
    assert "last lead PREV" in details(by_history)["why"]
    assert await owners(any_stack, "E1", "E2", "E3") == {
        "E1": "nadezhda",
        "E2": "ursula",
        "E3": "nadezhda",
    }


async def test_linked_falls_back_when_the_linked_user_is_off_duty(
    any_stack: Stack,
) -> None:
    await _setup(any_stack, ("ursula",))
    earlier = any_stack.clock.now() - timedelta(days=30)
    await any_stack.import_history(
        [
            {
                "type": "contact_created",
                "at": earlier.isoformat(),
                "contact": "C1",
                "responsible": "nadezhda",
            },
        ]
    )
    decision = await pushed(any_stack, "E1", "email", contacts=["C1"])
    assert decision["assignee"] == "ursula"
    d = details(decision)
    assert d["decided_by"] == "least_loaded"
    assert d["why"].startswith("no linked user is on duty")
    assert d["links"][0]["user"] == "nadezhda"


async def test_random_draws_by_weight_and_the_journal_says_so(stack: Stack) -> None:
    await _setup(stack, ("ursula", "nadezhda"))
    for i in range(40):
        await submit(stack, f"R{i}", "chat")
    winners: Counter[str] = Counter()
    for i in range(40):
        winners[(await decided(stack, f"R{i}"))[0]["assignee"]] += 1
    # Weighted 1:3 and seeded per lead: both get leads, nadezhda clearly more.
    assert winners["ursula"] + winners["nadezhda"] == 40
    assert winners["nadezhda"] > winners["ursula"] > 0
    sample = (await decided(stack, "R0"))[0]
    assert sample["algorithm"] == "random"
    assert "chance" in details(sample)["why"]
