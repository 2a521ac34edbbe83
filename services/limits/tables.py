"""Tables of the limits service: counting settings, member limits, setup versions.

The last claims of the interval limit are the crm's (services/crm/claims.py):
recorded in the transaction that gives the lead.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class LimitsTable(SQLModel, registry=registry()):
    """Base of the limits service's own tables."""


class AccountZone(LimitsTable, table=True):
    __tablename__ = "accounts"
    id: str = Field(primary_key=True)
    timezone: str = "UTC"
    # Changes with every applied change of the account's limits; the crm
    # keeps the latest too (SetLimitsStamp), for whoever holds a copy.
    stamp: str = ""


class LimitGroup(LimitsTable, table=True):
    __tablename__ = "groups"
    account: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    excluded_stages: str = ""  # comma-separated "pipeline/stage"
    sale_stages: str = ""
    loss_stages: str = ""
    key_stage: str = ""
    exchange_users: str = ""
    # JSON {limit: value}: what a member without a value of their own takes.
    default_limits: str = Field(
        default="{}", sa_column=Column(Text, nullable=False, default="{}")
    )
    sort: int = 0


class MemberLimit(LimitsTable, table=True):
    __tablename__ = "members"
    account: str = Field(primary_key=True)
    group_id: str = Field(primary_key=True)
    user_id: str = Field(primary_key=True)
    enabled: bool = True
    limits: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    sort: int = 0


class SetupVersionRow(LimitsTable, table=True):
    """One applied change of an account's setup and the whole setup it left."""

    __tablename__ = "setup_versions"
    account: str = Field(primary_key=True)
    number: int = Field(primary_key=True)
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    author: str = ""
    source: str = ""
    changes: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    workspace_yaml: str = Field(sa_column=Column(Text, nullable=False))


metadata = LimitsTable.metadata
