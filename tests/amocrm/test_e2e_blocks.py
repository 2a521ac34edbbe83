"""A 403 block with the product in amoCRM mode: the claim is given at once, its
write waits, health, GraphQL and the widget's banner say so, and the write goes
by itself once the block is over."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.amocrm.harness import AmoStack, eventually
from tests.amocrm.test_e2e import amo_stack
from tests.browser.conftest import DESKTOP, _browser_problem
from tests.waiting.test_banner import browser

__all__ = ["amo_stack", "browser"]  # fixtures

EMULATED_LEADS = 40
CONNECTION = "{ crmConnection { block nextAttemptAt waitingChanges webhook } }"


BANNER = {
    "ru": "amoCRM заблокировал этот аккаунт до {time}; 1 изменение ждёт отправки",
    "en": "amoCRM has blocked this account until {time}; 1 change waits",
}


async def test_a_block_is_shown_everywhere_and_its_write_goes_afterwards(
    amo_stack: AmoStack, browser: Any
) -> None:
    from playwright.async_api import expect

    problem = _browser_problem()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
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
