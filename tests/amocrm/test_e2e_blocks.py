"""A 403 block with the product in amoCRM mode: the claim is given at once, its
write waits, health, GraphQL and the widget's banner say so, and the write goes
by itself once the block is over."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from leadrouter.clock import FixedClock
from services.crm.amocrm.emulator import AmoEmulator
from tests.amocrm.harness import AmoStack, eventually, running_amo_stack
from tests.amocrm.test_e2e import WORKSPACE
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, _browser_problem

EMULATED_LEADS = 40
CONNECTION = "{ crmConnection { block nextAttemptAt waitingChanges webhook } }"


@pytest.fixture
async def amo_stack(
    emulator: AmoEmulator,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[AmoStack]:
    async with running_amo_stack(
        emulator, clock, tmp_path, monkeypatch, WORKSPACE
    ) as amo:
        yield amo


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    problem = _browser_problem()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        chromium = await p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


BANNER = {
    "ru": "amoCRM заблокировал этот аккаунт до {time}; 1 изменение ждёт отправки",
    "en": "amoCRM has blocked this account until {time}; 1 change waits",
}


async def test_a_block_is_shown_everywhere_and_its_write_goes_afterwards(
    amo_stack: AmoStack, browser: Any
) -> None:
    from playwright.async_api import expect

    emulator, clock, stack = amo_stack.emulator, amo_stack.clock, amo_stack.stack
    emulator.block(120)

    claimed = await amo_stack.claim("5002", "blocked-1")
    lead = int(claimed["lead"]["id"])

    async def shown() -> bool:
        data = await stack.data(CONNECTION, user="5002", role="manager")
        return bool(data["crmConnection"]["block"] == "blocked")

    await eventually(shown)
    data = (await stack.data(CONNECTION, user="5002", role="manager"))["crmConnection"]
    assert data["waitingChanges"] == 1
    assert emulator.leads[lead].responsible_user_id == 5007  # not written yet
    async with httpx.AsyncClient(base_url=amo_stack.gateway_url) as http:
        health = (await http.get("/readyz")).json()
    until = data["nextAttemptAt"]
    utc_time = until[11:16]
    assert health["amocrm"] == (
        f"amoCRM has blocked this account until {utc_time} UTC; 1 change waits"
    )
    # The widget's banner, in the account's time (Tomsk, UTC+7).
    local = f"{(int(utc_time[:2]) + 7) % 24:02d}{utc_time[2:]}"
    context = await browser.new_context(viewport=DESKTOP)
    for lang in ("ru", "en"):
        page = await context.new_page()
        token = stack.token("5002", "manager")
        await page.goto(f"{amo_stack.gateway_url}/?lang={lang}#token={token}")
        banner = page.locator(".connection-banner")
        await expect(banner).to_have_text(BANNER[lang].format(time=local))
    await context.close()

    # The block ends; the worker asks again by itself and the write goes.
    clock.advance(timedelta(minutes=3))
    await eventually(lambda: emulator.leads[lead].responsible_user_id == 5002)

    async def cleared() -> bool:
        data = await stack.data(CONNECTION, user="5002", role="manager")
        after = data["crmConnection"]
        return bool((after["block"], after["waitingChanges"]) == (None, 0))

    await eventually(cleared)
