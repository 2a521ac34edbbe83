"""Tables of the reports service: read models and subscription offsets."""

from __future__ import annotations

from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class ReportsTable(SQLModel, registry=registry()):
    """Base of the reports service's own tables."""


class StreamOffset(ReportsTable, table=True):
    """How far each subscribed stream has been read, so a restart resumes there."""

    __tablename__ = "stream_offsets"
    stream: str = Field(primary_key=True)
    offset: int = 0


metadata = ReportsTable.metadata
