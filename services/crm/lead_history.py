"""A lead's history: its own events in the order they happened, and where a
reopening would return it (shown before an admin confirms, seed 002: "При
нажатии на кнопку "Отозвать сделку" и подтверждении отмены сделки").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from leadrouter.db import Database
from leadrouter.errors import NotFound
from leadrouter.timestamps import utc
from services.crm.state import EventRejected, Ledger
from services.crm.tables import Event

CLOSED = ("won", "lost")


@dataclass(frozen=True)
class HistoryEntry:
    offset: int
    at: datetime
    type: str
    by: str  # who did it, when the event names them
    stage: str  # "pipeline/stage" after a move, creation or reopening
    responsible: str  # the lead's responsible user after the event
    loss_reason: str
    task: str


def lead_history(
    *, db: Database, account: str, lead_id: str
) -> tuple[list[HistoryEntry], str]:
    """The lead's events, oldest first, and the stage reopening returns it to
    ("" when it is open, or its pipeline has no open stage)."""
    with db.session() as s:
        ledger = Ledger(s, account)
        try:
            lead = ledger.lead(lead_id)
        except EventRejected as error:
            raise NotFound(f"no lead '{lead_id[:200]}'") from error
        rows = s.scalars(
            select(Event)
            .where(col(Event.account) == account, col(Event.lead_id) == lead_id)
            .order_by(col(Event.offset))
        ).all()
        entries = []
        responsible = ""
        for row in rows:
            data = json.loads(row.payload)
            if row.user_to and not row.type.startswith("task"):
                responsible = row.user_to
            entries.append(
                HistoryEntry(
                    offset=row.offset or 0,
                    at=utc(row.at),
                    type=row.type,
                    by=str(data.get("by") or ""),
                    stage=row.stage_to,
                    responsible=responsible or row.actor,
                    loss_reason=str(data.get("loss_reason") or ""),
                    task=str(data.get("task") or ""),
                )
            )
        reopens_to = ""
        if ledger.directory.stages.get(lead.stage_key) in CLOSED:
            try:
                reopens_to = ledger.reopening_stage(lead)
            except EventRejected:
                reopens_to = ""
        return entries, reopens_to
