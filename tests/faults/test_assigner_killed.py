"""`kill -9` of the assigner in the middle of 100 concurrent presses.

Afterwards every lead is either assigned once or still in the pool, and the
decision journal tells the same story as the CRM: a press the crm carried
out but the dead assigner never journaled is journaled when it comes back.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.faults.product import (
    CLAIM,
    INTERNALS,
    MANAGERS,
    add_leads,
    journal_disagreements,
    owners,
    token,
)
from tests.processes import ProcessStack

pytestmark = pytest.mark.slow

PRESSES = 100
KILL_AFTER = 20  # answers; the other presses are on their way or not yet sent


async def press_all(url: str, kill: Any) -> list[dict[str, Any]]:
    """100 presses at once; the assigner dies once the first answers are back."""
    answered = 0
    killed = asyncio.Event()

    async with httpx.AsyncClient(base_url=url, timeout=60) as http:

        async def press(i: int) -> dict[str, Any]:
            nonlocal answered
            user = MANAGERS[i % len(MANAGERS)]
            reply = await http.post(
                "/graphql",
                json={"query": CLAIM, "variables": {}},
                headers={"Authorization": f"Bearer {token(user)}"},
            )
            answered += 1
            if answered == KILL_AFTER:
                await asyncio.to_thread(kill)
                killed.set()
            assert reply.status_code == 200, reply.text
            assert not any(word in reply.text for word in INTERNALS), reply.text
            body: dict[str, Any] = reply.json()
            return {"user": user, **body}

        answers = await asyncio.gather(*(press(i) for i in range(PRESSES)))
        assert killed.is_set()
        return answers


def test_every_lead_is_assigned_once_or_still_in_the_pool(
    fault_stack: ProcessStack, fault_dir: Path
) -> None:
    leads = add_leads(fault_stack, fault_dir, 2000, PRESSES)
    answers = asyncio.run(
        press_all(fault_stack.url, lambda: fault_stack.kill("assigner"))
    )
    fault_stack.restart("assigner")

    claimed = {
        a["data"]["claimLead"]["lead"]["id"]: a["user"]
        for a in answers
        if not a.get("errors") and a["data"]["claimLead"]["__typename"] == "Claimed"
    }
    failed = [a["errors"] for a in answers if a.get("errors")]
    # Presses cut off by the kill are told so, in words.
    assert failed, "the kill came after every press was answered"
    assert all(
        [e["extensions"]["code"] for e in errors] == ["UNAVAILABLE"]
        and errors[0]["message"].startswith("the assigner service ")
        for errors in failed
    ), failed
    assert len(claimed) + len(failed) <= PRESSES

    with httpx.Client(base_url=fault_stack.url, timeout=30) as http:
        # The assigner settles what its predecessor left half done as it starts.
        deadline = time.monotonic() + 30
        while problems := journal_disagreements(http):
            assert time.monotonic() < deadline, problems
            time.sleep(0.2)
        crm = owners(http)
    # Each lead a manager was told is theirs is theirs, and no lead is lost.
    assert {lead: crm[lead] for lead in claimed} == claimed
    assert all(crm[lead] in ["pool", *MANAGERS] for lead in leads)
    taken = [lead for lead in leads if crm[lead] != "pool"]
    assert len(taken) >= len(claimed)
    # The pool hands out oldest first: what is left is the newest.
    assert taken == leads[: len(taken)]
    settled = fault_stack.log("assigner").count("journaled after the fact")
    print(
        f"\n{len(claimed)} presses answered with a lead, {len(failed)} cut off, "
        f"{len(taken)} leads taken, {settled} journaled after the restart"
    )
