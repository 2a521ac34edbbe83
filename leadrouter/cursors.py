"""Opaque pagination cursors, shared by the service that reads them and the gateway."""

from __future__ import annotations

import base64

from leadrouter.errors import BadInput


def decision_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"d:{seq}".encode()).decode()


def decode_decision_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        return int(text.removeprefix("d:"))
    except ValueError as error:
        raise BadInput("the cursor 'after' is not one this API gave out") from error
