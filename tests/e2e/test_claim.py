"""The "Get lead" button through the gateway, the assigner, limits and the CRM."""

from __future__ import annotations

from datetime import timedelta

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
        "{ pool(groupId: \"main\") { totalCount edges { node { id } } } }"
    )
    assert pool["pool"]["totalCount"] == 2
    assert [e["node"]["id"] for e in pool["pool"]["edges"]] == ["L01", "L02"]
