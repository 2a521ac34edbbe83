"""The head of sales sees a banner when leads wait, in the widget and the web UI.

The product runs in this test's process with its clock pinned (a Saturday
noon in Tomsk, when the weekday template is closed), and the gateway is
served on a loopback port to Chromium, so "the oldest for 2 h" is two hours
of the injected clock, not of waiting. Screenshots go to
test-results/screenshots/ (waiting-banner-ru.png, waiting-banner-en.png,
waiting-pool-ru.png, waiting-pool-en.png).
"""

from __future__ import annotations

import os
import runpy
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser.amocrm_host import HOST, host_page
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, _browser_problem
from tests.browser.helpers import SCREENSHOTS
from tests.browser.served import served_gateway
from tests.e2e.push_support import pushed, tick, tomsk
from tests.e2e.test_push import WORKSPACE
from tests.fixtures import WORKSPACE as POOL_WORKSPACE
from tests.fixtures import lead_created
from tests.stack import Stack, running_stack

ROOT = Path(__file__).resolve().parents[2]
BANNER = {
    "ru": "7 заявок ждут окна; самая старая — 2 ч",
    "en": "7 leads wait for a window; the oldest for 2 h",
}


@dataclass
class Served:
    stack: Stack
    url: str


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    problem = _browser_problem()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    async with (
        running_stack(tmp_path, None, tomsk("2026-11-07T12:00")) as stack,
        served_gateway(stack) as url,
    ):
        yield Served(stack, url)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        chromium = await p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


async def seven_leads_held_for_two_hours(stack: Stack) -> None:
    assert (await stack.apply(WORKSPACE))["ok"]
    for i in range(7):
        assert (await pushed(stack, f"F{i}", "form"))["outcome"] == "held"
        stack.clock.advance(timedelta(minutes=10))
    stack.clock.set(tomsk("2026-11-07T14:00"))


@pytest.mark.parametrize("lang", ["ru", "en"])
async def test_the_head_of_sales_sees_in_the_widget_that_leads_wait(
    served: Served, browser: Any, tmp_path: Path, lang: str
) -> None:
    from playwright.async_api import expect

    stack = served.stack
    await seven_leads_held_for_two_hours(stack)
    archive = runpy.run_path(str(ROOT / "widget" / "build.py"))["build"](
        tmp_path / "widget.zip"
    )
    html, script = host_page(archive, stack.token("head", "admin"), lang)
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()

    async def serve(route: Any) -> None:
        if route.request.url.endswith("/widget/script.js"):
            await route.fulfill(body=script, content_type="application/javascript")
        else:
            await route.fulfill(body=html, content_type="text/html; charset=utf-8")

    await page.route(f"{served.url}{HOST}/**", serve)
    await page.goto(f"{served.url}{HOST}/settings/widgets/leadrouter")
    assert await page.evaluate(
        "() => makeWidget('advanced_settings').callbacks.advancedSettings()"
    )
    ui = page.frame_locator("#work-area-leadrouter iframe")
    banner = ui.get_by_role("status").filter(has_text=BANNER[lang])
    await expect(banner).to_be_visible()
    await expect(banner.locator("li")).to_have_text([BANNER[lang]])
    title = {"ru": "Группы и лимиты", "en": "Groups and limits"}[lang]
    await expect(ui.get_by_role("heading", name=title, exact=True)).to_be_visible()
    await expect(ui.locator("table.limits-table")).to_contain_text("Ursula")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"waiting-banner-{lang}.png"))

    # The link shows them, the longest-waiting first, each with its history.
    await banner.get_by_role(
        "link", name={"ru": "Показать их", "en": "Show them"}[lang]
    ).click()
    table = ui.locator("table.waiting")
    await expect(table.locator("tbody tr")).to_have_count(7)
    first = table.locator("tbody tr").first
    await expect(first).to_contain_text("Request F0 (F0)")
    await expect(first).to_contain_text({"ru": "2 ч", "en": "2 h"}[lang])
    await expect(first).to_contain_text(
        {"ru": "ждёт окна", "en": "waits for a window"}[lang]
    )
    history = first.get_by_role("link")
    await expect(history).to_have_attribute("href", "#/journal?lead=F0")
    await page.screenshot(path=str(SCREENSHOTS / f"waiting-leads-{lang}.png"))
    await context.close()


async def test_the_banner_goes_when_the_leads_go_and_managers_never_see_it(
    served: Served, browser: Any
) -> None:
    from playwright.async_api import expect

    stack = served.stack
    await seven_leads_held_for_two_hours(stack)
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    head = stack.token("head", "admin")
    await page.goto(f"{served.url}/?lang=en#token={head}&route=settings")
    banner = page.get_by_role("status").filter(has_text="leads wait")
    await expect(banner).to_have_text(BANNER["en"] + "Show them")

    manager = await context.new_page()
    ursula = stack.token("ursula", "manager")
    await manager.goto(f"{served.url}/?lang=en#token={ursula}&route=lead")
    await expect(manager.get_by_role("heading", name="Hello, Ursula")).to_be_visible()
    await expect(manager.locator(".waiting-banner")).to_have_count(0)

    # Monday 09:00 the window opens and the leads go out.
    stack.clock.set(tomsk("2026-11-09T09:00"))
    await tick(stack)
    fresh = stack.token("head", "admin")  # the first one has expired meanwhile
    after = await context.new_page()
    await after.goto(f"{served.url}/?lang=en#token={fresh}&route=schedules")
    await expect(after.get_by_role("heading", name="Schedules")).to_be_visible()
    await expect(after.locator(".waiting-banner")).to_have_count(0)
    await after.evaluate("location.hash = '#/waiting'")
    await expect(after.get_by_text("No lead waits now.")).to_be_visible()
    await context.close()


POOL_BANNER = {
    "ru": "В очереди группы «main» 2 заявки, и сейчас никто не может взять ни одной",
    "en": "2 leads wait in the pool of main, and nobody may take one now",
}
POOL_CAPTION = {
    "ru": "Очередь группы «main»: 2 заявки, которые никто не может взять сейчас; "
    "первые 2 — в том порядке, в каком их выдаёт «Получить заявку»",
    "en": "The pool of main: 2 leads nobody may take now; the first 2 in the order "
    "Get lead hands them out",
}


async def a_pool_nobody_may_take_from(stack: Stack) -> str:
    """Two leads in the pool; every member of the group is switched off."""
    closed = POOL_WORKSPACE.replace("{user: ursula}", "{user: ursula, enabled: false}")
    closed = closed.replace("{user: nadezhda}", "{user: nadezhda, enabled: false}")
    closed = closed.replace("limits: {max_active: 2}}", "enabled: false}")
    assert (await stack.apply(closed))["ok"]
    now = stack.clock.now()
    await stack.import_history(
        [lead_created(f"P{i}", now - timedelta(days=2, minutes=i)) for i in range(2)]
    )
    return closed


@pytest.mark.parametrize("lang", ["ru", "en"])
async def test_the_head_of_sales_sees_a_pool_nobody_may_take_from_and_its_leads(
    served: Served, browser: Any, lang: str
) -> None:
    from playwright.async_api import expect

    stack = served.stack
    closed = await a_pool_nobody_may_take_from(stack)
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    head = stack.token("head", "admin")
    await page.goto(f"{served.url}/?lang={lang}#token={head}&route=settings")
    banner = page.locator(".waiting-banner")
    await expect(banner.locator("li")).to_have_text([POOL_BANNER[lang]])

    # "Show them" lists the pool's leads in the order a press takes them.
    await banner.get_by_role(
        "link", name={"ru": "Показать их", "en": "Show them"}[lang]
    ).click()
    pool = page.get_by_role("table", name=POOL_CAPTION[lang])
    rows = pool.locator("tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0)).to_contain_text("Lead P1 (P1)")
    await expect(rows.nth(1)).to_contain_text("Lead P0 (P0)")
    history = rows.nth(0).get_by_role("link")
    await expect(history).to_have_attribute("href", "#/journal?lead=P1")
    await expect(page.locator("table.waiting")).to_have_count(0)  # none is held
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"waiting-pool-{lang}.png"))

    # Ursula is let back in: she may take one, and the banner goes.
    assert (await stack.apply(closed.replace("ursula, enabled: false", "ursula")))["ok"]
    await page.evaluate("location.hash = '#/schedules'")
    await expect(page.locator("main .view h1")).to_be_visible()
    await expect(page.locator(".waiting-banner")).to_have_count(0)
    await context.close()
