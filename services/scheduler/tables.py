"""Tables of the scheduler: schedules, templates and presence."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class SchedulerTable(SQLModel, registry=registry()):
    """Base of the scheduler service's own tables."""


class AccountZone(SchedulerTable, table=True):
    __tablename__ = "accounts"
    id: str = Field(primary_key=True)
    timezone: str = "UTC"


class ScheduleRow(SchedulerTable, table=True):
    """A user's schedule as its workspace entry (JSON), parsed on read."""

    __tablename__ = "schedules"
    account: str = Field(primary_key=True)
    user_id: str = Field(primary_key=True)
    spec: str = Field(sa_column=Column(Text, nullable=False))
    follow_schedule: bool = False
    sort: int = 0  # the workspace's order, so that an export reads as it was written


class TemplateRow(SchedulerTable, table=True):
    __tablename__ = "templates"
    account: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    sort: int = 0
    spec: str = Field(sa_column=Column(Text, nullable=False))


class PresenceRow(SchedulerTable, table=True):
    __tablename__ = "presence"
    account: str = Field(primary_key=True)
    user_id: str = Field(primary_key=True)
    online: bool = False
    changed_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False)
    )


metadata = SchedulerTable.metadata
