"""What the mirror already holds of a batch of amoCRM entities, read at once.

Applying a page of the first sync, or the leads a batch of webhooks names,
used to read each lead's row, its trash entry, its Unsorted entry, its
waiting writes and its links one statement at a time: about a dozen
statements per lead before anything changed. Here each of those is one
statement per batch (per 500 ids), and the rows read stay in the session, so
the ledger's own lookups of them are answered without a statement too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel import Session, col

from services.crm.amocrm.tables import AmoOutbox, AmoUnsortedLead
from services.crm.tables import DeletedLead, Lead, LeadParty, Party, Task

CHUNK = 500  # ids per IN list


def chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def held_leads(s: Session, account: str, lead_ids: Iterable[str]) -> set[str]:
    """Leads with an assignment made here still on its way to amoCRM."""
    held: set[str] = set()
    for chunk in chunks(lead_ids):
        held |= set(
            s.scalars(
                select(col(AmoOutbox.lead_id)).where(
                    col(AmoOutbox.account) == account,
                    col(AmoOutbox.lead_id).in_(chunk),
                    col(AmoOutbox.sent_at).is_(None),
                    col(AmoOutbox.failed_at).is_(None),
                )
            )
        )
    return held


def load_parties(
    s: Session, account: str, wanted: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], Party]:
    """(kind, id) -> the party row, for those the mirror has."""
    found: dict[tuple[str, str], Party] = {}
    by_kind: dict[str, set[str]] = defaultdict(set)
    for kind, party_id in wanted:
        by_kind[kind].add(party_id)
    for kind, ids in sorted(by_kind.items()):
        for chunk in chunks(ids):
            for party in s.scalars(
                select(Party).where(
                    col(Party.account) == account,
                    col(Party.kind) == kind,
                    col(Party.id).in_(chunk),
                )
            ):
                found[(party.kind, party.id)] = party
    return found


@dataclass
class KnownLeads:
    """The mirror's side of a batch of leads. The rows are held here, so the
    session keeps them (its identity map holds only what is referenced)."""

    leads: dict[str, Lead] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    unsorted: dict[str, AmoUnsortedLead] = field(default_factory=dict)
    held: set[str] = field(default_factory=set)
    links: dict[str, list[LeadParty]] = field(default_factory=dict)
    parties: dict[tuple[str, str], Party] = field(default_factory=dict)

    @classmethod
    def read(
        cls,
        s: Session,
        account: str,
        ids: Sequence[str],
        parties: Iterable[tuple[str, str]],
        lock: bool,
    ) -> KnownLeads:
        known = cls()
        for chunk in chunks(ids):
            stmt = (
                select(Lead)
                .where(col(Lead.account) == account, col(Lead.id).in_(chunk))
                .order_by(col(Lead.id))
            )
            if lock:
                # A claim holds its lead's row while it writes the outbox row:
                # wait for it (in id order, as every batch locks), then read
                # the outbox below.
                stmt = stmt.with_for_update()
            known.leads.update((x.id, x) for x in s.scalars(stmt))
            known.deleted |= set(
                s.scalars(
                    select(col(DeletedLead.id)).where(
                        col(DeletedLead.account) == account,
                        col(DeletedLead.id).in_(chunk),
                    )
                )
            )
            known.unsorted.update(
                (x.lead_id, x)
                for x in s.scalars(
                    select(AmoUnsortedLead).where(
                        col(AmoUnsortedLead.account) == account,
                        col(AmoUnsortedLead.lead_id).in_(chunk),
                    )
                )
            )
            for link in s.scalars(
                select(LeadParty).where(
                    col(LeadParty.account) == account,
                    col(LeadParty.lead_id).in_(chunk),
                )
            ):
                known.links.setdefault(link.lead_id, []).append(link)
        known.held = held_leads(s, account, ids)
        known.parties = load_parties(s, account, parties)
        return known


@dataclass
class KnownTasks:
    tasks: dict[str, Task] = field(default_factory=dict)
    leads: dict[str, Lead] = field(default_factory=dict)
    held: set[str] = field(default_factory=set)

    @classmethod
    def read(
        cls, s: Session, account: str, ids: Sequence[str], lead_ids: Sequence[str]
    ) -> KnownTasks:
        known = cls()
        for chunk in chunks(ids):
            known.tasks.update(
                (x.id, x)
                for x in s.scalars(
                    select(Task).where(
                        col(Task.account) == account, col(Task.id).in_(chunk)
                    )
                )
            )
        owners = set(lead_ids) | {t.lead_id for t in known.tasks.values() if t.lead_id}
        for chunk in chunks(owners):
            known.leads.update(
                (x.id, x)
                for x in s.scalars(
                    select(Lead).where(
                        col(Lead.account) == account, col(Lead.id).in_(chunk)
                    )
                )
            )
        known.held = held_leads(s, account, owners)
        return known
