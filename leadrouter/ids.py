"""Ids as they arrive from callers: bad ones are bad input, never a crash.

Every service checks its requests here before a store sees them (see
`handles_errors` in leadrouter/rpc.py): an id longer than any id can be is
refused as BAD_USER_INPUT, and so is a NUL character in any text
(PostgreSQL cannot store one). Decision
ids are numbers in the journal; a decision id that is not a whole number is
bad input, and one past any stored number is simply not there.
"""

from __future__ import annotations

import re

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from leadrouter import messages
from leadrouter.errors import BadInput, NotFound

# The longest id a workspace, a history file or amoCRM gives (leadrouter/workspace.py).
MAX_ID_LENGTH = 200
# The journal numbers decisions with a 64-bit counter.
MAX_DECISION = 2**63 - 1
# Fields that carry one id, or a list of them, in every service's requests.
ID_FIELDS = frozenset(
    {
        "id",
        "ids",
        "account",
        "lead_id",
        "lead_ids",
        "user_id",
        "user_ids",
        "group_id",
        "group_ids",
        "from_user_id",
        "to_user_id",
        "template_id",
        "responsible",
        "actor",
        "contacts",
        "companies",
    }
)
_STRING = FieldDescriptor.TYPE_STRING
_MESSAGE = FieldDescriptor.TYPE_MESSAGE


def check_id(name: str, value: str) -> None:
    if len(value) > MAX_ID_LENGTH:
        raise BadInput(messages.id_too_long(name, MAX_ID_LENGTH))


def check_request(message: Message, path: str = "") -> None:
    """Refuses a request whose ids no stored thing can have, or any text with NUL."""
    for field, value in message.ListFields():
        name = path + re.sub(r"_(\w)", lambda m: m.group(1).upper(), field.name)
        values = value if field.is_repeated else [value]
        if field.type == _STRING:
            for text in values:
                if field.name in ID_FIELDS:
                    check_id(name, text)
                if "\x00" in text:
                    raise BadInput(messages.has_nul(name))
        elif field.type == _MESSAGE and not _is_map(field):
            for inner in values:
                check_request(inner, f"{name}.")


def _is_map(field: FieldDescriptor) -> bool:
    kind = field.message_type
    return kind is not None and kind.GetOptions().map_entry


def decision_number(text: str, name: str = "id") -> int:
    """The journal's number of a decision id; BAD_USER_INPUT if it is none."""
    if not (text.isascii() and text.isdigit()):
        raise BadInput(messages.not_a_number_id("decision", text))
    number = int(text)
    if number > MAX_DECISION:
        raise NotFound(messages.not_found("decision", text))
    return number
