"""The "Get lead" button through the gateway, the assigner, limits and the CRM."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

from sqlalchemy import text

from leadrouter.timestamps import utc
from services.crm.claims import ClaimsStore
from services.crm.tables import PoolClaim
from tests.fixtures import WORKSPACE, lead_created
from tests.stack import Stack

CLAIM = """
mutation($g: ID!, $k: String) {
  claimLead(groupId: $g, idempotencyKey: $k) {
    __typename
    ... on Claimed { lead { id responsible stage contacts } decision { id outcome } }
    ... on Refused { reasons { code limit value threshold passesAt } decision { id } }
  }
}
"""


async def _setup(stack: Stack, pool: int) -> None:
    result = await stack.apply(WORKSPACE)
    assert result["ok"], result["problems"]
    start = stack.clock.now() - timedelta(days=1)
    await stack.import_history(
        [
            lead_created(f"L{i:02d}", start + timedelta(minutes=i), contacts=[f"C{i}"])
            for i in range(pool)
        ]
    )


async def test_claim_gives_the_oldest_pool_lead(any_stack: Stack) -> None:
    await _setup(any_stack, pool=3)
    data = await any_stack.data(CLAIM, {"g": "main"}, user="ursula", role="manager")
    claimed = data["claimLead"]
    assert claimed["__typename"] == "Claimed"
    assert claimed["lead"] == {
        "id": "L00",
        "responsible": "ursula",
        "stage": "taken",
        "contacts": ["C0"],
    }
    pool = await any_stack.data(
        '{ pool(groupId: "main") { totalCount edges { node { id } } } }'
    )
    assert pool["pool"]["totalCount"] == 2
    assert [e["node"]["id"] for e in pool["pool"]["edges"]] == ["L01", "L02"]


async def test_same_idempotency_key_returns_the_first_result(any_stack: Stack) -> None:
    await _setup(any_stack, pool=3)
    first = await any_stack.data(
        CLAIM, {"g": "main", "k": "press-1"}, user="ursula", role="manager"
    )
    again = await any_stack.data(
        CLAIM, {"g": "main", "k": "press-1"}, user="ursula", role="manager"
    )
    assert again == first
    assert first["claimLead"]["lead"]["id"] == "L00"
    pool = await any_stack.data('{ pool(groupId: "main") { totalCount } }')
    assert pool["pool"]["totalCount"] == 2  # the repeat assigned nothing more


async def test_refusals_when_not_a_member_disabled_or_pool_empty(stack: Stack) -> None:
    await _setup(stack, pool=1)
    outsider = await stack.data(CLAIM, {"g": "main"}, user="stranger", role="manager")
    disabled = await stack.data(CLAIM, {"g": "main"}, user="pavel", role="manager")
    exchange = await stack.data(CLAIM, {"g": "main"}, user="pool", role="manager")
    first = await stack.data(CLAIM, {"g": "main"}, user="ursula", role="manager")
    empty = await stack.data(CLAIM, {"g": "main"}, user="nadezhda", role="manager")

    def codes(result: dict) -> list[str]:
        return [r["code"] for r in result["claimLead"]["reasons"]]

    assert codes(outsider) == ["not_a_member"]
    assert codes(disabled) == ["disabled"]
    assert codes(exchange) == ["not_a_member"]
    assert first["claimLead"]["__typename"] == "Claimed"
    assert codes(empty) == ["pool_empty"]


async def test_max_active_refusal_names_the_limit_and_changes_nothing(
    stack: Stack,
) -> None:
    await _setup(stack, pool=4)
    await stack.data(CLAIM, {"g": "main"}, user="marina", role="manager")
    await stack.data(CLAIM, {"g": "main"}, user="marina", role="manager")
    third = await stack.data(CLAIM, {"g": "main"}, user="marina", role="manager")
    assert third["claimLead"]["__typename"] == "Refused"
    assert third["claimLead"]["reasons"] == [
        {
            "code": "limit",
            "limit": "max_active",
            "value": 2,
            "threshold": 2,
            "passesAt": None,
        }
    ]
    pool = await stack.data('{ pool(groupId: "main") { totalCount } }')
    assert pool["pool"]["totalCount"] == 2


async def test_interval_limit_blocks_until_minutes_pass(stack: Stack) -> None:
    await _setup(stack, pool=3)
    await stack.apply(
        WORKSPACE.replace(
            "- {user: ursula}", "- {user: ursula, limits: {interval_minutes: 10}}"
        )
    )
    await stack.data(CLAIM, {"g": "main"}, user="ursula", role="manager")
    stack.clock.advance(timedelta(minutes=9))
    blocked = await stack.data(CLAIM, {"g": "main"}, user="ursula", role="manager")
    reason = blocked["claimLead"]["reasons"][0]
    assert (reason["limit"], reason["value"], reason["threshold"]) == (
        "interval_minutes",
        9,
        10,
    )
    assert reason["passesAt"] == (stack.clock.now() + timedelta(minutes=1)).isoformat()
    stack.clock.advance(timedelta(minutes=1))
    again = await stack.data(CLAIM, {"g": "main"}, user="ursula", role="manager")
    assert again["claimLead"]["__typename"] == "Claimed"


async def test_cascade_moves_contacts_and_open_tasks(stack: Stack) -> None:
    await _setup(stack, pool=1)
    at = (stack.clock.now() - timedelta(hours=1)).isoformat()
    await stack.import_history(
        [
            {
                "type": "task_created",
                "at": at,
                "task": "T1",
                "lead": "L00",
                "responsible": "pool",
                "deadline": at,
            },
            {
                "type": "task_created",
                "at": at,
                "task": "T2",
                "lead": "L00",
                "responsible": "pool",
                "deadline": at,
            },
            {"type": "task_completed", "at": at, "task": "T2"},
        ]
    )
    data = await stack.data(
        CLAIM.replace("decision { id outcome }", "decision { id outcome details }"),
        {"g": "main"},
        user="ursula",
        role="manager",
    )
    moved = data["claimLead"]["decision"]["details"]["moved"]
    assert moved == {"contacts": 1, "tasks": 1}


async def test_decisions_record_claims_and_refusals(stack: Stack) -> None:
    await _setup(stack, pool=1)
    await stack.data(CLAIM, {"g": "main"}, user="ursula", role="manager")
    await stack.data(CLAIM, {"g": "main"}, user="nadezhda", role="manager")
    query = """query($u: ID) { decisions(userId: $u) { edges { node {
        id kind outcome actor assignee leadId groupId reasons { code } } } } }"""
    every = await stack.data(query)
    nodes = [e["node"] for e in every["decisions"]["edges"]]
    assert [(n["actor"], n["outcome"], n["leadId"]) for n in nodes] == [
        ("nadezhda", "refused", None),
        ("ursula", "claimed", "L00"),
    ]
    assert nodes[0]["reasons"] == [{"code": "pool_empty"}]
    one = await stack.data(
        "query($id: ID!) { decision(id: $id) { id kind groupId details } }",
        {"id": nodes[1]["id"]},
    )
    assert one["decision"]["groupId"] == "main"
    assert one["decision"]["details"]["target_stage"] == "sales/taken"
    mine = await stack.data(query, user="ursula", role="manager")
    assert [e["node"]["actor"] for e in mine["decisions"]["edges"]] == ["ursula"]


async def test_two_first_claims_of_one_manager_both_land_in_limits(
    any_stack: Stack,
) -> None:
    # A double click: both presses passed the limits and both record the
    # manager's last claim. The first insert is still uncommitted when the
    # second arrives; the second must wait for it and keep the later time.
    await _setup(any_stack, pool=0)
    store = ClaimsStore(any_stack.dbs["crm"])
    first, second = (any_stack.clock.now() + timedelta(seconds=s) for s in (1, 2))
    holding = threading.Event()
    release = threading.Event()

    def first_press() -> None:
        with store.db.session() as s:
            s.add(
                PoolClaim(account="acme", group_id="main", user_id="ursula", at=first)
            )
            s.flush()
            holding.set()
            release.wait(timeout=10)

    def second_press() -> None:
        holding.wait(timeout=10)
        store.record_claims(account="acme", claims=[("main", "ursula", second)])

    def release_once_the_second_waits() -> None:
        holding.wait(timeout=10)
        if not store.db.is_sqlite:  # SQLite runs one writer at a time anyway
            waiting = text("SELECT count(*) FROM pg_locks WHERE NOT granted")
            deadline = time.monotonic() + 10
            with store.db.engine.connect() as conn:
                while not conn.execute(waiting).scalar():
                    assert time.monotonic() < deadline, "the second never waited"
                    conn.rollback()  # a fresh snapshot of the lock table
        release.set()

    await asyncio.gather(
        asyncio.to_thread(first_press),
        asyncio.to_thread(second_press),
        asyncio.to_thread(release_once_the_second_waits),
    )
    with store.db.session() as s:
        kept = s.get(PoolClaim, ("acme", "main", "ursula"))
        assert kept is not None and utc(kept.at) == second
