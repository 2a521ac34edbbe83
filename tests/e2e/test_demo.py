"""The demo that `make run` loads: a pool to claim from and a manager blocked twice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadrouter.demo import WORKSPACE
from leadrouter.demo.history import POOL_SIZE, record_demo
from tests.e2e.test_claim import CLAIM
from tests.stack import Stack


@pytest.mark.parametrize("hours_after_midnight", [0.1, 10, 23.9])
async def test_demo_has_a_pool_and_marina_is_blocked_by_two_limits(
    stack: Stack, hours_after_midnight: float
) -> None:
    # 00:06, 10:00 and 23:54 Tomsk time: the demo must bite at any hour.
    midnight_utc = stack.clock.now().replace(hour=17, minute=0) - timedelta(days=1)
    stack.clock.set(midnight_utc + timedelta(hours=hours_after_midnight))
    result = await stack.apply(WORKSPACE.read_text())
    assert result["ok"], result["problems"]
    yaml = WORKSPACE.read_text()
    assert (
        await record_demo(stack.clients, stack.account, yaml, stack.clock.now()) == []
    )

    pool = await stack.data(
        '{ pool(groupId: "main") { totalCount edges { node { id } } } }'
    )
    # The exhibition's backlog, less what the demo's presses took, oldest first.
    left = [e["node"]["id"] for e in pool["pool"]["edges"]]
    assert 0 < pool["pool"]["totalCount"] < POOL_SIZE
    assert left == sorted(left) and all(x.startswith("P") for x in left)
    marina = await stack.data(CLAIM, {"g": "main"}, user="marina", role="manager")
    reasons = {r["limit"]: r for r in marina["claimLead"]["reasons"]}
    assert set(reasons) == {"max_active", "max_lost_today"}
    assert reasons["max_lost_today"]["value"] == 4
    assert reasons["max_lost_today"]["passesAt"] == (
        (midnight_utc + timedelta(days=1)).isoformat()
    )
    ursula = await stack.data(CLAIM, {"g": "main"}, user="ursula", role="manager")
    assert "lead" in ursula["claimLead"], ursula
    assert ursula["claimLead"]["lead"]["id"] == left[0]
