"""What push distribution reads of leads: links, open counts, where leads stand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import col

from leadrouter.db import Database
from services.crm.state import Directory
from services.crm.tables import Lead, LeadParty, Party, Pipeline, Stage, Task


@dataclass(frozen=True)
class Link:
    """A user a lead is linked to, and through what."""

    user: str
    kind: str  # contact_responsible | company_responsible | previous_lead_owner
    source_id: str


@dataclass(frozen=True)
class LeadWork:
    lead_id: str
    found: bool
    stage: str = ""
    responsible: str = ""
    open: bool = False
    tasks_completed: int = 0


class PushReads:
    """The crm store's reads for push, each one transaction for many leads."""

    db: Database

    def linked_users(
        self, *, account: str, lead_ids: list[str]
    ) -> dict[str, list[Link]]:
        """Per lead, the users its contacts and companies already work with."""
        out: dict[str, list[Link]] = {lead_id: [] for lead_id in lead_ids}
        if not lead_ids:
            return out
        same_party = (
            (col(Party.account) == col(LeadParty.account))
            & (col(Party.kind) == col(LeadParty.kind))
            & (col(Party.id) == col(LeadParty.party_id))
        )
        with self.db.session() as s:
            rows = s.execute(
                select(
                    col(LeadParty.lead_id),
                    col(LeadParty.kind),
                    col(LeadParty.party_id),
                    col(Party.responsible),
                )
                .join(Party, same_party)
                .where(
                    col(LeadParty.account) == account,
                    col(LeadParty.lead_id).in_(lead_ids),
                )
                # Contacts before companies, each in the lead's own order.
                .order_by(
                    col(LeadParty.lead_id),
                    col(LeadParty.kind).desc(),
                    col(LeadParty.sort),
                )
            ).all()
            contacts: dict[str, list[str]] = {}
            for lead_id, kind, party_id, responsible in rows:
                out[lead_id].append(Link(responsible, f"{kind}_responsible", party_id))
                if kind == "contact":
                    contacts.setdefault(lead_id, []).append(party_id)
            for lead_id, party_ids in contacts.items():
                for party_id in party_ids:
                    previous = s.execute(
                        select(col(Lead.id), col(Lead.responsible))
                        .join(
                            LeadParty,
                            (col(LeadParty.account) == col(Lead.account))
                            & (col(LeadParty.lead_id) == col(Lead.id)),
                        )
                        .where(
                            col(LeadParty.account) == account,
                            col(LeadParty.kind) == "contact",
                            col(LeadParty.party_id) == party_id,
                            col(Lead.id) != lead_id,
                        )
                        .order_by(col(Lead.created_at).desc(), col(Lead.id).desc())
                        .limit(1)
                    ).first()
                    if previous is not None:
                        out[lead_id].append(
                            Link(previous[1], "previous_lead_owner", previous[0])
                        )
        return out

    def count_open_leads(self, *, account: str, users: list[str]) -> dict[str, int]:
        """Leads each user is responsible for in open stages of live pipelines."""
        counts = dict.fromkeys(users, 0)
        if not users:
            return counts
        with self.db.session() as s:
            rows = s.execute(
                select(col(Lead.responsible), func.count())
                .join(
                    Stage,
                    (col(Stage.account) == col(Lead.account))
                    & (col(Stage.pipeline) == col(Lead.pipeline))
                    & (col(Stage.id) == col(Lead.stage)),
                )
                .join(
                    Pipeline,
                    (col(Pipeline.account) == col(Lead.account))
                    & (col(Pipeline.id) == col(Lead.pipeline)),
                )
                .where(
                    col(Lead.account) == account,
                    col(Lead.responsible).in_(users),
                    col(Stage.kind) == "open",
                    col(Pipeline.archived).is_(False),
                )
                .group_by(col(Lead.responsible))
            ).all()
            for user, count in rows:
                counts[user] = int(count)
        return counts

    def lead_work(
        self, *, account: str, queries: list[tuple[str, datetime]]
    ) -> list[LeadWork]:
        """Where each lead stands, and how many of its tasks were done since when."""
        out: list[LeadWork] = []
        with self.db.session() as s:
            directory = Directory.load(s, account)
            for lead_id, since in queries:
                lead = s.get(Lead, (account, lead_id))
                if lead is None:
                    out.append(LeadWork(lead_id, found=False))
                    continue
                done = s.scalar(
                    select(func.count()).where(
                        col(Task.account) == account,
                        col(Task.lead_id) == lead_id,
                        col(Task.completed_at) >= since,
                    )
                )
                out.append(
                    LeadWork(
                        lead_id,
                        found=True,
                        stage=lead.stage_key,
                        responsible=lead.responsible,
                        open=directory.stages.get(lead.stage_key) == "open",
                        tasks_completed=int(done or 0),
                    )
                )
        return out
