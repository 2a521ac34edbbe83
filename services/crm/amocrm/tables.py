"""The amoCRM connector's own tables: tokens, sync progress, inbox, outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, Text
from sqlmodel import Field

from services.crm.tables import CrmTable


def _when(nullable: bool = False) -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=nullable)


def _serial() -> Column[int]:
    return Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)


class AmoToken(CrmTable, table=True):
    """The newest OAuth pair: written in one transaction, so a crash keeps one pair."""

    __tablename__ = "amocrm_tokens"
    account: str = Field(primary_key=True)
    access_token: str = Field(sa_column=Column(Text, nullable=False))
    refresh_token: str = Field(sa_column=Column(Text, nullable=False))
    expires_at: datetime = Field(sa_column=_when())
    saved_at: datetime = Field(sa_column=_when())


class AmoDepartment(CrmTable, table=True):
    __tablename__ = "amocrm_departments"
    account: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    name: str = ""


class AmoUser(CrmTable, table=True):
    """What amoCRM says of a user beyond the CRM directory: department, admin rights."""

    __tablename__ = "amocrm_users"
    account: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    department: str = ""
    is_admin: bool = False
    email: str = ""


class AmoSync(CrmTable, table=True):
    """Where the initial sync stands (to resume it) and how far reconciliation got."""

    __tablename__ = "amocrm_sync"
    account: str = Field(primary_key=True)
    step: str = ""  # the step in progress; "done" once finished
    page: int = 1  # the next page of that step
    counts: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    # Events up to this instant have been reconciled.
    reconciled_until: datetime | None = Field(
        default=None, sa_column=_when(nullable=True)
    )
    webhook: str = ""  # the destination registered with amoCRM
    amo_account_id: int = 0  # GET /api/v4/account's id, read by the first sync
    # What the last look at GET /api/v4/webhooks found (connection.py's words).
    hook_state: str = "unknown"
    hook_checked_at: datetime | None = Field(
        default=None, sa_column=_when(nullable=True)
    )
    # A block of the whole account (403, or 402 once the subscription ends):
    # while block_status is set, nothing is sent before blocked_until.
    block_status: int = 0
    blocked_since: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    blocked_until: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    block_attempts: int = 0
    block_detail: str = ""


class AmoInbox(CrmTable, table=True):
    """Webhooks as received, processed later and in order."""

    __tablename__ = "amocrm_inbox"
    __table_args__ = (Index("ix_amocrm_inbox_todo", "account", "processed_at"),)
    seq: int | None = Field(default=None, sa_column=_serial())
    account: str
    received_at: datetime = Field(sa_column=_when())
    body: str = Field(sa_column=Column(Text, nullable=False))
    processed_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    attempts: int = 0
    error: str = ""


class AmoOutbox(CrmTable, table=True):
    """Changes decided here that amoCRM has still to accept, oldest first."""

    __tablename__ = "amocrm_outbox"
    __table_args__ = (Index("ix_amocrm_outbox_todo", "account", "sent_at", "lead_id"),)
    seq: int | None = Field(default=None, sa_column=_serial())
    account: str
    lead_id: str
    payload: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=_when())
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=_when())
    sent_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    failed_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    error: str = ""


class AmoUnsortedLead(CrmTable, table=True):
    """A lead amoCRM holds in Unsorted (a status of `type: 1`): it is accepted,
    never moved ("POST /api/v4/leads/unsorted/{uid}/accept"). The uid is
    learnt from GET /api/v4/leads/unsorted when a write first needs it."""

    __tablename__ = "amocrm_unsorted_leads"
    account: str = Field(primary_key=True)
    lead_id: str = Field(primary_key=True)
    pipeline: str = ""
    stage: str = ""  # the Unsorted status of that pipeline
    uid: str = ""
