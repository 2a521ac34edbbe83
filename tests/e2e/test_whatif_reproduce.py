"""What-if with the workspace in force reproduces what production really did.

The history is made by production itself: the workspace is applied, leads are
handed in and pushed, managers press the button, the assigner's timers run,
all on the injected clock. Replaying that history under the same workspace
must give every lead to the same manager and refuse the same presses.
"""

from __future__ import annotations

from datetime import timedelta

from leadrouter.simulate import simulate
from tests.e2e.push_support import (
    decided,
    owners,
    pushed,
    submit,
    take_into_work,
    tick,
    tomsk,
)
from tests.e2e.replay_support import same_sides
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
      - {id: meeting, kind: open}
      - {id: won, kind: won}
      - {id: lost, kind: lost}
groups:
  - id: main
    source_stages: [sales/new]
    target_stage: sales/taken
    exchange_users: [pool]
    members:
      - {user: ursula, limits: {interval_minutes: 60}}
      - {user: nadezhda}
      - {user: marina, limits: {max_active: 2}}
schedules:
  - {user: ursula, weekly: {mon: ["09:00-18:00"], tue: ["09:00-18:00"]},
     presence: follow_schedule}
  - {user: nadezhda, weekly: {mon: ["09:00-13:00"]}, presence: follow_schedule}
  - {user: marina, weekly: {mon: ["11:00-20:00"]}, presence: follow_schedule}
templates:
  - id: calls
    match: {channels: [call]}
    participants: [{user: ursula}, {user: nadezhda, weight: 2}, {user: marina}]
    algorithm: weighted
    target_stage: sales/taken
    reassign_after_minutes: 30
  - id: forms
    match: {channels: [form]}
    participants: [{user: ursula}, {user: marina, weight: 3}]
    algorithm: random
    target_stage: sales/taken
"""

CLAIM = """
mutation($g: ID!) {
  claimLead(groupId: $g) { __typename ... on Refused { reasons { code limit } } }
}
"""


async def press(stack: Stack, user: str) -> str:
    data = await stack.data(CLAIM, {"g": "main"}, user=user, role="manager")
    return str(data["claimLead"]["__typename"])


async def test_the_workspace_in_force_reproduces_every_push_and_claim(
    stack: Stack,
) -> None:
    assert (await stack.apply(WORKSPACE))["ok"]
    start = stack.clock.now()  # Monday 10:00 in Tomsk
    worked: list[str] = []

    async def step(minutes: int = 5) -> None:
        stack.clock.advance(timedelta(minutes=minutes))

    # Monday morning: ursula and nadezhda on duty; calls by weight, forms drawn.
    for lead in ("C1", "C2", "C3"):
        await pushed(stack, lead, "call")
        worked.append(lead)
        await step()
    await pushed(stack, "F1", "form")
    worked.append("F1")
    # Chats: no template takes them; they wait for the button.
    for lead in ("X1", "X2", "X3", "X4"):
        await submit(stack, lead, "chat")
    await step()
    presses = [
        await press(stack, "marina"),
        await press(stack, "marina"),
        await press(stack, "marina"),  # max_active 2: refused
        await press(stack, "ursula"),
        await press(stack, "ursula"),  # interval_minutes 60: refused
    ]
    assert presses == ["Claimed", "Claimed", "Refused", "Claimed", "Refused"]
    await take_into_work(stack, "C1", stack.clock.now())
    for lead in worked[1:]:
        await take_into_work(stack, lead, stack.clock.now())

    # 11:00: marina is on too.
    stack.clock.set(tomsk("2026-11-02T11:00"))
    for lead in ("C4", "C5", "F2", "F3", "F4", "F5"):
        await pushed(stack, lead, "call" if lead.startswith("C") else "form")
        await step(1)
    for lead in ("C5", "F2", "F3", "F4", "F5"):
        await take_into_work(stack, lead, stack.clock.now())
    # C4 sits: thirty minutes after its push the SLA sends it on.
    stack.clock.set(tomsk("2026-11-02T11:30"))
    moved = await tick(stack)
    assert [d.lead_id for d in moved] == ["C4"]
    await step(1)
    await take_into_work(stack, "C4", stack.clock.now())

    # Tuesday 08:30: nobody on duty, the call is held until ursula comes on.
    stack.clock.set(tomsk("2026-11-03T08:30"))
    await submit(stack, "C6", "call")
    assert (await decided(stack, "C6"))[0]["outcome"] == "held"
    stack.clock.set(tomsk("2026-11-03T09:00"))
    await tick(stack)
    assert (await owners(stack, "C6")) == {"C6": "ursula"}
    end = stack.clock.now() + timedelta(minutes=1)

    reply, problems = await simulate(
        stack.clients, stack.account, WORKSPACE, start, end
    )

    assert reply is not None, problems
    assert list(reply.differences) == []
    assert same_sides(reply)
    leads = {x.lead_id: (x.proposed, x.actual) for x in reply.leads}
    assert len([x for x in leads.values() if x[0] != "(button)"]) == 11
    assert sorted(k for k, v in leads.items() if v[0] == "(button)") == [
        "X1",
        "X2",
        "X3",
        "X4",
    ]
    by_name = {m.name: m for m in reply.managers}
    assert reply.proposed.presses == 5
    assert dict(by_name["Marina"].proposed.refused) == {"max_active": 1}
    assert dict(by_name["Ursula"].proposed.refused) == {"interval_minutes": 1}
    assert reply.proposed.sla_reassignments == reply.actual.sla_reassignments == 1
    assert reply.proposed.held == reply.actual.held
    assert reply.proposed.held.leads == 1 and reply.proposed.held.max_minutes == 30
    assert reply.fairness == reply.actual_fairness
