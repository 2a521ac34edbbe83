"""Deleted leads and tasks (canonical events lead_deleted, lead_restored,
task_deleted): gone from the pool and every count at once, back on restore."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from leadrouter.crm.v1 import crm_pb2
from tests.e2e.limits_history import (
    History,
    apply,
    claim,
    eligibility,
    local,
    workspace,
)
from tests.stack import Stack

MONDAY = local("2026-11-02 10:00")
POOL = '{ pool(groupId: "main", first: 50) { totalCount edges { node { id } } } }'


async def _pool(stack: Stack) -> list[str]:
    data = await stack.data(POOL, user="head", role="admin")
    ids = [e["node"]["id"] for e in data["pool"]["edges"]]
    assert data["pool"]["totalCount"] == len(ids)
    return ids


async def test_a_deleted_lead_leaves_the_pool_and_a_restored_one_returns(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await apply(stack, workspace({"ursula": {}}))
    earlier = MONDAY - timedelta(days=1)
    await (
        History()
        .lead("P1", earlier)
        .lead("P2", earlier + timedelta(minutes=1))
        .lead("P3", earlier + timedelta(minutes=2))
        .load(stack, tmp_path)
    )
    assert await _pool(stack) == ["P1", "P2", "P3"]

    await (
        History()
        ._add("lead_deleted", MONDAY, lead="P1", by="head")
        .load(stack, tmp_path)
    )
    assert await _pool(stack) == ["P2", "P3"]
    taken = await claim(stack, "ursula")
    assert taken["lead"]["id"] == "P2"  # never the deleted, older one

    await (
        History()
        ._add("lead_restored", MONDAY + timedelta(minutes=5), lead="P1")
        .load(stack, tmp_path)
    )
    assert await _pool(stack) == ["P1", "P3"]


async def test_a_deleted_lead_and_a_deleted_task_leave_the_limits_counts(
    stack: Stack, tmp_path: Path
) -> None:
    await apply(
        stack,
        workspace(
            {"ursula": {"max_active": 10, "max_overdue_tasks": 5}},
            counting={"key_stage": "sales/meeting"},
        ),
    )
    long_ago = MONDAY - timedelta(days=3)
    await (
        History()
        .lead("A1", long_ago, owner="ursula", stage="taken")
        .lead("A2", long_ago, owner="ursula", stage="taken")
        .task("T1", long_ago, owner="ursula", deadline=long_ago, lead="A1")
        .task("T2", long_ago, owner="ursula", deadline=long_ago, lead="A2")
        .task("T3", long_ago, owner="ursula", deadline=long_ago)
        .load(stack, tmp_path)
    )
    seen = await eligibility(stack, "ursula")
    assert seen.limits["max_active"]["value"] == 2
    assert seen.limits["max_overdue_tasks"]["value"] == 3

    await (
        History()
        # A2 merged into A1: one lead deleted, its tasks no longer count.
        ._add("lead_deleted", MONDAY, lead="A2", by="ursula", merged_into="A1")
        ._add("task_deleted", MONDAY, task="T3", by="ursula")
        .load(stack, tmp_path)
    )
    seen = await eligibility(stack, "ursula")
    assert seen.limits["max_active"]["value"] == 1
    assert seen.limits["max_overdue_tasks"]["value"] == 1

    await (
        History()
        ._add("lead_restored", MONDAY + timedelta(hours=1), lead="A2")
        .load(stack, tmp_path)
    )
    seen = await eligibility(stack, "ursula")
    assert seen.limits["max_active"]["value"] == 2
    assert seen.limits["max_overdue_tasks"]["value"] == 2


async def test_a_deleted_won_lead_is_no_sale_any_more(
    stack: Stack, tmp_path: Path
) -> None:
    await apply(stack, workspace({"ursula": {"days_without_sales": 14}}))
    long_ago = MONDAY - timedelta(days=3)
    await (
        History()
        .lead("W1", long_ago, owner="ursula", stage="taken")
        .move("W1", MONDAY - timedelta(days=1), "won")
        .load(stack, tmp_path)
    )
    assert (await eligibility(stack, "ursula")).limits["days_without_sales"][
        "value"
    ] == 1

    await History()._add("lead_deleted", MONDAY, lead="W1").load(stack, tmp_path)

    seen = await eligibility(stack, "ursula")
    assert seen.limits["days_without_sales"]["value"] == 0


async def test_deleting_an_unknown_lead_or_restoring_a_live_one_is_refused(
    stack: Stack, tmp_path: Path
) -> None:
    await apply(stack, workspace({"ursula": {}}))
    await History().lead("P1", MONDAY).load(stack, tmp_path)
    lines = [
        '{"type":"lead_deleted","at":"2026-11-02T10:00:00+07:00","lead":"nope"}',
        '{"type":"lead_restored","at":"2026-11-02T10:00:00+07:00","lead":"P1"}',
    ]
    reply = await stack.clients.crm.import_history(
        crm_pb2.ImportHistoryRequest(account=stack.account, lines=lines),
    )
    assert [(p.path, p.message) for p in reply.problems] == [
        ("line 1", "unknown lead 'nope'"),
        ("line 2", "lead 'P1' is not deleted"),
    ]
