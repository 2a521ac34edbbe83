"""One manager pressing 'Get lead' too fast is slowed down; nobody else is.

A token bucket per (account, user) at the gateway, on the injected clock:
by default 5 presses a second with bursts of 10.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from gateway.app import create_app
from tests.e2e.test_claim import CLAIM, _setup
from tests.stack import Stack


async def press(stack: Stack, user: str) -> dict[str, Any]:
    return await stack.gql(CLAIM, {"g": "main"}, user=user, role="manager")


async def test_a_manager_hammering_is_limited_while_another_still_gets_leads(
    stack: Stack,
) -> None:
    assert (stack.settings.claim_rate_per_second, stack.settings.claim_burst) == (5, 10)
    await _setup(stack, pool=12)
    burst = [await press(stack, "ursula") for _ in range(10)]
    assert all(not b.get("errors") for b in burst), burst
    assert {b["data"]["claimLead"]["__typename"] for b in burst} == {"Claimed"}

    limited = await press(stack, "ursula")
    assert limited["data"] is None
    error = limited["errors"][0]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 1}
    assert error["message"] == (
        "too many presses: at most 5 a second (bursts of 10); try again in 1 s"
    )
    # Nadezhda is not held back by Ursula's presses …
    other = await press(stack, "nadezhda")
    assert other["data"]["claimLead"]["__typename"] == "Claimed", other
    # … and a limited press leaves no trace in the journal.
    mine = await stack.data(
        '{ decisions(userId: "ursula", first: 50) { edges { node { id } } } }'
    )
    assert len(mine["decisions"]["edges"]) == 10

    # A second later five more presses pass, and the sixth does not.
    stack.clock.advance(timedelta(seconds=1))
    again = [await press(stack, "ursula") for _ in range(6)]
    assert [bool(a.get("errors")) for a in again] == [False] * 5 + [True]


async def test_the_limit_is_a_setting_and_zero_turns_it_off(stack: Stack) -> None:
    await _setup(stack, pool=0)
    off = stack.settings.model_copy(update={"claim_rate_per_second": 0})
    app = create_app(off, stack.clients, stack.clock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as http:
        for _ in range(30):
            reply = await http.post(
                "/graphql",
                json={"query": CLAIM, "variables": {"g": "main"}},
                headers={"Authorization": f"Bearer {stack.token('ursula')}"},
            )
            assert reply.json()["data"]["claimLead"]["__typename"] == "Refused"
