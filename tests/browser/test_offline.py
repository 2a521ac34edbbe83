"""GraphiQL, the web UI and the widget work with no network beyond the gateway:
every script, style sheet, font and image comes from the gateway itself."""

from __future__ import annotations

import json
import runpy
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.amocrm_host import HOST, host_page
from tests.browser.conftest import Demo

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ("127.0.0.1", "localhost", "[::1]", "::1")

# Every screen of the UI, as the role that sees it.
SCREENS = [
    ("ursula", "manager", "lead"),
    ("head", "admin", "settings"),
    ("head", "admin", "schedules"),
    ("head", "admin", "templates"),
    ("head", "admin", "workspace"),
    ("head", "admin", "leads"),
    ("head", "admin", "transfer"),
    ("head", "admin", "reports"),
    ("head", "admin", "whatif"),
    ("head", "admin", "journal"),
    ("head", "admin", "waiting"),
]


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return parts.hostname in LOCAL


def _offline(context: Any) -> list[str]:
    """Aborts every request that would leave this machine; returns their URLs."""
    blocked: list[str] = []

    def guard(route: Any) -> None:
        if _is_local(route.request.url):
            route.fallback()
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", guard)
    return blocked


def _external_references(page: Any) -> list[str]:
    """URLs the page's elements load from (scripts, styles, images, frames)."""
    urls: list[str] = page.evaluate(
        """() => [...document.querySelectorAll(
                 'script[src], link[href], img[src], iframe[src], source[src]')]
               .map(e => e.src || e.href)"""
    )
    return [u for u in urls if not _is_local(u)]


def test_graphiql_runs_a_query_with_the_network_blocked(
    browser: Any, demo: Demo
) -> None:
    context = browser.new_context()
    blocked = _offline(context)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{demo.url}/graphql")
    # The editor is drawn only once React, GraphiQL and its explorer loaded.
    run = page.get_by_role("button", name="Execute query (Ctrl-Enter)")
    expect(run).to_be_visible()
    expect(page.locator(".graphiql-query-editor")).to_contain_text("viewer")
    page.get_by_role("button", name="Headers", exact=True).click()
    page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden)").click()
    headers = {"Authorization": f"Bearer {demo.token('head', 'admin')}"}
    page.keyboard.insert_text(json.dumps(headers))
    run.click()
    expect(page.locator(".graphiql-response")).to_contain_text('"role": "ADMIN"')
    assert blocked == []
    assert _external_references(page) == []
    assert errors == []
    context.close()


@pytest.mark.parametrize(("user", "role", "screen"), SCREENS)
def test_every_screen_loads_nothing_from_outside(
    new_page: Callable[..., Any], demo: Demo, user: str, role: str, screen: str
) -> None:
    page = new_page(path="/healthz")
    blocked = _offline(page.context)
    page.goto(f"{demo.url}/?lang=en#token={demo.token(user, role)}&route={screen}")
    expect(page.locator("main .view h1")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert blocked == []
    assert _external_references(page) == []
    assert page.js_errors == []


def test_the_widget_loads_nothing_from_outside(
    new_page: Callable[..., Any], demo: Demo, tmp_path: Path
) -> None:
    build = runpy.run_path(str(ROOT / "widget" / "build.py"))["build"]
    archive: Path = build(tmp_path / "widget.zip")
    html, script = host_page(archive, demo.token("nadezhda"), "ru")
    page = new_page(path="/healthz")
    blocked = _offline(page.context)

    def serve(route: Any) -> None:
        if route.request.url.endswith("/widget/script.js"):
            route.fulfill(body=script, content_type="application/javascript")
        else:
            route.fulfill(body=html, content_type="text/html; charset=utf-8")

    page.route(f"{demo.url}{HOST}/**", serve)
    page.goto(f"{demo.url}{HOST}/leads/detail/1")
    page.evaluate(
        """() => { const w = makeWidget("lcard"); w.callbacks.render();
                   w.callbacks.init(); w.callbacks.bind_actions(); }"""
    )
    page.locator("#widgets").get_by_role("button", name="Получить заявку").click()
    ui = page.get_by_role("dialog").frame_locator("iframe")
    expect(ui.get_by_role("button", name="Получить заявку")).to_be_visible()
    # The screen is drawn in full once its limits are read; every script, style
    # and image it uses was asked for by then. (Waiting for the network to go
    # quiet instead is at the mercy of a busy machine's timing.)
    expect(ui.locator(".status")).to_be_visible()
    for frame in page.frames:
        frame.wait_for_load_state("load")
    assert blocked == []
    assert _external_references(page) == []
    inner = next(f for f in page.frames if "embed=amocrm" in f.url)
    assert _external_references(inner) == []
