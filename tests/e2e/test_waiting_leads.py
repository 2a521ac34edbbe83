"""`waitingLeads`: what the head of sales' banner says, through GraphQL."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.push_support import pushed, tick, tomsk
from tests.e2e.test_push import WORKSPACE
from tests.fixtures import WORKSPACE as POOL_WORKSPACE
from tests.fixtures import lead_created
from tests.stack import Stack

WAITING = """
query($first: Int!) {
  waitingLeads(first: $first) {
    at total oldestWaitSeconds
    groups { groupId groupName reason count oldestSince oldestWaitSeconds }
    leads { leadId lead { name } groupId reason since waitSeconds }
    stuckPools { groupId groupName leads }
  }
}
"""


async def test_held_leads_per_group_and_why_with_the_oldest_first(
    any_stack: Stack,
) -> None:
    assert (await any_stack.apply(WORKSPACE))["ok"]
    any_stack.clock.set(tomsk("2026-11-07T12:00"))  # Saturday
    for lead in ("F1", "F2", "F3"):
        assert (await pushed(any_stack, lead, "form"))["outcome"] == "held"
        any_stack.clock.advance(timedelta(minutes=20))
    await pushed(any_stack, "C1", "call")
    any_stack.clock.set(tomsk("2026-11-07T14:00"))

    waiting = (await any_stack.data(WAITING, {"first": 2}))["waitingLeads"]
    assert waiting["total"] == 4
    assert waiting["oldestWaitSeconds"] == 2 * 3600
    assert [
        (g["groupName"], g["reason"], g["count"], g["oldestWaitSeconds"])
        for g in waiting["groups"]
    ] == [("main", "no_template", 3, 7200), ("main", "nobody_on_duty", 1, 3600)]
    assert [
        (x["leadId"], x["lead"]["name"], x["waitSeconds"]) for x in waiting["leads"]
    ] == [
        ("F1", "Request F1", 7200),
        ("F2", "Request F2", 6000),
    ]
    assert waiting["stuckPools"] == []

    # Monday morning they go out, and nothing waits.
    any_stack.clock.set(tomsk("2026-11-09T09:00"))
    await tick(any_stack)
    waiting = (await any_stack.data(WAITING, {"first": 50}))["waitingLeads"]
    assert (waiting["total"], waiting["oldestWaitSeconds"], waiting["leads"]) == (
        0,
        None,
        [],
    )


async def test_a_pool_nobody_may_take_from_is_named(stack: Stack) -> None:
    closed = POOL_WORKSPACE.replace("{user: ursula}", "{user: ursula, enabled: false}")
    closed = closed.replace("{user: nadezhda}", "{user: nadezhda, enabled: false}")
    closed = closed.replace("limits: {max_active: 2}}", "enabled: false}")
    assert (await stack.apply(closed))["ok"]
    now = stack.clock.now()
    await stack.import_history(
        [lead_created(f"P{i}", now - timedelta(days=2, minutes=i)) for i in range(2)]
    )
    waiting = (await stack.data(WAITING, {"first": 5}))["waitingLeads"]
    assert waiting["stuckPools"] == [
        {"groupId": "main", "groupName": "main", "leads": 2}
    ]


async def test_managers_do_not_see_the_waiting_leads_and_bad_sizes_are_refused(
    stack: Stack,
) -> None:
    assert (await stack.apply(WORKSPACE))["ok"]
    refused = await stack.gql(WAITING, {"first": 5}, user="ursula", role="manager")
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    viewer = await stack.gql(WAITING, {"first": 5}, user="v", role="viewer")
    assert "errors" not in viewer
    too_many = await stack.gql(WAITING, {"first": 1000})
    assert too_many["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert (
        "'first' must be a whole number from 1 to 200"
        in too_many["errors"][0]["message"]
    )
