"""The database under the services restarted, or turned read-only, under load.

No service is restarted: each reconnects by itself (work that finds its
pooled connection stale is done again on a fresh one), presses that met the
outage are refused in words, and nothing is half written.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.faults.postgres import PrivatePostgres
from tests.faults.product import (
    CLAIM,
    INTERNALS,
    MANAGERS,
    add_leads,
    claim,
    claimed_decisions,
    journal_disagreements,
    owners,
    token,
    unavailable,
)
from tests.processes import ProcessStack

pytestmark = pytest.mark.slow

PRESSES = 60
RESTART_AFTER = 15  # answers
# What a refused press says: which part is down, or, when only the journal
# entry is missing, that the lead is the manager's all the same.
READABLE = re.compile(
    r"^(the (crm|limits|assigner) (service|database) |lead \w+ is yours, ).+; .+"
)


async def press_while(url: str, fault: Any) -> list[dict[str, Any]]:
    """Five managers pressing in turn; the fault strikes after the first answers."""
    answered = 0
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:

        async def manager(user: str) -> list[dict[str, Any]]:
            nonlocal answered
            answers = []
            for _ in range(PRESSES // len(MANAGERS)):
                reply = await http.post(
                    "/graphql",
                    json={"query": CLAIM, "variables": {}},
                    headers={"Authorization": f"Bearer {token(user)}"},
                )
                answered += 1
                if answered == RESTART_AFTER:
                    await asyncio.to_thread(fault)
                assert reply.status_code == 200, reply.text
                assert not any(word in reply.text for word in INTERNALS), reply.text
                answers.append(reply.json())
            return answers

        per_manager = await asyncio.gather(*(manager(u) for u in MANAGERS))
        return [a for answers in per_manager for a in answers]


def settle(http: httpx.Client) -> None:
    deadline = time.monotonic() + 30
    while problems := journal_disagreements(http):
        assert time.monotonic() < deadline, problems
        time.sleep(0.2)


def test_services_reconnect_by_themselves_after_postgres_restarts(
    fault_stack: ProcessStack, postgres: PrivatePostgres, fault_dir: Path
) -> None:
    add_leads(fault_stack, fault_dir, 3000, PRESSES)
    answers = asyncio.run(press_while(fault_stack.url, postgres.restart))
    refused = [a["errors"][0] for a in answers if a.get("errors")]
    unreadable = [
        e
        for e in refused
        if e["extensions"]["code"] != "UNAVAILABLE" or not READABLE.match(e["message"])
    ]
    assert not unreadable, unreadable
    assert all(p.poll() is None for p in fault_stack.procs.values()), "a service died"
    with httpx.Client(base_url=fault_stack.url, timeout=30) as http:
        # Pressing works again with no service restarted.
        body = claim(http, "ursula")
        assert body["data"]["claimLead"]["__typename"] == "Claimed", body
        settle(http)
    print(f"\n{len(refused)} of {PRESSES} presses met the restart and were refused")


def test_a_read_only_database_refuses_presses_clearly_and_writes_nothing(
    fault_stack: ProcessStack, postgres: PrivatePostgres, fault_dir: Path
) -> None:
    add_leads(fault_stack, fault_dir, 4000, 3)
    with httpx.Client(base_url=fault_stack.url, timeout=30) as http:
        before, journaled = owners(http), len(claimed_decisions(http))
        postgres.admin(
            "ALTER DATABASE leadrouter SET default_transaction_read_only = on"
        )
        postgres.drop_connections()
        try:
            for user in ("ursula", "nadezhda"):
                assert unavailable(claim(http, user)) == (
                    "the assigner database is read-only; nothing was changed, "
                    "try again once it accepts writes"
                )
            assert owners(http) == before
            assert len(claimed_decisions(http)) == journaled
        finally:
            postgres.admin(
                "ALTER DATABASE leadrouter RESET default_transaction_read_only"
            )
            postgres.drop_connections()
        body = claim(http, "ursula")
        assert body["data"]["claimLead"]["__typename"] == "Claimed", body
        settle(http)
