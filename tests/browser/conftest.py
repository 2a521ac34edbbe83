"""A real browser against the product running as processes, with the demo loaded.

Playwright drives Debian's Chromium (`apt-get install chromium`): Playwright's
own browser download is not used. Without /usr/bin/chromium these tests are
skipped with the reason shown, except under CI, where that is a failure.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from leadrouter.auth import issue_token
from leadrouter.clients import Clients
from leadrouter.config import Settings
from leadrouter.up import load_demo_if_empty
from tests.e2e.reports_fixtures import caught_up
from tests.processes import ProcessStack, process_stack

CHROMIUM = Path(os.environ.get("LEADROUTER_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
]
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


def _browser_problem() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install playwright)"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM}: apt-get install chromium"
    return None


@pytest.fixture(scope="session")
def browser_problem() -> None:
    problem = _browser_problem()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)


@dataclass
class Demo:
    """The demo account served by every process, and ways to act on it."""

    stack: ProcessStack

    @property
    def url(self) -> str:
        return self.stack.url

    def token(self, user: str, role: str = "manager") -> str:
        return issue_token(
            self.stack.settings.signing_secret,
            account=self.stack.settings.account,
            user_id=user,
            role=role,
            now=datetime.now(UTC),
            ttl=timedelta(hours=2),
        )

    def gql(
        self, query: str, variables: dict[str, Any] | None = None, **kw: str
    ) -> Any:
        """Data of a GraphQL call as `head` (or user=, role=); errors fail the test."""
        token = self.token(kw.get("user", "head"), kw.get("role", "admin"))
        reply = httpx.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        body = reply.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]


@pytest.fixture(scope="package")
def demo(
    browser_problem: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Demo]:
    with process_stack(tmp_path_factory.mktemp("browser"), None) as stack:
        assert asyncio.run(load_demo_if_empty(stack.settings))
        asyncio.run(_reports_caught_up(stack.settings))
        yield Demo(stack)


async def _reports_caught_up(settings: Settings) -> None:
    """The reports read the demo's past behind it; tests that read a report
    beside the leads or the journal start once it has read all of it."""
    clients = Clients.from_settings(settings)
    try:
        await caught_up(clients, settings.account, timeout=300)
    finally:
        await clients.close()


# Package scope: sync Playwright keeps an event loop running in this thread, which
# the asyncio tests of other packages must not inherit.
@pytest.fixture(scope="package")
def browser(demo: Demo) -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    # Pages that ask the server a few dozen questions get longer than 5 s.
    expect.set_options(timeout=15_000)

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Any, demo: Demo) -> Iterator[Any]:
    """new_page(user, role, lang=, viewport=): a page signed in by a #token= link."""
    contexts = []

    def make(
        user: str | None = None,
        role: str = "manager",
        *,
        lang: str = "en",
        viewport: dict[str, int] | None = None,
        path: str = "/",
    ) -> Any:
        context = browser.new_context(
            viewport=viewport or DESKTOP, locale="ru-RU" if lang == "ru" else "en-US"
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.js_errors = errors
        if user is None:
            page.goto(f"{demo.url}{path}?lang={lang}")
        else:
            token = demo.token(user, role)
            page.goto(f"{demo.url}{path}?lang={lang}#token={token}")
        return page

    yield make
    for context in contexts:
        context.close()
