"""Opaque pagination cursors, shared by the service that reads them and the gateway.

A cursor names a place in a list by the list's sort key (a keyset), not by
a position: a page read after leads were added or taken starts right after
the last one seen. Each kind carries its own prefix, so a cursor of one list
given to another is refused instead of being misread.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from leadrouter import messages
from leadrouter.errors import BadInput
from leadrouter.timestamps import utc

DECISION = "d:"
LEAD = "l:"


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def _decode(cursor: str, prefix: str, name: str) -> str:
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
    except (ValueError, binascii.Error, UnicodeError) as error:
        raise BadInput(messages.bad_cursor(name)) from error
    if not text.startswith(prefix):
        raise BadInput(messages.bad_cursor(name))
    return text.removeprefix(prefix)


def decision_cursor(seq: int) -> str:
    return _encode(f"{DECISION}{seq}")


def decode_decision_cursor(cursor: str, name: str = "after") -> int:
    text = _decode(cursor, DECISION, name)
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        raise BadInput(messages.bad_cursor(name))
    return int(text)


def lead_cursor(created_at: datetime, lead_id: str) -> str:
    """The place of a lead in a list ordered oldest first (created, then id)."""
    return _encode(f"{LEAD}{utc(created_at).isoformat()}|{lead_id}")


def decode_lead_cursor(cursor: str, name: str = "after") -> tuple[datetime, str]:
    created, bar, lead_id = _decode(cursor, LEAD, name).partition("|")
    try:
        at = datetime.fromisoformat(created)
    except ValueError as error:
        raise BadInput(messages.bad_cursor(name)) from error
    if not bar or at.tzinfo is None:
        raise BadInput(messages.bad_cursor(name))
    return utc(at), lead_id
