"""The UI speaks Russian (the default for amoCRM accounts) and English."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Demo
from tests.browser.helpers import screenshot


def test_the_russian_ui_shows_russian_labels(new_page: Any, demo: Demo) -> None:
    page = new_page("ursula", lang="ru")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("heading", name="Здравствуйте, Ursula")).to_be_visible()
    expect(page.get_by_role("button", name="Получить заявку")).to_be_visible()
    expect(page.get_by_role("heading", name="Мои смены на этой неделе")).to_be_visible()
    expect(page.get_by_role("navigation")).to_contain_text("Журнал решений")
    screenshot(page, "manager-ru")

    page.get_by_label("Язык").select_option("en")
    expect(page.get_by_role("button", name="Get lead")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_the_russian_settings_table_names_the_seed_limits(
    new_page: Any, demo: Demo
) -> None:
    page = new_page("head", "admin", lang="ru")
    table = page.locator("table.limits-table")
    for label in (
        "Интервал, мин",
        "Активные сделки",
        "Закрыто за месяц",
        "КЭВ за прошлую неделю",
    ):
        expect(table.get_by_role("columnheader", name=label)).to_be_visible()
    expect(
        page.get_by_text(
            "Пустое поле берёт значение группы по умолчанию (серым); если его нет, "
            "лимит выключен.",
            exact=False,
        )
    ).to_be_visible()
    defaults = table.locator("tr[data-defaults]")
    expect(defaults.get_by_role("rowheader")).to_have_text("По умолчанию для группы")
    expect(
        defaults.get_by_label("По умолчанию для группы: Интервал, мин")
    ).to_have_value("5")
    screenshot(page, "admin-limits-ru")


def test_a_wrong_token_is_refused_on_the_sign_in_page(
    new_page: Any, demo: Demo
) -> None:
    page = new_page(lang="en")
    page.get_by_label("Access token").fill("not-a-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("The token was not accepted")
    screenshot(page, "sign-in")
    page.get_by_label("Access token").fill(demo.token("ursula"))
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Get lead")).to_be_visible()
