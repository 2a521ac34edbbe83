"""Issue 23 in the browser: the limits' refusals in the words of their names.

An account of its own (not the shared demo), so that what these tests change
changes nothing the other browser tests read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from leadrouter.auth import issue_token
from tests.browser.conftest import DESKTOP
from tests.browser.helpers import screenshot
from tests.processes import ProcessStack, process_stack

WORKSPACE = """
account: {timezone: Asia/Tomsk}
users:
  - {id: head, name: Helga (head of sales)}
  - {id: ursula, name: Ursula}
  - {id: pool, name: Lead exchange, technical: true}
pipelines:
  - id: sales
    name: Sales
    stages:
      - {id: new, name: New request, kind: open}
      - {id: taken, name: Taken into work, kind: open}
      - {id: meeting, name: Meeting held, kind: open}
      - {id: offer, name: Offer sent, kind: open}
      - {id: won, name: Closed - won, kind: won}
      - {id: lost, name: Closed - lost, kind: lost}
groups:
  - id: main
    name: Sales floor
    source_stages: [sales/new]
    target_stage: sales/taken
    key_stage: sales/meeting
    exchange_users: [pool]
    members:
      - user: ursula
        limits: {max_new_today: 20, days_without_sales: 14}
"""


@dataclass
class Seeded:
    stack: ProcessStack
    now: datetime

    def token(self, user: str, role: str) -> str:
        return issue_token(
            self.stack.settings.signing_secret,
            account=self.stack.settings.account,
            user_id=user,
            role=role,
            now=datetime.now(UTC),
            ttl=timedelta(hours=2),
        )


def _history(now: datetime) -> list[dict[str, Any]]:
    long_ago = now - timedelta(days=40)
    events: list[dict[str, Any]] = [
        {
            "type": "lead_created",
            "at": long_ago.isoformat(),
            "lead": "P1",
            "name": "Waiting in the pool",
            "pipeline": "sales",
            "stage": "new",
            "responsible": "pool",
        },
        # Ursula's last sale, 15 days ago.
        {
            "type": "lead_created",
            "at": long_ago.isoformat(),
            "lead": "S1",
            "name": "Sold a while ago",
            "pipeline": "sales",
            "stage": "taken",
            "responsible": "ursula",
        },
        {
            "type": "stage_changed",
            "at": (now - timedelta(days=15)).isoformat(),
            "lead": "S1",
            "to": "won",
        },
    ]
    # Twenty new leads today: the daily limit of 20 is reached.
    events += [
        {
            "type": "lead_created",
            "at": (now - timedelta(seconds=1)).isoformat(),
            "lead": f"N{n}",
            "name": f"New today {n}",
            "pipeline": "sales",
            "stage": "taken",
            "responsible": "ursula",
        }
        for n in range(20)
    ]
    return events


@pytest.fixture(scope="module")
def seeded(
    browser_problem: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeded]:
    data = tmp_path_factory.mktemp("seed-reading")
    running = process_stack(data / "stack", None)
    # Sync Playwright keeps an event loop running in this thread, and starting
    # the stack runs one of its own: start it in a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        stack = pool.submit(running.__enter__).result()
    try:
        now = datetime.now(UTC)
        workspace = data / "workspace.yaml"
        workspace.write_text(WORKSPACE)
        stack.cli("apply", str(workspace))
        history = data / "history.jsonl"
        history.write_text("".join(json.dumps(e) + "\n" for e in _history(now)))
        stack.cli("import", str(history))
        yield Seeded(stack, now)
    finally:
        running.__exit__(None, None, None)


@pytest.fixture
def open_page(browser: Any, seeded: Seeded) -> Iterator[Callable[..., Any]]:
    contexts = []

    def make(user: str, role: str, *, lang: str = "en", path: str = "/") -> Any:
        context = browser.new_context(
            viewport=DESKTOP, locale="ru-RU" if lang == "ru" else "en-US"
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.js_errors = errors
        token = seeded.token(user, role)
        page.goto(f"{seeded.stack.url}{path}?lang={lang}#token={token}")
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.mark.parametrize(
    ("lang", "daily", "daily_figures", "no_sales", "no_sales_figures"),
    [
        (
            "en",
            "Today's limit of 20 new deals is reached: 20 new today.",
            "New today: 20 of 20",
            "14 days without a sale: no sale in the last 14 days.",
            "Sales in the last 14 days: 0",
        ),
        (
            "ru",
            "Дневной лимит в 20 новых сделок исчерпан: сегодня уже 20.",
            "Новых за сегодня: 20 из 20",
            "14 дн. без продаж: за последние 14 дн. ни одной продажи.",
            "Продаж за последние 14 дн.: 0",
        ),
    ],
)
def test_23_9_limits_3_and_6_refuse_in_the_words_of_their_names(
    open_page: Callable[..., Any],
    lang: str,
    daily: str,
    daily_figures: str,
    no_sales: str,
    no_sales_figures: str,
) -> None:
    page = open_page("ursula", "manager", lang=lang)
    reasons = page.locator(".status.blocked")
    new_today = reasons.locator("li[data-limit=max_new_today]")
    expect(new_today.locator(".reason-text")).to_have_text(daily)
    expect(new_today.locator(".reason-figures")).to_have_text(daily_figures)
    sales = reasons.locator("li[data-limit=days_without_sales]")
    expect(sales.locator(".reason-text")).to_have_text(no_sales)
    expect(sales.locator(".reason-figures")).to_have_text(no_sales_figures)
    screenshot(page, f"seed-limits-3-and-6-{lang}")
    assert page.js_errors == []
