"""Issue 24, point 2: names, not ids, wherever a person reads.

A decision comes with the names of who decided, who got the lead, the lead
and the group, for every caller who may see the decision (a manager too,
who may not list the account's users); a page of the journal reads them in
one batch per service, and not at all when no name is asked for.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from prometheus_client import REGISTRY

from tests.e2e.push_support import decided
from tests.stack import Stack

DEMO = Path(__file__).resolve().parents[2] / "leadrouter/demo/workspace.yaml"
NAMED = "actor actorName assignee assigneeName leadId leadName groupId groupName"
JOURNAL = f"{{ decisions(first: 50) {{ edges {{ node {{ kind {NAMED} }} }} }} }}"
CLAIM = (
    'mutation { claimLead(groupId: "main") { ... on Claimed { decision { '
    + NAMED
    + " } } ... on Refused { decision { "
    + NAMED
    + " } } } }"
)


def _served(service: str, method: str) -> float:
    value = REGISTRY.get_sample_value(
        "leadrouter_rpc_server_duration_seconds_count",
        {"service": service, "method": method, "code": "OK"},
    )
    return value or 0.0


async def _lead(stack: Stack, lead: str, name: str) -> None:
    await stack.import_history(
        [
            {
                "type": "lead_created",
                "at": "2026-11-01T09:00:00+07:00",
                "lead": lead,
                "name": name,
                "pipeline": "sales",
                "stage": "new",
                "responsible": "pool",
                "channel": "call",
            }
        ]
    )


async def test_a_manager_reads_her_decisions_by_name(stack: Stack) -> None:
    await stack.apply(DEMO.read_text(encoding="utf-8"))
    await _lead(stack, "L-1", "Call from the site")
    claimed = await stack.data(CLAIM, user="ursula", role="manager")
    assert claimed["claimLead"]["decision"] == {
        "actor": "ursula",
        "actorName": "Ursula",
        "assignee": "ursula",
        "assigneeName": "Ursula",
        "leadId": "L-1",
        "leadName": "Call from the site",
        "groupId": "main",
        "groupName": "Sales floor",
    }
    journal = await stack.data(JOURNAL, user="ursula", role="manager")
    (claim,) = [e["node"] for e in journal["decisions"]["edges"]]
    assert claim["assigneeName"] == "Ursula"


async def test_a_pushed_lead_reads_by_name_and_a_page_asks_once(
    stack: Stack,
) -> None:
    await stack.apply(DEMO.read_text(encoding="utf-8"))
    reply = await stack.data(
        'mutation { submitLead(input: {name: "Website request", channel: "form"})'
        " { id } }",
        user="site",
        role="partner",
    )
    lead = reply["submitLead"]["id"]
    (push,) = await decided(stack, lead)
    for n in range(3):
        await _lead(stack, f"L-{n}", f"Request {n}")
        stack.clock.advance(timedelta(minutes=3))  # past her claim interval
        await stack.data(CLAIM, user="ursula", role="manager")
    before = {
        m: _served(s, m)
        for s, m in (
            ("crm", "GetDirectory"),
            ("crm", "GetLeads"),
            ("assigner", "ListGroups"),
        )
    }
    journal = await stack.data(JOURNAL)
    nodes = [e["node"] for e in journal["decisions"]["edges"]]
    assert len(nodes) == 4
    pushed = next(n for n in nodes if n["kind"] == "push")
    assert pushed["leadName"] == "Website request"
    assert pushed["assigneeName"] in {"Ursula", "Nadezhda"}
    assert pushed["assignee"] == push["assignee"]
    assert {n["leadName"] for n in nodes if n["kind"] == "claim"} == {
        "Request 0",
        "Request 1",
        "Request 2",
    }
    # One batch per service for the whole page, whatever its length.
    assert {
        m: _served(s, m) - before[m]
        for s, m in (
            ("crm", "GetDirectory"),
            ("crm", "GetLeads"),
            ("assigner", "ListGroups"),
        )
    } == {"GetDirectory": 1, "GetLeads": 1, "ListGroups": 1}
    # Without names asked for, none of them is read.
    before = {m: _served("crm", m) for m in ("GetDirectory", "GetLeads")}
    await stack.data("{ decisions(first: 50) { edges { node { id assignee } } } }")
    assert {m: _served("crm", m) - before[m] for m in before} == {
        "GetDirectory": 0,
        "GetLeads": 0,
    }
