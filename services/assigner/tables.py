"""Tables of the assigner: groups, the journal, idempotency keys, push state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, Text, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class AssignerTable(SQLModel, registry=registry()):
    """Base of the assigner service's own tables."""


class DistributionGroup(AssignerTable, table=True):
    __tablename__ = "groups"
    account: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    name: str = ""
    source_stages: str = ""  # comma-separated "pipeline/stage"
    target_stage: str = ""
    exchange_users: str = ""
    cascade: bool = False
    sort: int = 0


class DecisionRow(AssignerTable, table=True):
    """One entry of the decision journal; seq orders it for subscribers."""

    __tablename__ = "decisions"
    __table_args__ = (
        Index("ix_decisions_actor", "account", "actor", "seq"),
        Index("ix_decisions_assignee", "account", "assignee", "seq"),
        Index("ix_decisions_lead", "account", "lead_id", "seq"),
    )
    seq: int | None = Field(
        default=None,
        sa_column=Column(
            "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True
        ),
    )
    account: str
    kind: str  # claim | push | manual
    outcome: str  # claimed | refused | assigned | held
    group_id: str = ""
    actor: str = ""
    lead_id: str = ""
    assignee: str = ""
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    reasons: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    details: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    template_id: str = ""
    algorithm: str = ""
    trace_id: str = ""


class IdempotencyKey(AssignerTable, table=True):
    """A caller's key and the decision it produced: a repeated press replays it."""

    __tablename__ = "idempotency_keys"
    account: str = Field(primary_key=True)
    scope: str = Field(primary_key=True)  # e.g. "claim:<user>"
    key: str = Field(primary_key=True)
    decision_seq: int


class ClaimAttempt(AssignerTable, table=True):
    """A press that went to the crm for a lead, open until its decision is journaled.

    The crm changes first and the journal second; a crash between the two
    leaves this row open, and settling it (services/assigner/claim_attempts.py)
    journals the lead the crm gave, or makes sure the crm gives none.
    """

    __tablename__ = "claim_attempts"
    __table_args__ = (Index("ix_claim_attempts_open", "decision_seq", "started"),)
    account: str = Field(primary_key=True)
    operation_id: str = Field(primary_key=True)  # the crm's TakePoolLead operation
    group_id: str = ""
    user_id: str = ""
    key: str = ""  # the caller's idempotency key, if any
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    # Real time, not the injected clock: how long the crm call may still be on
    # its way, so only attempts older than any call can be are settled.
    started: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    details: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    trace_id: str = ""
    decision_seq: int | None = None  # set once journaled


def _when(nullable: bool = True) -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=nullable)


class RotationRow(AssignerTable, table=True):
    """A template's rotation (services.assigner.engine.rotation.py), shared by replicas.

    Read and written under a row lock in the same transaction that reserves a
    lead's attempt, so concurrent pushes through any replica see one sequence.
    """

    __tablename__ = "rotations"
    account: str = Field(primary_key=True)
    template_id: str = Field(primary_key=True)
    state: str = Field(default="", sa_column=Column(Text, nullable=False))
    updated_at: datetime | None = Field(default=None, sa_column=_when())


class PushLead(AssignerTable, table=True):
    """A lead in push distribution: waiting, being assigned, assigned, or done.

    Every change is a conditional update on (state, attempt), so a lead seen
    twice, or by two replicas, moves once. The timers (SLA, handover) are
    columns here, driven by the injected clock: a restart loses none.
    """

    __tablename__ = "push_leads"
    __table_args__ = (
        Index("ix_push_leads_queue", "state", "created_at", "lead_id"),
        Index("ix_push_leads_sla", "state", "reassign_at"),
    )
    account: str = Field(primary_key=True)
    lead_id: str = Field(primary_key=True)
    state: str = "waiting"  # waiting | assigning | assigned | done
    attempt: int = 0  # the last attempt reserved; the crm operation is push:<lead>:<n>
    created_at: datetime = Field(sa_column=_when(nullable=False))  # queue order
    group_id: str = ""  # whose limits apply: the group the lead arrived in
    expected_owner: str = ""  # who must still own the lead for the next attempt
    wait_reason: str = ""  # why it waits: no_template | nobody_on_duty
    waiting_since: datetime | None = Field(default=None, sa_column=_when())
    template_id: str = ""
    assignee: str = ""
    assigned_at: datetime | None = Field(default=None, sa_column=_when())
    assigned_stage: str = ""  # "untouched" = still here and no task done since
    watched: bool = False  # SLA and handover apply
    reassign_at: datetime | None = Field(default=None, sa_column=_when())
    skipped: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    pending: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    pending_since: datetime | None = Field(default=None, sa_column=_when())
    done_reason: str = ""


class Subscription(AssignerTable, table=True):
    """How far the assigner has read a stream it follows (the crm's events)."""

    __tablename__ = "subscriptions"
    name: str = Field(primary_key=True)
    offset: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


@event.listens_for(DecisionRow, "before_insert")
def _journal_in_order(_mapper: Any, connection: Connection, _row: Any) -> None:
    """Decisions become visible in seq order, so "after seq N" never skips one.

    PostgreSQL hands out sequence numbers at insert but shows rows at commit; a
    transaction lock on the journal makes those two orders the same.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('decisions'))"))


metadata = AssignerTable.metadata
