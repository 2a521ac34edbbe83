"""What the health answer and the widget's banner say of the amoCRM connection, and
where and how often the connector looks at its webhook."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

from leadrouter.config import Settings
from leadrouter.db import Database
from leadrouter.timestamps import from_ts
from services.crm.amocrm.connection import (
    HOOK_DISABLED,
    HOOK_UNKNOWN,
    HOOK_WORKING,
    SyncState,
    connection_message,
)
from services.crm.amocrm.hooks import WebhookWatch, webhook_destination

SINCE = datetime(2026, 11, 2, 3, tzinfo=UTC)


def _state(**changes: object) -> SyncState:
    values: dict[str, object] = {
        "step": "done",
        "page": 0,
        "counts": {"leads": 120},
        "finished": True,
        "amo_account_id": 28805383,
        "block_status": 0,
        "blocked_since": None,
        "blocked_until": None,
        "hook_state": HOOK_WORKING,
        "hook_checked_at": SINCE,
        "reconciled_until": SINCE,
        **changes,
    }
    return SyncState(**values)  # type: ignore[arg-type]


def test_before_the_first_sync_the_webhook_is_unknown_and_nothing_synced() -> None:
    msg = connection_message(
        None, subdomain="acme", waiting_writes=0, progress="users", reconcile_every=60
    )
    assert (msg.crm, msg.subdomain, msg.synced) == ("amocrm", "acme", False)
    assert msg.webhook == HOOK_UNKNOWN
    assert msg.sync_progress == "users"
    assert msg.block == ""


def test_a_blocked_account_says_why_since_when_and_when_it_is_asked_again() -> None:
    state = _state(
        block_status=402,
        blocked_since=SINCE,
        blocked_until=SINCE + timedelta(minutes=4),
    )
    msg = connection_message(
        state, subdomain="acme", waiting_writes=3, progress="", reconcile_every=300
    )
    assert msg.block == "not_paid"
    assert from_ts(msg.blocked_since) == SINCE
    assert from_ts(msg.next_attempt_at) == SINCE + timedelta(minutes=4)
    assert msg.waiting_writes == 3


def test_a_served_account_shows_no_block_and_its_webhook_state() -> None:
    msg = connection_message(
        _state(hook_state=HOOK_DISABLED),
        subdomain="acme",
        waiting_writes=0,
        progress="",
        reconcile_every=300,
    )
    assert msg.block == "" and msg.synced
    assert msg.webhook == HOOK_DISABLED
    assert msg.account_id == 28805383


def _settings(tmp_path: Path, **changes: object) -> Settings:
    values: dict[str, object] = {
        "crm": "amocrm",
        "amocrm_subdomain": "acme",
        "amocrm_public_url": "https://leads.example.com/",
        "amocrm_webhook_secret": "s3cret-s3cret-s3cret",
        "amocrm_reconcile_seconds": 600,
        "data_dir": tmp_path,
        **changes,
    }
    return Settings(**values)  # type: ignore[arg-type]


def test_the_webhook_goes_to_the_public_url_with_the_secret_path(
    tmp_path: Path,
) -> None:
    assert webhook_destination(_settings(tmp_path)) == (
        "https://leads.example.com/webhooks/amocrm/s3cret-s3cret-s3cret"
    )


def test_while_no_hook_works_the_events_are_read_every_minute(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    # Only how often it looks is asked here: no row is read.
    watch = WebhookWatch(settings, cast(Database, None), "acme")
    assert watch.reconcile_every(HOOK_WORKING) == timedelta(minutes=10)
    assert watch.reconcile_every(HOOK_DISABLED) == timedelta(minutes=1)
    assert watch.reconcile_every(HOOK_UNKNOWN) == timedelta(minutes=1)
