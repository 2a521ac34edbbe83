"""The Simulate RPC: the account's history replayed under a proposed workspace.

The CRM's events come from the crm's event log, the presses and push
decisions from the assigner's own journal; the replay itself is
services/assigner/whatif (the engine live push runs, on a replay clock). The
answer names people as the CRM names them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from leadrouter.assigner.v1 import assigner_pb2
from leadrouter.clients import Clients
from leadrouter.common.v1 import common_pb2
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import NotFound, Problem
from leadrouter.i18n import _
from leadrouter.timestamps import from_ts, set_ts
from leadrouter.workspace import parse_workspace
from services.assigner.store import AssignerStore
from services.assigner.tables import DecisionRow
from services.assigner.whatif.inputs import ClaimPress, PushRecord
from services.assigner.whatif.replay import replay
from services.assigner.whatif.result import Figures, WhatIfResult
from services.assigner.whatif.tally import BUTTON, HELD, Side
from services.crm.history import CanonicalEvent, parse_event

# A year of history replays in minutes; a longer range is a mistake, not a plan.
MAX_RANGE = timedelta(days=366)


def press_of(row: DecisionRow) -> ClaimPress:
    return ClaimPress(
        row.at,
        row.actor,
        row.group_id,
        row.outcome,
        tuple(json.loads(row.reasons or "[]")),
        row.lead_id,
    )


def push_of(row: DecisionRow) -> PushRecord:
    details = json.loads(row.details or "{}")
    return PushRecord(
        row.at,
        row.lead_id,
        row.outcome,
        row.template_id,
        row.assignee,
        str(details.get("trigger", "")),
        str(details.get("target_stage") or ""),
    )


class Simulation:
    def __init__(self, store: AssignerStore, clients: Clients) -> None:
        self.store = store
        self.clients = clients

    async def __call__(
        self, request: assigner_pb2.SimulateRequest
    ) -> assigner_pb2.SimulateResponse:
        start, end = from_ts(getattr(request, "from")), from_ts(request.to)
        ws, problems = parse_workspace(request.workspace_yaml)
        if ws is None:
            return _refused(problems)
        if start >= end:
            return _refused([Problem("from", _("must be before 'to'"))])
        if end - start > MAX_RANGE:
            return _refused(
                [
                    Problem(
                        "to",
                        _("the range is at most {days} days").format(
                            days=MAX_RANGE.days
                        ),
                    )
                ]
            )
        events = await self._history(request.account, end)
        rows = await self.store.db.run(
            self.store.journal, account=request.account, since=start, until=end
        )
        presses = [press_of(r) for r in rows if r.kind == "claim"]
        pushes = [push_of(r) for r in rows if r.kind == "push"]
        names = await self._names(request.account)
        # The replay is minutes of CPU at most; in a thread, the server goes on
        # answering meanwhile.
        result = await asyncio.to_thread(
            replay,
            ws,
            ZoneInfo(ws.account.timezone),
            events,
            presses,
            start=start,
            end=end,
            pushes=pushes,
            account=request.account,
            names=names,
        )
        return response(result)

    async def _history(self, account: str, end: datetime) -> list[CanonicalEvent]:
        events: list[CanonicalEvent] = []
        stream = self.clients.crm.stream_events(
            crm_pb2.StreamEventsRequest(account=account, follow=False)
        )
        async for message in stream:
            if from_ts(message.at) < end:
                events.append(parse_event(json.loads(message.json)))
        return events

    async def _names(self, account: str) -> dict[str, str]:
        try:
            directory = await self.clients.crm.get_directory(
                crm_pb2.GetDirectoryRequest(account=account)
            )
        except NotFound:
            return {}
        return {u.id: u.name for u in directory.users if u.name}


def _refused(problems: Iterable[Problem]) -> assigner_pb2.SimulateResponse:
    return assigner_pb2.SimulateResponse(
        problems=[common_pb2.Problem(path=p.path, message=p.message) for p in problems]
    )


def _figures(f: Figures) -> assigner_pb2.WhatIfFigures:
    return assigner_pb2.WhatIfFigures(
        leads=f.leads,
        held=f.held,
        sla=f.sla,
        handovers=f.handovers,
        claimed=f.claimed,
        refused=dict(f.refused),
    )


def _totals(side: Side) -> assigner_pb2.WhatIfTotals:
    return assigner_pb2.WhatIfTotals(
        leads=len(side.first),
        left_to_button=side.placed.get(BUTTON, 0),
        still_held=side.placed.get(HELD, 0),
        held=assigner_pb2.HeldLeads(
            leads=side.held.leads,
            total_minutes=side.held.total_minutes,
            max_minutes=side.held.max_minutes,
        ),
        sla_reassignments=side.sla_total,
        handovers=side.handovers_total,
        presses=side.presses,
        refused_presses=side.refused_presses,
    )


def _counts(
    result: WhatIfResult, per_user: Mapping[str, int]
) -> list[assigner_pb2.UserCount]:
    return [
        assigner_pb2.UserCount(user_id=u, name=result.name(u), count=n)
        for u, n in sorted(per_user.items(), key=lambda x: (result.name(x[0]), x[0]))
    ]


def response(result: WhatIfResult) -> assigner_pb2.SimulateResponse:
    """The replay's result as the RPC's answer."""
    reply = assigner_pb2.SimulateResponse(
        proposed=_totals(result.proposed),
        differences=result.differences(),
    )
    if result.actual is not None:
        reply.actual.CopyFrom(_totals(result.actual))
    if result.fairness is not None:
        reply.fairness = result.fairness
    if result.actual_fairness is not None:
        reply.actual_fairness = result.actual_fairness
    for m in result.managers:
        row = reply.managers.add(
            user_id=m.user,
            name=m.name,
            proposed=_figures(m.proposed),
            proposed_share=m.proposed_share,
            actual_share=m.actual_share,
            ideal_share=m.ideal_share,
            actual_ideal_share=m.actual_ideal_share,
        )
        if m.actual is not None:
            row.actual.CopyFrom(_figures(m.actual))
    for t in result.templates:
        template = reply.templates.add(
            id=t.id,
            name=t.name,
            window=t.window,
            proposed=_counts(result, t.proposed),
            actual=_counts(result, t.actual),
        )
        if t.max_deviation is not None:
            template.max_deviation = t.max_deviation
    hours = result.blocked_hours
    for user, limits in result.blocked.items():
        for limit, spans in limits.items():
            blocked = reply.blocked.add(
                user_id=user,
                name=result.name(user),
                limit=limit,
                hours=hours[user][limit],
            )
            for s, e in spans:
                interval = blocked.spans.add()
                set_ts(interval, "start", s)
                set_ts(interval, "end", e)
    actual = result.actual.first if result.actual is not None else {}
    for lead, placed in result.proposed.first.items():
        reply.leads.add(lead_id=lead, proposed=placed, actual=actual.get(lead, ""))
    return reply
