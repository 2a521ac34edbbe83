"""What-if runs: fetches an account's history and replays it under a workspace."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from leadrouter.assigner.v1 import assigner_pb2
from leadrouter.clients import Clients
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import Problem
from leadrouter.timestamps import from_ts, to_ts
from leadrouter.workspace import parse_workspace
from services.assigner.whatif import ClaimPress, WhatIfResult, replay
from services.crm.history import CanonicalEvent, parse_event


async def fetch_history(
    clients: Clients, account: str, start: datetime, end: datetime
) -> tuple[list[CanonicalEvent], list[ClaimPress]]:
    """Every CRM event before `end`, and the presses of the button in the range."""
    events: list[CanonicalEvent] = []
    stream = clients.crm.stream(
        "StreamEvents", crm_pb2.StreamEventsRequest(account=account, follow=False)
    )
    async for message in stream:
        if from_ts(message.at) < end:
            events.append(parse_event(json.loads(message.json)))
    presses: list[ClaimPress] = []
    after = ""
    while True:
        request = assigner_pb2.ListDecisionsRequest(
            account=account, to=to_ts(end), first=500, after=after
        )
        getattr(request, "from").CopyFrom(to_ts(start))  # `from` is a keyword
        page = await clients.assigner.call("ListDecisions", request)
        presses += [
            ClaimPress(from_ts(d.at), d.actor, d.group_id)
            for d in page.decisions
            if d.kind == "claim"
        ]
        if not page.decisions or not page.end_cursor:
            break
        after = page.end_cursor
    return events, sorted(presses, key=lambda p: p.at)


def render_comparison(result: WhatIfResult) -> str:
    """The proposal beside what happened, as a plain-text table."""
    users = sorted(set(result.proposed) | set(result.actual))
    total = sum(result.actual.values()) or 1
    lines = [f"{'manager':<20} {'proposed':>9} {'actual':>9} {'share':>7}"]
    for u in users:
        proposed, actual = result.proposed.get(u, 0), result.actual.get(u, 0)
        lines.append(f"{u:<20} {proposed:>9} {actual:>9} {proposed / total:>7.0%}")
    lines.append("")
    for template, deviation in result.max_deviation.items():
        lines.append(f"template {template}: max deviation {deviation:.2f} leads")
    lines.append(
        f"presses: {result.claims}, refused under the proposal: {result.refused_claims}"
    )
    for user, limits in result.refused.items():
        counts = ", ".join(f"{limit} {n}" for limit, n in limits.items())
        lines.append(f"  {user}: {counts}")
    lines.append(
        f"held because nobody was on duty: {result.held_leads} lead(s), "
        f"{result.held_minutes} minute(s) in all"
    )
    return "\n".join(lines)


async def simulate(
    clients: Clients, account: str, yaml: str, start: datetime, end: datetime
) -> tuple[WhatIfResult | None, list[Problem]]:
    """The workspace in `yaml` replayed over [start, end); live data is only read."""
    ws, problems = parse_workspace(yaml)
    if ws is None:
        return None, problems
    if start >= end:
        return None, [Problem("from", "must be before 'to'")]
    events, presses = await fetch_history(clients, account, start, end)
    tz = ZoneInfo(ws.account.timezone)
    return replay(ws, tz, events, presses, start=start, end=end), []
