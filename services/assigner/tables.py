"""Tables of the assigner: groups, the decision journal, idempotency keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, Text
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


metadata = AssignerTable.metadata
