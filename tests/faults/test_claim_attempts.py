"""A press the crm carried out but the journal never heard of is settled.

The process tests kill the assigner at a random moment; here the crash falls
exactly between the crm's change and the journal, every time.
"""

from __future__ import annotations

import json
from datetime import timedelta

from leadrouter.crm.v1 import crm_pb2
from leadrouter.timestamps import to_ts
from services.assigner.claim_attempts import ClaimAttempts, Settler, real_now
from services.assigner.store import AssignerStore
from services.assigner.tables import ClaimAttempt
from tests.e2e.test_claim import CLAIM, _setup
from tests.stack import Stack

POOL = crm_pb2.PoolQuery(source_stages=["sales/new"], exchange_users=["pool"])
DECISIONS = "{ decisions(first: 50) { edges { node { outcome leadId assignee } } } }"


def settler(stack: Stack) -> Settler:
    db = stack.dbs["assigner"]
    return Settler(
        ClaimAttempts(db), AssignerStore(db), stack.clients, lambda: None, timedelta(0)
    )


async def half_done_press(stack: Stack, operation: str, key: str = "") -> None:
    """What a press leaves when its process dies after opening its attempt."""
    db = stack.dbs["assigner"]
    attempt = ClaimAttempt(
        account="acme",
        operation_id=operation,
        group_id="main",
        user_id="ursula",
        key=key,
        at=stack.clock.now(),
        started=real_now(),
        details=json.dumps({"limits": [], "moved": {}}),
    )
    await db.run(ClaimAttempts(db).open, attempt)


async def take(stack: Stack, operation: str) -> crm_pb2.TakePoolLeadResponse:
    taken: crm_pb2.TakePoolLeadResponse = await stack.clients.crm.call(
        "TakePoolLead",
        crm_pb2.TakePoolLeadRequest(
            account="acme",
            operation_id=operation,
            pool=POOL,
            user_id="ursula",
            target_stage="sales/taken",
            at=to_ts(stack.clock.now()),
        ),
    )
    return taken


async def test_a_lead_taken_but_not_journaled_is_journaled_once(stack: Stack) -> None:
    await _setup(stack, pool=3)
    await half_done_press(stack, "claim:ursula:k1", key="k1")
    assert (await take(stack, "claim:ursula:k1")).lead.id == "L00"
    assert (await stack.data(DECISIONS))["decisions"]["edges"] == []

    assert await settler(stack).settle_open(real_now() + timedelta(seconds=1)) == 1
    assert await settler(stack).settle_open(real_now() + timedelta(seconds=1)) == 0
    edges = (await stack.data(DECISIONS))["decisions"]["edges"]
    assert [e["node"] for e in edges] == [
        {"outcome": "claimed", "leadId": "L00", "assignee": "ursula"}
    ]
    # Pressing again with the key of the lost press answers with its lead.
    again = await stack.data(
        CLAIM, {"g": "main", "k": "k1"}, user="ursula", role="manager"
    )
    assert again["claimLead"]["lead"]["id"] == "L00"
    assert len((await stack.data(DECISIONS))["decisions"]["edges"]) == 1


async def test_a_press_that_never_reached_the_crm_can_no_longer_take_a_lead(
    stack: Stack,
) -> None:
    await _setup(stack, pool=3)
    await half_done_press(stack, "claim:ursula:lost")
    assert await settler(stack).settle_open(real_now() + timedelta(seconds=1)) == 1
    # The call that was on its way arrives after all: it takes nothing.
    assert not (await take(stack, "claim:ursula:lost")).taken
    assert (await stack.data(DECISIONS))["decisions"]["edges"] == []
    pool = await stack.data('{ pool(groupId: "main") { totalCount } }')
    assert pool["pool"]["totalCount"] == 3
