"""Every screen of the amoCRM widget, in Russian and English, in a real browser.

The product runs in this process on the demo account, its clock pinned (a
Monday, 11:00 in Tomsk), and is served on loopback to Chromium; the widget
runs in the fake amoCRM page of tests/browser/amocrm_host.py at amoCRM's
sizes: the lead card's right column (280 px), amoCRM's modal window
(the widget asks min(960 px, 92vw) x min(760 px, 86vh)) and the advanced
settings page, on a 1280 x 860 screen. Each screen is checked with axe-core
(tests/ui/axe.py) and must have no serious or critical finding; its
screenshot goes to test-results/screens/NAME-LANG.png, and `make screens`
copies them to docs/screens/, where docs/screens/README.md shows them all.
"""

from __future__ import annotations

import os
import re
import runpy
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from leadrouter.demo import WORKSPACE
from leadrouter.demo.history import record_demo
from tests.browser.amocrm_host import HOST, host_page
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, _browser_problem
from tests.browser.served import served_gateway
from tests.e2e.push_support import pushed, tick, tomsk
from tests.stack import Stack, running_stack
from tests.ui import axe

ROOT = Path(__file__).resolve().parents[2]
SCREENS = ROOT / "test-results" / "screens"
GALLERY = ROOT / "docs" / "screens" / "README.md"
MONDAY = tomsk("2026-11-09T11:00")
# The head of sales' screens in the widget's advanced settings page.
ADMIN_ROUTES = (
    "settings",
    "schedules",
    "templates",
    "workspace",
    "leads",
    "transfer",
    "reports",
    "whatif",
    "journal",
)
# What the manager reaches from the modal window's menu.
MANAGER_ROUTES = ("reports", "journal")
TEXT = {
    "ru": {
        "button": "Получить заявку",
        "close": "Закрыть",
        "hello": "Здравствуйте, Ursula",
        "settings": "Группы и лимиты",
        "problem": "не отвечает",
        "hint": "Настройки → Распределение заявок",
        "banner": r"^{n} заяв(ка|ки|ок) жд(ёт|ут) окна; самая старая — 2 ч$",
        "show": "Показать их",
    },
    "en": {
        "button": "Get lead",
        "close": "Close",
        "hello": "Hello, Ursula",
        "settings": "Groups and limits",
        "problem": "does not answer",
        "hint": "Settings → Lead distribution",
        "banner": r"^{n} leads? waits? for a window; the oldest for 2 h$",
        "show": "Show them",
    },
}


class Screens:
    """Takes each screen's picture and collects every axe finding."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.taken: list[str] = []
        self.found: list[str] = []

    async def check(
        self,
        name: str,
        page: Any,
        where: list[tuple[Any, str | None]],
        clip: Any = None,
    ) -> None:
        for frame, include in where:
            self.found += [
                f"{name}-{self.lang}: {f}" for f in await axe.findings(frame, include)
            ]
        SCREENS.mkdir(parents=True, exist_ok=True)
        path = SCREENS / f"{name}-{self.lang}.png"
        if clip is not None:
            await clip.screenshot(path=str(path))
        else:
            await page.screenshot(path=str(path))
        self.taken.append(name)


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[tuple[Stack, str]]:
    problem = _browser_problem()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    async with running_stack(tmp_path, None, MONDAY) as stack:
        yaml = WORKSPACE.read_text(encoding="utf-8")
        assert (await stack.apply(yaml))["ok"]
        assert await record_demo(stack.clients, stack.account, yaml, MONDAY) == []
        async with served_gateway(stack) as url:
            yield stack, url


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        chromium = await p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


async def amocrm(
    browser: Any, stack: Stack, url: str, archive: Path, token: str, lang: str
) -> Any:
    """A fake amoCRM page at the gateway's origin, with the widget's script.

    The browser's clock starts at the product's pinned now, so "this week"
    and "passes at" on the screens are of the same day as the data.
    """
    html, script = host_page(archive, token, lang)
    context = await browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(20_000)
    await context.clock.install(time=stack.clock.now())
    page = await context.new_page()

    async def serve(route: Any) -> None:
        if route.request.url.endswith("/widget/script.js"):
            await route.fulfill(body=script, content_type="application/javascript")
        else:
            await route.fulfill(body=html, content_type="text/html; charset=utf-8")

    await page.route(f"{url}{HOST}/**", serve)
    await page.goto(f"{url}{HOST}/leads/detail/1")
    return page


def ui_frame(page: Any) -> Any:
    """The product's own page inside the widget's iframe."""
    return next(f for f in page.frames if "embed=amocrm" in f.url)


async def go(frame: Any, route: str) -> None:
    await frame.evaluate(f"location.hash = '#/{route}'")
    await frame.wait_for_function(
        f"""() => location.hash.startsWith('#/{route}')
                && document.querySelector('main .view h1')
                && !document.querySelector('main [aria-busy="true"]')"""
    )
    await frame.wait_for_load_state("networkidle")


@pytest.mark.parametrize("lang", ["ru", "en"])
async def test_every_widget_screen_passes_axe_and_is_pictured(
    demo: tuple[Stack, str], browser: Any, tmp_path: Path, lang: str
) -> None:
    from playwright.async_api import expect

    stack, url = demo
    words = TEXT[lang]
    archive = runpy.run_path(str(ROOT / "widget" / "build.py"))["build"](
        tmp_path / "widget.zip"
    )
    screens = Screens(lang)

    # The manager: the lead card's block, then amoCRM's modal with the UI.
    page = await amocrm(browser, stack, url, archive, stack.token("ursula"), lang)
    await page.evaluate(
        """() => { const w = makeWidget("lcard"); w.callbacks.render();
           w.callbacks.init(); w.callbacks.bind_actions(); }"""
    )
    card = page.locator(".card-widgets__widget")
    await expect(card.get_by_role("button", name=words["button"])).to_be_visible()
    await screens.check("widget-card", page, [(page, ".card-widgets__widget")], card)

    await card.get_by_role("button", name=words["button"]).click()
    dialog = page.get_by_role("dialog")
    ui = dialog.frame_locator("iframe")
    await expect(ui.get_by_role("heading", name=words["hello"])).to_be_visible()
    frame = ui_frame(page)
    await frame.wait_for_load_state("networkidle")
    await screens.check("widget-get-lead", page, [(page, ".modal-body"), (frame, None)])

    await ui.locator("main").get_by_role("button", name=words["button"]).click()
    await expect(ui.locator("#claimed-title")).to_be_visible()
    await frame.wait_for_load_state("networkidle")
    await screens.check("widget-get-lead-pressed", page, [(frame, None)])
    for route in MANAGER_ROUTES:
        await go(frame, route)
        await screens.check(f"widget-manager-{route}", page, [(frame, None)])
    await dialog.get_by_role("button", name=words["close"]).click()
    await expect(dialog).to_be_hidden()

    # The widget's settings window, and what it says when the server is away.
    await page.evaluate(
        """() => { const s = document.getElementById("settings-window");
           s.style.display = "block";
           makeWidget("settings").callbacks.settings([s]); }"""
    )
    settings = page.locator("#settings-window")
    await expect(settings).to_contain_text(words["hint"])
    await screens.check("widget-settings", page, [(page, "#settings-window")], settings)
    await page.evaluate(
        """() => { document.getElementById("settings-window").style.display = "none";
           const w = makeWidget("lcard", "http://127.0.0.1:9");
           w.callbacks.render(); w.callbacks.bind_actions(); }"""
    )
    await (
        page.locator(".card-widgets__widget")
        .last.get_by_role("button", name=words["button"])
        .click()
    )
    await expect(dialog.get_by_role("alert")).to_contain_text(words["problem"])
    await screens.check("widget-problem", page, [(page, ".modal-body")])
    await page.context.close()

    # The head of sales: every screen in the advanced settings page.
    page = await amocrm(
        browser, stack, url, archive, stack.token("head", "admin"), lang
    )
    assert await page.evaluate(
        "() => makeWidget('advanced_settings').callbacks.advancedSettings()"
    )
    area = page.frame_locator("#work-area-leadrouter iframe")
    await expect(area.get_by_role("heading", name=words["settings"])).to_be_visible()
    frame = ui_frame(page)
    for route in ADMIN_ROUTES:
        await go(frame, route)
        await screens.check(f"widget-admin-{route}", page, [(frame, None)])

    # The assigner follows the crm's events in order: once a lead handed in
    # now is decided, every lead of the demo's past is too, and none is left
    # to arrive on Sunday.
    assert (await pushed(stack, "probe", "call"))["outcome"] == "assigned"
    # Sunday: forms wait for Monday's window, and the banner says so.
    stack.clock.set(tomsk("2026-11-15T10:00"))
    for i in range(3):
        assert (await pushed(stack, f"S{i}", "form"))["outcome"] == "held"
        stack.clock.advance(timedelta(minutes=30))
    stack.clock.set(tomsk("2026-11-15T12:00"))
    # The pool's backlog waits for a window too, from the first round on Sunday.
    await tick(stack)
    waiting = await stack.data("{ waitingLeads(first: 1) { total oldestWaitSeconds } }")
    total = waiting["waitingLeads"]["total"]
    assert total >= 3
    assert waiting["waitingLeads"]["oldestWaitSeconds"] == 7200  # S0's
    await page.close()
    page = await amocrm(
        browser, stack, url, archive, stack.token("head", "admin"), lang
    )
    await page.evaluate(
        "() => makeWidget('advanced_settings').callbacks.advancedSettings()"
    )
    area = page.frame_locator("#work-area-leadrouter iframe")
    banner = area.locator(".waiting-banner")
    sentence = re.compile(words["banner"].replace("{n}", str(total)))
    await expect(banner.locator("li")).to_have_text([sentence])
    frame = ui_frame(page)
    await frame.wait_for_load_state("networkidle")
    await screens.check("widget-banner", page, [(frame, None)])
    await banner.get_by_role("link", name=words["show"]).click()
    await expect(area.locator("table.waiting tbody tr").first).to_contain_text("(S0)")
    await screens.check("widget-waiting", page, [(frame, None)])
    await page.context.close()

    assert screens.found == [], "\n".join(screens.found)
    # Every screen is in the gallery, in this language.
    gallery = GALLERY.read_text(encoding="utf-8")
    shown = set(re.findall(r"\(([\w-]+)-" + lang + r"\.png\)", gallery))
    assert set(screens.taken) <= shown, sorted(set(screens.taken) - shown)
