"""A service killed while managers press 'Get lead': a clear refusal, nothing lost.

The services run as separate processes; each fault is a real `kill -9`, and
the service comes back on the same address, as a supervisor would restart it.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.faults.product import (
    add_leads,
    admin_data,
    claim,
    claimed_decisions,
    journal_disagreements,
    owners,
    post,
    token,
    unavailable,
)
from tests.processes import ProcessStack

pytestmark = pytest.mark.slow

LEADS = 12


@pytest.fixture(scope="module", autouse=True)
def pool(fault_stack: ProcessStack, fault_dir: Path) -> list[str]:
    return add_leads(fault_stack, fault_dir, 1000, LEADS)


def press_until_claimed(http: httpx.Client, user: str, seconds: float = 10) -> str:
    """Presses until a lead comes (the service is back); every miss is UNAVAILABLE."""
    deadline = time.monotonic() + seconds
    while True:
        body = claim(http, user)
        if not body.get("errors"):
            result = body["data"]["claimLead"]
            assert result["__typename"] == "Claimed", result
            lead: str = result["lead"]["id"]
            return lead
        unavailable(body)
        assert time.monotonic() < deadline, "claims did not work again"
        time.sleep(0.1)  # a person pressing again, not a clock under test


@pytest.mark.parametrize("service", ["crm"])
def test_a_press_while_a_service_is_down_is_refused_clearly_and_takes_nothing(
    fault_stack: ProcessStack, http: httpx.Client, service: str
) -> None:
    before = owners(http)
    journaled = len(claimed_decisions(http))
    fault_stack.kill(service)
    try:
        for user in ("ursula", "nadezhda"):
            message = unavailable(claim(http, user))
            assert message == (
                f"the {service} service is not reachable; try again in a moment"
            )
    finally:
        fault_stack.restart(service)
    # Nothing was half made: the same leads in the pool, no decision for them.
    assert owners(http) == before
    assert len(claimed_decisions(http)) == journaled
    oldest_left = min(lead for lead, owner in before.items() if owner == "pool")
    assert press_until_claimed(http, "ursula") == oldest_left
    assert owners(http)[oldest_left] == "ursula"
    assert journal_disagreements(http) == []


def test_claims_do_not_need_limits_once_the_assigner_holds_the_settings(
    fault_stack: ProcessStack, http: httpx.Client
) -> None:
    """The assigner judges a press by the group's limit settings it read once
    (services/assigner/claim_limits.py): limits down, presses go on; what
    asks limits itself is refused in words until it is back."""
    press_until_claimed(http, "nadezhda")  # the settings are held from here
    eligibility = '{ eligibility(groupId: "main") { userId eligible } }'
    fault_stack.kill("limits")
    try:
        assert claim(http, "ursula")["data"]["claimLead"]["__typename"] == "Claimed"
        message = unavailable(post(http, eligibility, token("head", "admin")))
        assert message == "the limits service is not reachable; try again in a moment"
    finally:
        fault_stack.restart("limits")
    assert journal_disagreements(http) == []


def test_claims_do_not_need_the_scheduler_and_its_own_questions_wait_for_it(
    fault_stack: ProcessStack, http: httpx.Client
) -> None:
    duty = "{ onDuty { users { userId } } }"
    admin_data(http, duty)
    fault_stack.kill("scheduler")
    try:
        # Pressing 'Get lead' asks only the CRM.
        assert claim(http, "marina")["data"]["claimLead"]["__typename"] == "Claimed"
        message = unavailable(post(http, duty, token("head", "admin")))
        assert message == (
            "the scheduler service is not reachable; try again in a moment"
        )
    finally:
        fault_stack.restart("scheduler")
    deadline = time.monotonic() + 10
    while post(http, duty, token("head", "admin")).get("errors"):
        assert time.monotonic() < deadline, "the scheduler's answers did not return"
        time.sleep(0.1)
    assert journal_disagreements(http) == []
