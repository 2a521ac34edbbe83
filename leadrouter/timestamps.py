"""Conversions between aware datetimes and protobuf Timestamps."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp


def to_ts(at: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(at.astimezone(UTC))
    return ts


def from_ts(ts: Timestamp) -> datetime:
    return ts.ToDatetime(tzinfo=UTC)


def optional_ts(message: Message, field: str) -> datetime | None:
    """The field's instant, or None when the field is unset."""
    if not message.HasField(field):
        return None
    return from_ts(getattr(message, field))


def set_ts(message: Message, field: str, at: datetime | None) -> None:
    if at is not None:
        getattr(message, field).CopyFrom(to_ts(at))


def utc(at: datetime) -> datetime:
    """Aware UTC; naive datetimes (as SQLite returns them) are taken as UTC."""
    if at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    return at.astimezone(UTC)


def parse_instant(text: str) -> datetime:
    """ISO 8601 with an offset (or Z); a bare local time is refused as ambiguous."""
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if at.tzinfo is None:
        raise ValueError(f"'{text}' has no UTC offset")
    return at.astimezone(UTC)
