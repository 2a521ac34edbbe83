"""Stage kinds by name and by their code in the crm protocol, in one place."""

from __future__ import annotations

from typing import Literal

from leadrouter.crm.v1 import crm_pb2

StageKind = Literal["open", "won", "lost"]

STAGE_KIND_CODES: dict[str, crm_pb2.StageKind.ValueType] = {
    "open": crm_pb2.STAGE_KIND_OPEN,
    "won": crm_pb2.STAGE_KIND_WON,
    "lost": crm_pb2.STAGE_KIND_LOST,
}
_NAMES: dict[int, StageKind] = {
    crm_pb2.STAGE_KIND_OPEN: "open",
    crm_pb2.STAGE_KIND_WON: "won",
    crm_pb2.STAGE_KIND_LOST: "lost",
}


def stage_kind_name(code: int) -> StageKind:
    """The kind's name; an unset or unknown code reads as an open stage."""
    return _NAMES.get(code, "open")
