"""Helpers for the push tests: hand in leads, wait for their decision, read owners."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from leadrouter.assigner.v1 import assigner_pb2
from leadrouter.crm.v1 import crm_pb2
from tests.stack import Stack

TOMSK = ZoneInfo("Asia/Tomsk")

SUBMIT = """
mutation($input: LeadInput!, $key: String) {
  submitLead(input: $input, idempotencyKey: $key) { id responsible stage }
}
"""
DISTRIBUTE = """
mutation($lead: ID!, $key: String) {
  distributeLead(leadId: $lead, idempotencyKey: $key) {
    id kind outcome assignee templateId algorithm traceId details
    reasons { code }
  }
}
"""
DECISIONS = """
query($lead: ID) {
  decisions(leadId: $lead, first: 50) {
    edges { node { id kind outcome assignee templateId algorithm details
                   reasons { code } } }
  }
}
"""


def tomsk(text: str) -> datetime:
    """A wall-clock time in Tomsk; 2026-11-02 is a Monday."""
    return datetime.fromisoformat(text).replace(tzinfo=TOMSK)


async def submit(
    stack: Stack,
    lead: str,
    channel: str = "call",
    *,
    contacts: list[str] | None = None,
    tags: list[str] | None = None,
) -> None:
    """A partner system hands in a new lead; it lands in the inbox (pool)."""
    await stack.data(
        SUBMIT,
        {
            "input": {
                "id": lead,
                "name": f"Request {lead}",
                "pipeline": "sales",
                "stage": "new",
                "responsible": "pool",
                "channel": channel,
                "contacts": contacts or [],
                "tags": tags or [],
            }
        },
        user="site",
        role="partner",
    )


async def push_decisions(stack: Stack, lead: str) -> list[dict[str, Any]]:
    """The lead's push decisions, oldest first, as the journal shows them."""
    data = await stack.data(DECISIONS, {"lead": lead})
    nodes = [e["node"] for e in data["decisions"]["edges"]]
    return [n for n in reversed(nodes) if n["kind"] == "push"]


async def decided(
    stack: Stack, lead: str, count: int = 1, timeout: float = 15.0
) -> list[dict[str, Any]]:
    """Waits (bounded) until the lead has `count` push decisions, and returns them.

    The assigner reacts to the crm's event stream in the background; this
    polls the journal for the outcome instead of sleeping a fixed time.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = await push_decisions(stack, lead)
        if len(found) >= count:
            return found
        if loop.time() > deadline:
            raise AssertionError(
                f"lead {lead}: {len(found)} push decisions, not {count}"
            )
        await asyncio.sleep(0.02)


async def pushed(
    stack: Stack, lead: str, channel: str = "call", **kw: Any
) -> dict[str, Any]:
    """Submits a lead and returns its first push decision."""
    await submit(stack, lead, channel, **kw)
    return (await decided(stack, lead))[0]


async def owners(stack: Stack, *leads: str) -> dict[str, str]:
    """Who owns each lead in the CRM of record."""
    found = await stack.clients.crm.get_leads(
        crm_pb2.GetLeadsRequest(account=stack.account, ids=list(leads))
    )
    return {lead.id: lead.responsible for lead in found.leads}


async def stages(stack: Stack, *leads: str) -> dict[str, str]:
    found = await stack.clients.crm.get_leads(
        crm_pb2.GetLeadsRequest(account=stack.account, ids=list(leads))
    )
    return {lead.id: f"{lead.pipeline}/{lead.stage}" for lead in found.leads}


TIMER_TRIGGERS = frozenset({"queue", "sla", "handover", "recovery"})
# Per test's stack (its data folder): the journal offset the last tick() saw.
_ticked: dict[str, int] = {}


async def tick(stack: Stack) -> list[assigner_pb2.Decision]:
    """Lets the assigner look at its queue and timers at the clock's now.

    Returns, oldest first, the decisions the timers made since the previous
    call, read from the journal: the assigner also ticks by itself every few
    seconds, and whichever tick gets there first makes the same decisions.
    """
    await stack.clients.assigner.tick(assigner_pb2.TickRequest(account=stack.account))
    page = await stack.clients.assigner.list_decisions(
        assigner_pb2.ListDecisionsRequest(account=stack.account, first=500),
    )
    stack_key = str(stack.settings.data_dir)
    seen = _ticked.get(stack_key, 0)
    fresh = [
        d
        for d in reversed(page.decisions)
        if d.offset > seen
        and d.kind == "push"
        and json.loads(d.details_json).get("trigger") in TIMER_TRIGGERS
    ]
    if page.decisions:
        _ticked[stack_key] = max(d.offset for d in page.decisions)
    return fresh


async def crm_events(stack: Stack, lead: str) -> list[dict[str, Any]]:
    """The lead's canonical events, as any subscriber of the crm reads them."""
    call = stack.clients.crm.stream_events(
        crm_pb2.StreamEventsRequest(account=stack.account)
    )
    return [json.loads(e.json) async for e in call if e.lead_id == lead]


async def take_into_work(stack: Stack, lead: str, at: datetime) -> None:
    """The manager moves the lead on: it is no longer untouched."""
    await stack.import_history(
        [{"type": "stage_changed", "at": at.isoformat(), "lead": lead, "to": "meeting"}]
    )


def details(decision: dict[str, Any]) -> dict[str, Any]:
    value = decision["details"]
    return json.loads(value) if isinstance(value, str) else value
