"""Metrics of leads that wait, as Prometheus scrapes them: leads held per group
and why, how long the oldest has waited, pools nobody may take from, SLA
reassignments and holds counted where the journal records them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from leadrouter.assigner.v1 import assigner_pb2
from services.assigner.tables import DecisionRow, metadata
from tests.e2e.push_support import owners, pushed, tick, tomsk
from tests.e2e.test_push import WORKSPACE as PUSH_WORKSPACE
from tests.e2e.test_push import variant
from tests.fixtures import WORKSPACE, lead_created
from tests.stack import Stack


def sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def count(name: str, **labels: str) -> float:
    return sample(name, **labels) or 0.0


async def test_held_leads_and_the_age_of_the_oldest_per_group_and_why(
    any_stack: Stack,
) -> None:
    assert (await any_stack.apply(PUSH_WORKSPACE))["ok"]
    held = {"account": "acme", "group": "main"}
    holds = count("leadrouter_push_holds_total", **held, reason="no_template")
    any_stack.clock.set(tomsk("2026-11-07T12:00"))  # Saturday: forms wait for Monday
    assert (await pushed(any_stack, "F1", "form"))["outcome"] == "held"
    any_stack.clock.advance(timedelta(minutes=30))
    assert (await pushed(any_stack, "F2", "form"))["outcome"] == "held"
    any_stack.clock.advance(timedelta(minutes=30))
    call = await pushed(any_stack, "C1", "call")  # nobody of "calls" on duty
    assert call["reasons"] == [{"code": "nobody_on_duty"}]
    any_stack.clock.advance(timedelta(hours=1))  # 14:00

    window = {**held, "reason": "no_template"}
    duty = {**held, "reason": "nobody_on_duty"}
    assert sample("leadrouter_push_held_leads", **window) == 2
    assert sample("leadrouter_push_held_oldest_seconds", **window) == 2 * 3600
    assert sample("leadrouter_push_held_leads", **duty) == 1
    assert sample("leadrouter_push_held_oldest_seconds", **duty) == 3600
    # Each lead counts once when it starts to wait, not at every round.
    await tick(any_stack)
    assert count("leadrouter_push_holds_total", **window) == holds + 2

    # Monday morning the window opens: nothing is held any more.
    any_stack.clock.set(tomsk("2026-11-09T09:00"))
    await tick(any_stack)
    assert (await owners(any_stack, "F1", "F2"))["F1"] in ("ursula", "nadezhda")
    assert sample("leadrouter_push_held_leads", **window) is None
    assert sample("leadrouter_push_held_leads", **duty) is None


async def test_sla_reassignments_are_counted_by_outcome(stack: Stack) -> None:
    workspace = variant(
        (
            "    algorithm: weighted\n    target_stage: sales/taken\n",
            "    algorithm: weighted\n    target_stage: sales/taken\n"
            "    reassign_after_minutes: 30\n",
        )
    )
    assert (await stack.apply(workspace))["ok"]
    labels = {"account": "acme", "group": "main", "outcome": "assigned"}
    before = count("leadrouter_sla_reassignments_total", **labels)
    assert (await pushed(stack, "L1", "call"))["assignee"] == "ursula"
    stack.clock.advance(timedelta(minutes=29))
    assert await tick(stack) == []
    assert count("leadrouter_sla_reassignments_total", **labels) == before
    stack.clock.advance(timedelta(minutes=1))
    assert [d.assignee for d in await tick(stack)] == ["nadezhda"]
    assert count("leadrouter_sla_reassignments_total", **labels) == before + 1


async def test_a_pool_nobody_may_take_from_is_measured(stack: Stack) -> None:
    assert (await stack.apply(WORKSPACE))["ok"]
    now = stack.clock.now()
    await stack.import_history(
        [lead_created(f"P{i}", now - timedelta(days=2, minutes=i)) for i in range(3)]
    )
    labels = {"account": "acme", "group": "main"}

    async def look() -> assigner_pb2.Waiting:
        reply: assigner_pb2.Waiting = await stack.clients.assigner.get_waiting(
            assigner_pb2.GetWaitingRequest(account="acme")
        )
        return reply

    pools = (await look()).pools
    assert [(p.group_id, p.leads, p.eligible_members) for p in pools] == [
        ("main", 3, 3)
    ]
    assert sample("leadrouter_pool_leads_nobody_eligible", **labels) == 0
    assert sample("leadrouter_pool_eligible_members", **labels) == 3

    # Everyone switched off: three leads wait and nobody may take one.
    closed = WORKSPACE.replace("{user: ursula}", "{user: ursula, enabled: false}")
    closed = closed.replace("{user: nadezhda}", "{user: nadezhda, enabled: false}")
    closed = closed.replace("limits: {max_active: 2}}", "enabled: false}")
    assert (await stack.apply(closed))["ok"]
    assert [(p.leads, p.eligible_members) for p in (await look()).pools] == [(3, 0)]
    assert sample("leadrouter_pool_leads_nobody_eligible", **labels) == 3
    assert sample("leadrouter_pool_eligible_members", **labels) == 0


@pytest.mark.parametrize("commits", [True, False])
async def test_a_decision_counts_only_once_its_transaction_commits(
    stack: Stack, commits: bool
) -> None:
    db = stack.dbs["assigner"]
    assert db.metadata is metadata
    labels = {"account": "acme", "group": "g1", "reason": "no_template"}
    before = count("leadrouter_push_holds_total", **labels)

    class Failed(Exception):
        pass

    row = DecisionRow(
        account="acme",
        kind="push",
        outcome="held",
        group_id="g1",
        lead_id="X1",
        at=datetime(2026, 11, 2, tzinfo=UTC),
        reasons='[{"code": "no_template"}]',
        details='{"trigger": "arrival"}',
    )
    try:
        with db.session() as s:
            s.add(row)
            s.flush()
            if not commits:
                raise Failed
    except Failed:
        pass
    assert count("leadrouter_push_holds_total", **labels) == before + commits


async def test_the_gateway_and_a_scrape_show_the_waiting_gauges(stack: Stack) -> None:
    assert (await stack.apply(PUSH_WORKSPACE))["ok"]
    stack.clock.set(tomsk("2026-11-07T12:00"))
    await pushed(stack, "F1", "form")
    stack.clock.advance(timedelta(minutes=90))
    text = (await stack.http.get("/metrics")).text
    assert (
        'leadrouter_push_held_leads{account="acme",group="main",reason="no_template"}'
        " 1.0" in text
    )
    assert (
        "leadrouter_push_held_oldest_seconds"
        '{account="acme",group="main",reason="no_template"} 5400.0' in text
    )
