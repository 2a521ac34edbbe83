"""Tables of the built-in CRM: current state derived from the canonical event log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, Text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class CrmTable(SQLModel, registry=registry()):
    """Base of the crm service's own tables (its own metadata, its own schema)."""


def _when(nullable: bool = False, index: bool = False) -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=nullable, index=index)


class Account(CrmTable, table=True):
    id: str = Field(primary_key=True)
    timezone: str = "UTC"
    # The limits service's mark of its current settings (SetLimitsStamp).
    limits_stamp: str = ""


class CrmUser(CrmTable, table=True):
    __tablename__ = "users"
    account: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    name: str = ""
    technical: bool = False
    active: bool = True


class Pipeline(CrmTable, table=True):
    __tablename__ = "pipelines"
    account: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    name: str = ""
    archived: bool = False
    sort: int = 0


class Stage(CrmTable, table=True):
    __tablename__ = "stages"
    account: str = Field(primary_key=True)
    pipeline: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    name: str = ""
    kind: str = "open"  # open | won | lost
    sort: int = 0
    # A lost stage's reasons as a JSON list (a reason may hold a comma), and
    # whether a move into the stage needs one of them.
    loss_reasons: str = "[]"
    require_loss_reason: bool = False


class Lead(CrmTable, table=True):
    __tablename__ = "leads"
    __table_args__ = (
        Index("ix_leads_pool", "account", "stage_key", "responsible", "created_at"),
        # With the stage, a manager's open leads (limit 2) are counted from
        # the index alone, however many leads the manager has.
        Index("ix_leads_owner_stage", "account", "responsible", "stage_key"),
        # Limits 7 and 8 count a manager's recent moves into loss stages on
        # every press; without this each press reads every lead of the account.
        Index("ix_leads_moved_by", "account", "stage_changed_by", "stage_changed_at"),
    )
    account: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    name: str = ""
    budget: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    pipeline: str
    stage: str
    stage_key: str  # "pipeline/stage", the form group settings use
    responsible: str
    channel: str = ""
    tags: str = ""  # comma-separated; tags never contain commas in the CRM
    created_at: datetime = Field(sa_column=_when())
    closed_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    loss_reason: str = ""
    # Who moved it into its current stage and when: limits 7 and 8 count these.
    stage_changed_at: datetime = Field(sa_column=_when())
    stage_changed_by: str = ""
    # Where reopening returns it to.
    last_open_stage: str = ""


class DeletedLead(CrmTable, table=True):
    """A lead deleted in the CRM, kept aside so a restore brings it back whole.

    The lead's row leaves `leads` at once, so every pool, count and limit
    stops seeing it without a filter of its own; its tasks and party links
    stay, and count again only if the lead comes back.
    """

    __tablename__ = "deleted_leads"
    account: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    deleted_at: datetime = Field(sa_column=_when())
    merged_into: str = ""
    row: str = Field(sa_column=Column(Text, nullable=False))  # the lead, as JSON


class Party(CrmTable, table=True):
    """A contact or a company, with its responsible user."""

    __tablename__ = "parties"
    account: str = Field(primary_key=True)
    kind: str = Field(primary_key=True)  # contact | company
    id: str = Field(primary_key=True)
    responsible: str = ""


class LeadParty(CrmTable, table=True):
    __tablename__ = "lead_parties"
    account: str = Field(primary_key=True)
    lead_id: str = Field(primary_key=True)
    kind: str = Field(primary_key=True)
    party_id: str = Field(primary_key=True)
    sort: int = 0


class Task(CrmTable, table=True):
    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_open", "account", "responsible", "completed_at"),)
    account: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    lead_id: str | None = Field(default=None, index=True)
    responsible: str
    deadline: datetime = Field(sa_column=_when())
    completed_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    text: str = ""


class Event(CrmTable, table=True):
    """The canonical event log; offset orders it for subscribers."""

    __tablename__ = "events"
    __table_args__ = (
        # Limits 6, 9 and 10 count a manager's moves into given stages: by
        # stage first, a press reads those moves only, not all the manager's.
        Index("ix_events_moves_into", "account", "actor", "stage_to", "type", "at"),
        Index("ix_events_new", "account", "user_to", "at"),
        # A lead's history reads its own events, not the account's.
        Index("ix_events_lead", "account", "lead_id", "offset"),
    )
    offset: int | None = Field(
        default=None,
        sa_column=Column(
            "offset", BigInteger().with_variant(Integer, "sqlite"), primary_key=True
        ),
    )
    account: str
    type: str
    at: datetime = Field(sa_column=_when())
    lead_id: str = ""
    stage_to: str = ""  # "pipeline/stage" for stage changes and reopenings
    user_to: str = ""  # new responsible for creations and responsible changes
    actor: str = ""  # the lead's responsible user when the event happened
    payload: str = Field(sa_column=Column(Text, nullable=False))


class PoolClaim(CrmTable, table=True):
    """A manager's last claim in a group, for the interval limit (limit 1).

    Written in the transaction that takes the lead, so no claim the crm gave
    can be missing from the limit, whatever fails after it.
    """

    __tablename__ = "claims"
    account: str = Field(primary_key=True)
    group_id: str = Field(primary_key=True)
    user_id: str = Field(primary_key=True)
    at: datetime = Field(sa_column=_when())


class PoolFloor(CrmTable, table=True):
    """Where a pool's oldest lead can be: no lead of the stage and owner is older.

    PostgreSQL keeps the index entries of leads taken from the pool until
    vacuum, so a take that starts at the index's beginning steps over every
    lead claimed since; from the floor it reads the oldest live entry
    (services/crm/pool.py). Lowered in the transaction that brings an older
    lead in, raised now and then by a take; `version` tells a raise that a
    lead came in while it measured.
    """

    __tablename__ = "pool_floors"
    account: str = Field(primary_key=True)
    stage_key: str = Field(primary_key=True)
    responsible: str = Field(primary_key=True)
    at: datetime = Field(sa_column=_when())
    version: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class Operation(CrmTable, table=True):
    """Results of idempotent operations, so a retried call changes nothing more."""

    __tablename__ = "operations"
    account: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    result: str = Field(sa_column=Column(Text, nullable=False))


metadata = CrmTable.metadata
# Indexes replaced by wider ones above; dropped from existing databases.
metadata.info["retired_indexes"] = ["ix_leads_owner", "ix_events_moves"]
