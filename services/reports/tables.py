"""Tables of the reports service: read models and subscription offsets."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Date, DateTime, Index
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class ReportsTable(SQLModel, registry=registry()):
    """Base of the reports service's own tables."""


class StreamOffset(ReportsTable, table=True):
    """How far each subscribed stream has been read, so a restart resumes there."""

    __tablename__ = "stream_offsets"
    stream: str = Field(primary_key=True)
    offset: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class AccountZone(ReportsTable, table=True):
    """The timezone the account's calendar days were counted in."""

    __tablename__ = "account_zones"
    account: str = Field(primary_key=True)
    timezone: str = "UTC"


class DistributionDay(ReportsTable, table=True):
    """Leads handed out to one manager on one local day, by one group and kind.

    Week and month are stored beside the day so a report groups by its bucket
    in SQL and reads at most one row per manager, day, group and kind.
    """

    __tablename__ = "distribution_days"
    __table_args__ = (
        Index("ix_distribution_days_user", "account", "user_id", "day"),
        # A report reads a range of days: PostgreSQL answers from the index alone.
        Index(
            "ix_distribution_days_report",
            "account",
            "day",
            postgresql_include=["user_id", "group_id", "kind", "leads"],
        ).ddl_if(dialect="postgresql"),
        # SQLite keeps the rows in primary-key order, so a range of days is
        # read in one pass instead of one lookup per row.
        {"sqlite_with_rowid": False},
    )
    account: str = Field(primary_key=True)
    day: date = Field(sa_column=Column(Date, primary_key=True))
    user_id: str = Field(primary_key=True)
    group_id: str = Field(primary_key=True)  # empty for push without a group
    kind: str = Field(primary_key=True)  # claim | push | manual
    week: date = Field(sa_column=Column(Date, nullable=False))
    month: date = Field(sa_column=Column(Date, nullable=False))
    leads: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class LeadState(ReportsTable, table=True):
    """What the loss report needs to read a CRM event: the lead's pipeline and owner."""

    __tablename__ = "lead_states"
    account: str = Field(primary_key=True)
    lead_id: str = Field(primary_key=True)
    pipeline: str = ""
    responsible: str = ""


class LeadGroup(ReportsTable, table=True):
    """The distribution group that last handed the lead out."""

    __tablename__ = "lead_groups"
    account: str = Field(primary_key=True)
    lead_id: str = Field(primary_key=True)
    group_id: str = ""
    decision_offset: int = Field(default=0, sa_column=Column(BigInteger))


class LeadClosing(ReportsTable, table=True):
    """A closed lead's last closing; a reopened lead has none until closed again."""

    __tablename__ = "lead_closings"
    __table_args__ = (Index("ix_lead_closings_at", "account", "closed_at"),)
    account: str = Field(primary_key=True)
    lead_id: str = Field(primary_key=True)
    closed_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    outcome: str  # won | lost
    reason: str = ""
    responsible: str = ""  # the lead's responsible user when it was closed
    stage: str = ""  # "pipeline/stage"
    deleted: bool = False  # the lead is deleted in the CRM (it may be restored)


metadata = ReportsTable.metadata
