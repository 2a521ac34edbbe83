"""The connector looks at amoCRM's webhooks on a schedule: a hook amoCRM switched
off or someone removed is registered again; a plan that forbids API webhooks is
said plainly; while no hook works, amoCRM's events are read every minute."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from leadrouter import messages
from leadrouter.clock import FixedClock
from leadrouter.db import Database
from services.crm.amocrm.connector import AmoConnector
from services.crm.amocrm.emulator import AmoEmulator
from services.crm.amocrm.hooks import HOOK_SETTINGS, webhook_destination
from services.crm.store import Pool
from tests.amocrm.conftest import ACCOUNT, Served, connector_settings, serve

EMULATED_LEADS = 40
POOL = Pool(source_stages=("7001/70011",), exchange_users=("5007",))


@pytest.fixture
async def public() -> AsyncIterator[Served]:
    """Where amoCRM posts webhooks: it answers 200 (and keeps nothing)."""

    async def ok(_: Request) -> Response:
        return Response("ok")

    served = await serve(
        Starlette(routes=[Route("/webhooks/amocrm/{secret}", ok, methods=["POST"])])
    )
    try:
        yield served
    finally:
        await served.stop()


@pytest.fixture
async def watched(
    emulator: AmoEmulator, crm_db: Database, clock: FixedClock, public: Served
) -> AsyncIterator[AmoConnector]:
    settings = connector_settings(emulator, amocrm_public_url=public.url)
    worker = AmoConnector(settings, crm_db, clock)
    try:
        yield worker
    finally:
        await worker.stop()


def _state_gauge(state: str) -> float | None:
    return REGISTRY.get_sample_value(
        "leadrouter_amocrm_webhook", {"account": ACCOUNT, "state": state}
    )


async def _five_minutes(worker: AmoConnector, clock: FixedClock) -> None:
    for _ in range(30):
        clock.advance(timedelta(seconds=10))
        await worker.step()


async def test_a_hook_switched_off_or_removed_is_registered_again(
    watched: AmoConnector, emulator: AmoEmulator, clock: FixedClock
) -> None:
    await watched.step()
    destination = webhook_destination(watched.settings)
    hook = emulator.hook(destination)
    assert hook is not None and hook["settings"] == HOOK_SETTINGS
    assert (await watched.connection()).webhook == "working"
    assert _state_gauge("working") == 1

    # amoCRM switches it off after failed answers; the next look finds it.
    emulator.disable_hook(destination)
    await _five_minutes(watched, clock)
    hook = emulator.hook(destination)
    assert hook is not None and hook["disabled"] is False
    looks = [r for r in emulator.log if r.path == "/api/v4/webhooks"]
    assert [r.method for r in looks] == ["GET", "POST", "GET", "POST"]

    # An admin removes it in amoCRM's settings.
    emulator.webhooks.clear()
    await _five_minutes(watched, clock)
    assert emulator.hook(destination) is not None
    assert (await watched.connection()).webhook == "working"


async def test_a_plan_without_api_webhooks_is_said_and_events_are_read_each_minute(
    watched: AmoConnector, emulator: AmoEmulator, crm_db: Database, clock: FixedClock
) -> None:
    emulator.plan_allows_webhooks = False
    await watched.step()

    state = await watched.connection()
    assert (state.webhook, state.reconcile_every_seconds) == ("not_allowed", 60)
    assert state.block == ""  # the plan's 402 is not a block of the account
    assert _state_gauge("not_allowed") == 1
    assert messages.amocrm_health(
        block="",
        next_attempt=None,
        waiting=0,
        synced=state.synced,
        progress="",
        webhook=state.webhook,
    ) == (
        "amoCRM connected; the account's plan allows no API webhooks; events are "
        "read every minute; 0 changes wait"
    )

    mark = len(emulator.log)
    lead = await emulator.add_lead("Call from the ad")
    for _ in range(6):
        clock.advance(timedelta(seconds=10))
        await watched.step()
    pool, _, _ = watched.store.list_pool(ACCOUNT, POOL, 500, "")
    assert str(lead.id) in {x.id for x in pool}  # within a minute, without hooks

    await _five_minutes(watched, clock)
    reads = [r for r in emulator.log[mark:] if r.path == "/api/v4/events"]
    assert 5 <= len(reads) <= 7  # every minute, not every five


async def test_without_a_public_url_events_are_read_every_minute(
    connector: AmoConnector, emulator: AmoEmulator, clock: FixedClock
) -> None:
    await connector.step()
    state = await connector.connection()
    assert (state.webhook, state.reconcile_every_seconds) == ("no_public_url", 60)
    assert emulator.webhooks == []
