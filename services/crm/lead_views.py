"""A lead as the crm's answers show it: the row with its contacts and companies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from leadrouter.errors import NotFound
from leadrouter.i18n import _
from leadrouter.timestamps import utc
from services.crm.tables import Lead, LeadParty


@dataclass(frozen=True)
class LeadView:
    id: str
    name: str
    budget: int
    pipeline: str
    stage: str
    responsible: str
    channel: str
    contacts: list[str]
    companies: list[str]
    tags: list[str]
    created_at: datetime
    closed_at: datetime | None
    loss_reason: str


class LeadViews:
    """Builds the views of leads read in a session (a base of the crm's store)."""

    def _view(self, s: Session, account: str, lead_id: str) -> LeadView:
        lead = s.get(Lead, (account, lead_id))
        if lead is None:
            raise NotFound(_("unknown lead '{lead}'").format(lead=lead_id))
        return self._views(s, account, [lead])[0]

    def _views(self, s: Session, account: str, leads: list[Lead]) -> list[LeadView]:
        parties: dict[tuple[str, str], list[str]] = {}
        if leads:
            rows = s.execute(
                select(
                    col(LeadParty.lead_id), col(LeadParty.kind), col(LeadParty.party_id)
                )
                .where(
                    col(LeadParty.account) == account,
                    col(LeadParty.lead_id).in_([x.id for x in leads]),
                )
                .order_by(col(LeadParty.sort))
            )
            for lead_id, kind, party_id in rows:
                parties.setdefault((lead_id, kind), []).append(party_id)
        return [
            LeadView(
                id=x.id,
                name=x.name,
                budget=x.budget,
                pipeline=x.pipeline,
                stage=x.stage,
                responsible=x.responsible,
                channel=x.channel,
                contacts=parties.get((x.id, "contact"), []),
                companies=parties.get((x.id, "company"), []),
                tags=[t for t in x.tags.split(",") if t],
                created_at=utc(x.created_at),
                closed_at=utc(x.closed_at) if x.closed_at else None,
                loss_reason=x.loss_reason,
            )
            for x in leads
        ]
