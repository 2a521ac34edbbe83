"""The RecordHistory RPC: a generated past, decided by the engine, made the record.

services/assigner/whatif/record.py decides the stream; this module keeps the
result as production would have: the journal, push's rows and rotations in
the assigner's database, the history in the crm, the last claims in limits.
The assigner's part is written first, so that its follower, reading the
imported history, finds every lead push handled already handled; if the crm
refuses the history, the assigner's part is taken back.
"""

from __future__ import annotations

import asyncio
import json
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlmodel import col

from leadrouter.assigner.v1 import assigner_pb2
from leadrouter.clients import Clients
from leadrouter.common.v1 import common_pb2
from leadrouter.crm.v1 import crm_pb2
from leadrouter.db import Database
from leadrouter.errors import BadInput, Problem
from leadrouter.i18n import _
from leadrouter.timestamps import from_ts, to_ts
from leadrouter.workspace import parse_workspace
from services.assigner.tables import DecisionRow, PushLead, RotationRow
from services.assigner.whatif.distribution import Journaled
from services.assigner.whatif.inputs import ClaimPress
from services.assigner.whatif.record import Pressed, Recorded, record
from services.crm import history as h


def _decision(account: str, entry: Journaled | Pressed) -> DecisionRow:
    if isinstance(entry, Pressed):
        p = entry.press
        return DecisionRow(
            account=account,
            kind="claim",
            outcome=p.outcome,
            group_id=p.group,
            actor=p.user,
            lead_id=p.lead,
            assignee=p.user if p.lead else "",
            at=p.at,
            reasons=json.dumps([dict(r) for r in p.reasons], default=str),
            details=json.dumps(entry.details, default=str),
        )
    r = entry.record
    return DecisionRow(
        account=account,
        kind="push",
        outcome=r.outcome,
        group_id=entry.group_id,
        lead_id=r.lead,
        assignee=r.user,
        at=r.at,
        reasons=json.dumps([{"code": entry.reason}] if entry.reason else []),
        details=json.dumps(entry.details, default=str),
        template_id=r.template,
        algorithm=entry.algorithm,
    )


def keep(*, db: Database, account: str, recorded: Recorded) -> int:
    """The journal, push's rows and rotations, in one transaction."""
    with db.session() as s:
        journaled = s.scalar(
            select(func.count()).where(col(DecisionRow.account) == account)
        )
        if journaled:
            raise BadInput(
                _(
                    "account '{account}' already has a journal: a past can only be "
                    "recorded into an account that has none"
                ).format(account=account)
            )
        decisions = [_decision(account, e) for e in recorded.journal]
        s.add_all(decisions)
        for row in recorded.rows.values():
            s.add(
                PushLead(
                    account=account,
                    lead_id=row.lead_id,
                    state=row.state,
                    attempt=row.attempt,
                    created_at=row.created_at,
                    group_id=row.group_id,
                    expected_owner=row.expected_owner,
                    wait_reason=row.wait_reason,
                    waiting_since=row.waiting_since,
                    template_id=row.template_id,
                    assignee=row.assignee,
                    assigned_at=row.assigned_at,
                    assigned_stage=row.assigned_stage,
                    watched=row.watched,
                    reassign_at=row.reassign_at,
                    skipped=row.skipped,
                    done_reason=row.done_reason,
                )
            )
        for template_id, state in recorded.rotations.items():
            s.add(
                RotationRow(
                    account=account, template_id=template_id, state=state.to_json()
                )
            )
        return len(decisions)


def forget(*, db: Database, account: str) -> None:
    """Takes back what keep() wrote (the crm refused the history)."""
    with db.session() as s:
        for table in (DecisionRow, PushLead, RotationRow):
            s.execute(delete(table).where(col(table.account) == account))


class RecordPast:
    def __init__(self, db: Database, clients: Clients) -> None:
        self.db = db
        self.clients = clients

    async def __call__(
        self, request: assigner_pb2.RecordHistoryRequest
    ) -> assigner_pb2.RecordHistoryResponse:
        ws, problems = parse_workspace(request.workspace_yaml)
        stream: list[h.CanonicalEvent] = []
        for n, line in enumerate(request.lines, start=1):
            event, bad = h.parse_line(line, f"line {n}")
            problems += bad
            if event is not None:
                stream.append(event)
        if ws is None or problems:
            return _refused(problems)
        start, end = from_ts(getattr(request, "from")), from_ts(request.to)
        if start >= end:
            return _refused([Problem("from", _("must be before 'to'"))])
        presses = [
            ClaimPress(from_ts(p.at), p.user_id, p.group_id) for p in request.presses
        ]
        recorded = await asyncio.to_thread(
            record,
            ws,
            ZoneInfo(ws.account.timezone),
            sorted(stream, key=lambda e: e.at),
            presses,
            start=start,
            end=end,
            account=request.account,
        )
        decisions = await self.db.run(
            keep, db=self.db, account=request.account, recorded=recorded
        )
        reply = await self.clients.crm.import_history(
            crm_pb2.ImportHistoryRequest(
                account=request.account,
                lines=[h.to_json(e) for e in recorded.events],
            ),
        )
        if reply.problems:
            await self.db.run(forget, db=self.db, account=request.account)
            return assigner_pb2.RecordHistoryResponse(problems=reply.problems)
        await self.clients.crm.record_claims(
            crm_pb2.RecordClaimsRequest(
                account=request.account,
                claims=[
                    crm_pb2.Claim(group_id=group_id, user_id=user, at=to_ts(at))
                    for (group_id, user), at in sorted(recorded.last_claims.items())
                ],
            ),
        )
        return assigner_pb2.RecordHistoryResponse(
            events=reply.applied, decisions=decisions
        )


def _refused(problems: list[Problem]) -> assigner_pb2.RecordHistoryResponse:
    return assigner_pb2.RecordHistoryResponse(
        problems=[common_pb2.Problem(path=p.path, message=p.message) for p in problems]
    )
