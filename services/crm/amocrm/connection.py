"""How the connector reaches amoCRM, as the health answer, the metrics and the
widget's banner show it: a block of the account, the writes that wait, the
first sync's progress and whether webhooks work."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from leadrouter.crm.v1 import crm_pb2
from leadrouter.db import Database
from leadrouter.timestamps import set_ts, utc
from services.crm.amocrm.block import REASONS
from services.crm.amocrm.tables import AmoSync

# Webhook states: words of the Connection message.
HOOK_WORKING = "working"
HOOK_MISSING = "missing"
HOOK_DISABLED = "disabled"
HOOK_NOT_ALLOWED = "not_allowed"
HOOK_NO_PUBLIC_URL = "no_public_url"
HOOK_UNKNOWN = "unknown"
HOOK_STATES = (
    HOOK_WORKING,
    HOOK_MISSING,
    HOOK_DISABLED,
    HOOK_NOT_ALLOWED,
    HOOK_NO_PUBLIC_URL,
    HOOK_UNKNOWN,
)


@dataclass(frozen=True)
class SyncState:
    """The account's sync row as plain values (read in one transaction)."""

    step: str
    page: int
    counts: dict[str, int]
    finished: bool
    amo_account_id: int
    block_status: int
    blocked_since: datetime | None
    blocked_until: datetime | None
    hook_state: str
    hook_checked_at: datetime | None
    reconciled_until: datetime | None


def sync_state(*, db: Database, account: str) -> SyncState | None:
    with db.session() as s:
        row = s.get(AmoSync, account)
        if row is None:
            return None

        def at(value: datetime | None) -> datetime | None:
            return utc(value) if value is not None else None

        return SyncState(
            step=row.step,
            page=row.page,
            counts=json.loads(row.counts),
            finished=row.finished_at is not None,
            amo_account_id=row.amo_account_id,
            block_status=row.block_status,
            blocked_since=at(row.blocked_since),
            blocked_until=at(row.blocked_until),
            hook_state=row.hook_state or HOOK_UNKNOWN,
            hook_checked_at=at(row.hook_checked_at),
            reconciled_until=at(row.reconciled_until),
        )


def connection_message(
    state: SyncState | None,
    *,
    subdomain: str,
    waiting_writes: int,
    progress: str,
    reconcile_every: float,
) -> crm_pb2.Connection:
    msg = crm_pb2.Connection(
        crm="amocrm",
        subdomain=subdomain,
        waiting_writes=waiting_writes,
        sync_progress=progress,
        webhook=HOOK_UNKNOWN,
        reconcile_every_seconds=reconcile_every,
    )
    if state is None:
        return msg
    msg.account_id = state.amo_account_id
    msg.synced = state.finished
    msg.webhook = state.hook_state
    if state.block_status and state.blocked_until is not None:
        msg.block = REASONS.get(state.block_status, "blocked")
        set_ts(msg, "blocked_since", state.blocked_since)
        set_ts(msg, "next_attempt_at", state.blocked_until)
    set_ts(msg, "webhook_checked_at", state.hook_checked_at)
    set_ts(msg, "reconciled_until", state.reconciled_until)
    return msg
