"""A press the crm carried out but the journal never heard of is settled.

The process tests kill the assigner at a random moment; here the crash falls
exactly between the crm's change and the journal, every time.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlmodel import col

from leadrouter.crm.v1 import crm_pb2
from leadrouter.timestamps import to_ts
from services.assigner.claim_attempts import (
    ClaimAttempts,
    Settler,
    claim_scope,
    real_now,
)
from services.assigner.store import AssignerStore
from services.assigner.tables import ClaimAttempt
from tests.e2e.test_claim import CLAIM, _setup
from tests.fixtures import WORKSPACE, lead_created
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
    begun = await db.run(
        ClaimAttempts(db).begin, attempt=attempt, scope=claim_scope("ursula")
    )
    assert begun.replayed is None


async def take(stack: Stack, operation: str) -> crm_pb2.TakePoolLeadResponse:
    taken: crm_pb2.TakePoolLeadResponse = await stack.clients.crm.take_pool_lead(
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


async def test_a_claim_cut_off_before_its_journal_still_counts_for_the_interval(
    any_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The crm records the claim for the interval limit in the transaction that
    gives the lead: a press whose assigner dies before the journal (here: the
    journal fails and nothing retries it, as in a killed process) still
    counts, and the manager's next press is refused for the interval."""
    stack = any_stack
    limited = WORKSPACE.replace(
        "{user: ursula}", "{user: ursula, limits: {interval_minutes: 30}}"
    )
    assert (await stack.apply(limited))["ok"]
    start = stack.clock.now() - timedelta(days=1)
    await stack.import_history(
        [lead_created(f"L{i:02d}", start + timedelta(minutes=i)) for i in range(3)]
    )

    def dies_before_the_journal(*args: object, **kwargs: object) -> None:
        raise OperationalError("INSERT", {}, Exception("the process is gone"))

    with monkeypatch.context() as m:
        m.setattr(AssignerStore, "record", dies_before_the_journal)
        m.setattr(Settler, "soon", lambda self, attempt: None)
        cut = await stack.gql(CLAIM, {"g": "main"}, user="ursula", role="manager")
    assert [e["extensions"]["code"] for e in cut["errors"]] == ["UNAVAILABLE"]
    assert (await stack.data(DECISIONS))["decisions"]["edges"] == []

    again = await stack.data(CLAIM, {"g": "main"}, user="ursula", role="manager")
    refused = again["claimLead"]
    assert refused["__typename"] == "Refused"
    assert [(r["code"], r["limit"], r["value"]) for r in refused["reasons"]] == [
        ("limit", "interval_minutes", 0)
    ]
    pool = await stack.data('{ pool(groupId: "main") { totalCount } }')
    assert pool["pool"]["totalCount"] == 2  # one lead given, to the cut-off press

    # The assigner that comes back journals the lead it never heard of.
    assert await settler(stack).settle_open(real_now() + timedelta(seconds=1)) == 1
    edges = (await stack.data(DECISIONS))["decisions"]["edges"]
    assert [e["node"] for e in edges] == [  # newest first
        {"outcome": "claimed", "leadId": "L00", "assignee": "ursula"},
        {"outcome": "refused", "leadId": None, "assignee": None},
    ]


def _attempts(stack: Stack) -> list[tuple[str, bool]]:
    db = stack.dbs["assigner"]
    with db.session() as s:
        stmt = select(ClaimAttempt).order_by(col(ClaimAttempt.operation_id))
        rows = s.scalars(stmt).all()
        return [(r.operation_id, r.decision_seq is None) for r in rows]


async def test_closed_attempts_are_pruned_and_a_key_still_replays(stack: Stack) -> None:
    """A press leaves an attempt row; the settler's pass forgets closed ones, so
    the table holds the presses of the last minutes, not every press ever."""
    await _setup(stack, pool=4)
    first = await stack.data(
        CLAIM, {"g": "main", "k": "k1"}, user="ursula", role="manager"
    )
    assert first["claimLead"]["lead"]["id"] == "L00"
    await stack.data(CLAIM, {"g": "main"}, user="nadezhda", role="manager")
    await half_done_press(stack, "claim:ursula:open", key="open")
    assert [open_ for _, open_ in _attempts(stack)] == [False, False, True]

    attempts = ClaimAttempts(stack.dbs["assigner"])
    db = stack.dbs["assigner"]
    assert (
        await db.run(attempts.prune, started_before=real_now() - timedelta(minutes=1))
        == 0
    )
    assert (
        await db.run(attempts.prune, started_before=real_now() + timedelta(seconds=1))
        == 2
    )
    # The open one is left for the settler.
    assert _attempts(stack) == [("claim:ursula:open", True)]
    # Pressed again with the first press's key: the same lead, no second one.
    again = await stack.data(
        CLAIM, {"g": "main", "k": "k1"}, user="ursula", role="manager"
    )
    assert again["claimLead"]["lead"]["id"] == "L00"
    edges = (await stack.data(DECISIONS))["decisions"]["edges"]
    assert [e["node"]["leadId"] for e in edges] == ["L01", "L00"]
