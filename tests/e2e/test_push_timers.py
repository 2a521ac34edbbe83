"""SLA reassignment, shift handover, and timers and offsets across a restart."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import delete

from leadrouter.serve import builder
from services.assigner.push_store import Pending, PushStore
from services.assigner.tables import Subscription
from tests.e2e.push_support import (
    crm_events,
    decided,
    details,
    owners,
    push_decisions,
    pushed,
    stages,
    take_into_work,
    tick,
    tomsk,
)
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
    participants: [{user: ursula}, {user: nadezhda}, {user: marina}]
    algorithm: round_robin
    target_stage: sales/taken
    reassign_after_minutes: 30
  - id: forms
    match: {channels: [form]}
    participants: [{user: ursula}, {user: marina}]
    algorithm: round_robin
    target_stage: sales/taken
"""


async def _setup(stack: Stack) -> None:
    result = await stack.apply(WORKSPACE)
    assert result["ok"], result["problems"]


async def test_an_untouched_lead_goes_to_the_next_participant_after_the_sla(
    any_stack: Stack,
) -> None:
    await _setup(any_stack)
    assert (await pushed(any_stack, "L1"))["assignee"] == "ursula"

    any_stack.clock.advance(timedelta(minutes=29))
    assert await tick(any_stack) == []
    assert await owners(any_stack, "L1") == {"L1": "ursula"}

    any_stack.clock.advance(timedelta(minutes=1))
    moved = await tick(any_stack)
    assert [(d.lead_id, d.assignee) for d in moved] == [("L1", "nadezhda")]
    assert await owners(any_stack, "L1") == {"L1": "nadezhda"}
    sla = (await push_decisions(any_stack, "L1"))[-1]
    assert details(sla)["trigger"] == "sla"
    assert details(sla)["previous"] == "ursula"
    skipped = {c["user"]: c["result"] for c in details(sla)["candidates"]}
    assert skipped["ursula"] == "skipped"

    # Nadezhda lets it sit too: Marina, not Ursula again.
    any_stack.clock.advance(timedelta(minutes=30))
    assert [d.assignee for d in await tick(any_stack)] == ["marina"]
    # Everyone on duty has let it sit: only the one holding it is skipped now.
    any_stack.clock.advance(timedelta(minutes=30))
    assert [d.assignee for d in await tick(any_stack)] in (["ursula"], ["nadezhda"])


async def test_a_lead_taken_into_work_stays_where_it_is(any_stack: Stack) -> None:
    await _setup(any_stack)
    await pushed(any_stack, "STAGE")
    await pushed(any_stack, "TASK")
    any_stack.clock.advance(timedelta(minutes=10))
    now = any_stack.clock.now()
    await take_into_work(any_stack, "STAGE", now)
    await any_stack.import_history(
        [
            {
                "type": "task_created",
                "at": now.isoformat(),
                "task": "T1",
                "lead": "TASK",
                "responsible": "nadezhda",
                "deadline": (now + timedelta(hours=1)).isoformat(),
            },
            {"type": "task_completed", "at": now.isoformat(), "task": "T1"},
        ]
    )
    any_stack.clock.advance(timedelta(hours=2))
    assert await tick(any_stack) == []
    assert await owners(any_stack, "STAGE", "TASK") == {
        "STAGE": "ursula",
        "TASK": "nadezhda",
    }


async def test_shift_handover_sends_untouched_leads_back_into_distribution(
    any_stack: Stack,
) -> None:
    await _setup(any_stack)
    any_stack.clock.set(tomsk("2026-11-02T17:00"))
    assigned = [
        (await pushed(any_stack, f"F{i}", "form"))["assignee"] for i in range(3)
    ]
    assert assigned == ["ursula", "marina", "ursula"]
    await take_into_work(any_stack, "F2", any_stack.clock.now())

    # 18:00: Ursula's shift ends; her untouched F0 goes to Marina, F2 stays.
    any_stack.clock.set(tomsk("2026-11-02T18:00"))
    handed = await tick(any_stack)
    assert [(d.lead_id, d.assignee) for d in handed] == [("F0", "marina")]
    assert details((await push_decisions(any_stack, "F0"))[-1])["trigger"] == "handover"
    assert await owners(any_stack, "F0", "F1", "F2") == {
        "F0": "marina",
        "F1": "marina",
        "F2": "ursula",
    }

    # 20:00: Marina leaves too and nobody is on duty: her leads wait, with her.
    any_stack.clock.set(tomsk("2026-11-02T20:00"))
    held = await tick(any_stack)
    assert sorted((d.lead_id, d.outcome) for d in held) == [
        ("F0", "held"),
        ("F1", "held"),
    ]
    assert await owners(any_stack, "F0", "F1") == {"F0": "marina", "F1": "marina"}

    # Tuesday 09:00: out again, oldest first.
    any_stack.clock.set(tomsk("2026-11-03T09:00"))
    again = await tick(any_stack)
    assert [(d.lead_id, d.assignee) for d in again] == [
        ("F0", "ursula"),
        ("F1", "marina"),
    ]


async def test_a_lead_that_waits_with_its_holder_and_is_worked_stays_theirs(
    any_stack: Stack,
) -> None:
    """Marina's shift ends with nobody to take her leads; she works one anyway."""
    await _setup(any_stack)
    any_stack.clock.set(tomsk("2026-11-02T19:00"))
    assert [(await pushed(any_stack, f"W{i}", "form"))["assignee"] for i in (0, 1)] == [
        "marina",
        "marina",
    ]
    any_stack.clock.set(tomsk("2026-11-02T20:00"))
    assert sorted(d.outcome for d in await tick(any_stack)) == ["held", "held"]
    await take_into_work(any_stack, "W1", tomsk("2026-11-02T21:00"))

    any_stack.clock.set(tomsk("2026-11-03T09:00"))
    again = await tick(any_stack)

    # Only the untouched one goes out; the worked one stays where Marina put it.
    assert [(d.lead_id, d.assignee) for d in again] == [("W0", "ursula")]
    assert await owners(any_stack, "W0", "W1") == {"W0": "ursula", "W1": "marina"}
    assert await stages(any_stack, "W1") == {"W1": "sales/meeting"}


async def _restart_assigner(stack: Stack, *, forget_offset: bool = False) -> None:
    """Stops the assigner and starts a fresh process's worth of it on its database."""
    await stack.runners["assigner"].stop(grace=0)
    if forget_offset:
        with stack.dbs["assigner"].session() as s:
            s.execute(delete(Subscription))
    stack.dbs["assigner"].close()
    runner, db = builder("assigner")(stack.settings, stack.clock, stack.clients)
    port = await runner.start("127.0.0.1:0")
    stack.runners["assigner"], stack.dbs["assigner"] = runner, db
    stack.clients.addresses["assigner"] = [f"127.0.0.1:{port}"]
    await stack.clients.close()  # the next call dials the new server


async def test_sla_timers_survive_a_restart_of_the_assigner(any_stack: Stack) -> None:
    await _setup(any_stack)
    await pushed(any_stack, "L1")
    await _restart_assigner(any_stack)
    any_stack.clock.advance(timedelta(minutes=30))
    moved = await tick(any_stack)
    assert [(d.lead_id, d.assignee) for d in moved] == [("L1", "nadezhda")]


async def test_events_read_again_after_a_restart_assign_nothing_twice(
    any_stack: Stack,
) -> None:
    await _setup(any_stack)
    for i in range(3):
        await pushed(any_stack, f"L{i}")
    await _restart_assigner(any_stack, forget_offset=True)
    # A new lead after the restart proves the stream was read again from 0.
    await pushed(any_stack, "AFTER")
    for lead in ("L0", "L1", "L2", "AFTER"):
        types = Counter(e["type"] for e in await crm_events(any_stack, lead))
        assert types["responsible_changed"] == 1, lead
        assert len(await decided(any_stack, lead)) == 1
    assert await owners(any_stack, "L0", "L1", "L2", "AFTER") == {
        "L0": "ursula",
        "L1": "nadezhda",
        "L2": "marina",
        "AFTER": "ursula",
    }


async def test_an_attempt_a_crashed_replica_left_half_done_is_finished_once(
    any_stack: Stack,
) -> None:
    await _setup(any_stack)
    any_stack.clock.set(tomsk("2026-11-02T21:00"))  # nobody on duty: it waits
    assert (await pushed(any_stack, "L1"))["outcome"] == "held"
    # A replica reserved the next attempt for Marina and died before the crm
    # call: what it wrote to the database is all that is left of it.
    pushes = PushStore(any_stack.dbs["assigner"])
    row = pushes.get(account=any_stack.account, lead_id="L1")
    assert row is not None
    pending = Pending(
        user="marina",
        trigger="queue",
        actor="",
        template_id="calls",
        algorithm="round_robin",
        target_stage="sales/taken",
        cascade=False,
        expected_owner="pool",
        watched=True,
        reassign_after_minutes=30,
        rotated=True,
        details={"trigger": "queue", "winner": "marina"},
    )
    any_stack.clock.set(tomsk("2026-11-03T08:59:30"))
    reserved = pushes.reserve(
        row=row,
        now=any_stack.clock.now(),
        decide=lambda s: (pending, s.handed("marina")),
        template_id="calls",
    )
    assert reserved is not None

    any_stack.clock.advance(timedelta(seconds=10))  # it may still be working
    assert await tick(any_stack) == []
    assert await owners(any_stack, "L1") == {"L1": "pool"}

    any_stack.clock.set(tomsk("2026-11-03T09:00"))  # 30 s later, shifts begin
    finished = await tick(any_stack)
    assert [(d.lead_id, d.assignee) for d in finished] == [("L1", "marina")]
    assert details((await push_decisions(any_stack, "L1"))[-1])["trigger"] == "recovery"
    assert await owners(any_stack, "L1") == {"L1": "marina"}
    types = Counter(e["type"] for e in await crm_events(any_stack, "L1"))
    assert types["responsible_changed"] == 1
    assert await tick(any_stack) == []
