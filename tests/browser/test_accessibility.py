"""Each main screen passes the axe-core accessibility rules, in both languages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Demo

SCREENS = [
    ("ursula", "manager", "lead", "en"),
    ("ursula", "manager", "lead", "ru"),
    ("head", "admin", "settings", "en"),
    ("head", "admin", "settings", "ru"),
    ("head", "admin", "schedules", "en"),
    ("head", "admin", "templates", "en"),
    ("head", "admin", "workspace", "en"),
    ("head", "admin", "transfer", "en"),
    ("head", "admin", "transfer", "ru"),
    ("head", "admin", "reports", "ru"),
    ("head", "admin", "journal", "en"),
]


@pytest.mark.parametrize(("user", "role", "screen", "lang"), SCREENS)
def test_the_screen_passes_every_axe_rule(
    new_page: Callable[..., Any],
    demo: Demo,
    user: str,
    role: str,
    screen: str,
    lang: str,
) -> None:
    page = new_page(user, role, lang=lang)
    page.evaluate(f"location.hash = '#/{screen}'")
    expect(page.locator("main .view h1")).to_be_visible()
    page.wait_for_load_state("networkidle")
    results = Axe().run(page)
    serious = [
        v
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, results.generate_report()


def test_the_sign_in_page_works_on_a_phone_with_the_keyboard(
    new_page: Callable[..., Any], demo: Demo
) -> None:
    page = new_page(lang="ru", viewport=PHONE)
    expect(page.get_by_role("heading", name="Вход")).to_be_visible()
    assert Axe().run(page).violations_count == 0
    page.get_by_label("Токен доступа").fill(demo.token("nadezhda"))
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Здравствуйте, Nadezhda")).to_be_visible()
