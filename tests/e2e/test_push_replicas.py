"""Two assigner replicas on one PostgreSQL keep one fair rotation and assign once."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest

from leadrouter.assigner.v1 import assigner_pb2
from leadrouter.clients import AssignerClient
from leadrouter.crm.v1 import crm_pb2
from leadrouter.serve import builder
from tests.conftest import MONDAY_10_TOMSK
from tests.fixtures import lead_created
from tests.stack import Stack, running_stack

LEADS = 300
WEIGHTS = {"ursula": 1, "nadezhda": 2, "marina": 3}
ALL_WEEK = (
    "{"
    + ", ".join(
        f'{d}: ["00:00-24:00"]'
        for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    )
    + "}"
)
WORKSPACE = f"""
account: {{timezone: Asia/Tomsk}}
users:
  - {{id: ursula}}
  - {{id: nadezhda}}
  - {{id: marina}}
  - {{id: pool, technical: true}}
pipelines:
  - id: sales
    stages:
      - {{id: new}}
      - {{id: taken}}
      - {{id: won, kind: won}}
      - {{id: lost, kind: lost}}
schedules:
  - {{user: ursula, weekly: {ALL_WEEK}, presence: follow_schedule}}
  - {{user: nadezhda, weekly: {ALL_WEEK}, presence: follow_schedule}}
  - {{user: marina, weekly: {ALL_WEEK}, presence: follow_schedule}}
templates:
  - id: calls
    match: {{channels: [call]}}
    participants:
      - {{user: ursula, weight: 1}}
      - {{user: nadezhda, weight: 2}}
      - {{user: marina, weight: 3}}
    algorithm: weighted
    target_stage: sales/taken
"""


async def _all_assigned(
    stack: Stack, leads: list[str], timeout: float
) -> dict[str, str]:
    """Waits (bounded) until no lead is left in the inbox; returns the owners."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = await stack.clients.crm.get_leads(
            crm_pb2.GetLeadsRequest(account=stack.account, ids=leads)
        )
        owners = {x.id: x.responsible for x in found.leads}
        if all(o != "pool" for o in owners.values()) or loop.time() > deadline:
            return owners
        await asyncio.sleep(0.1)


async def _journal(stack: Stack) -> list[assigner_pb2.Decision]:
    out: list[assigner_pb2.Decision] = []
    after = ""
    while True:
        page = await stack.clients.assigner.list_decisions(
            assigner_pb2.ListDecisionsRequest(
                account=stack.account, first=500, after=after
            ),
        )
        out += list(page.decisions)
        if not page.end_cursor:
            return out
        after = page.end_cursor


@pytest.mark.postgres
async def test_two_replicas_hand_out_300_leads_once_each_in_exact_weights(
    tmp_path: Path, postgres_url: str
) -> None:
    async with running_stack(tmp_path, postgres_url, MONDAY_10_TOMSK) as stack:
        result = await stack.apply(WORKSPACE)
        assert result["ok"], result["problems"]
        # A second assigner process's worth: its own server, engine and loops,
        # the same PostgreSQL schema.
        runner, db = builder("assigner")(stack.settings, stack.clock, stack.clients)
        port = await runner.start("127.0.0.1:0")
        second = AssignerClient([f"127.0.0.1:{port}"], 60)
        replicas = [stack.clients.assigner, second]
        try:
            leads = [f"L{i:03d}" for i in range(LEADS)]
            start = stack.clock.now()
            # Both replicas' followers see every one of these events...
            await stack.import_history(
                [lead_created(lead, start, channel="call") for lead in leads]
            )

            # ...while a partner asks both replicas at once for every other lead.
            async def ask(replica: int, lead: str) -> None:
                await replicas[replica].distribute_lead(
                    assigner_pb2.DistributeLeadRequest(
                        account=stack.account, lead_id=lead, actor=f"replica-{replica}"
                    ),
                )

            asked = leads[::2]
            for batch in range(0, len(asked), 25):
                chunk = asked[batch : batch + 25]
                await asyncio.gather(
                    *(ask(0, lead) for lead in chunk), *(ask(1, lead) for lead in chunk)
                )
            owners = await _all_assigned(stack, leads, timeout=120)
        finally:
            await second.close()
            await runner.stop(grace=0)
            db.close()

        counts = Counter(owners.values())
        print(f"\ntwo replicas, {LEADS} leads, weights {WEIGHTS}: {dict(counts)}")
        assert counts == {
            u: LEADS * w // sum(WEIGHTS.values()) for u, w in WEIGHTS.items()
        }

        journal = [d for d in await _journal(stack) if d.kind == "push"]
        assigned = [d for d in journal if d.outcome == "assigned"]
        assert sorted(d.lead_id for d in assigned) == leads  # one decision per lead
        assert all(d.outcome == "assigned" for d in journal)
        by_trigger = Counter(
            (json.loads(d.details_json)["trigger"], d.actor) for d in assigned
        )
        print(f"decided by: {dict(by_trigger)}")

        # One rotation: the turns the decisions record are 1..300, each once,
        # and in turn order every prefix is within one lead of its share.
        by_turn = sorted(
            (sum(json.loads(d.details_json)["cycle"].values()), d.assignee)
            for d in assigned
        )
        assert [turn for turn, _ in by_turn] == list(range(1, LEADS + 1))
        seen: Counter[str] = Counter()
        total = sum(WEIGHTS.values())
        for turn, user in by_turn:
            seen[user] += 1
            for u, w in WEIGHTS.items():
                assert abs(seen[u] - Fraction(turn * w, total)) < 1, (turn, dict(seen))

        events = stack.clients.crm.stream_events(
            crm_pb2.StreamEventsRequest(account=stack.account)
        )
        changes = Counter(
            [e.lead_id async for e in events if e.type == "responsible_changed"]
        )
        assert set(changes.values()) == {1} and len(changes) == LEADS
