"""The amoCRM widget running in a fake host page, against amoCRM's rules.

The host page (tests/browser/amocrm_host.py) gives the widget what amoCRM
gives it and records every change the widget makes outside its own area.
The rules are those of tests/widget/rules.py; the archive itself is checked
by tests/widget/test_archive.py.
"""

from __future__ import annotations

import json
import runpy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.amocrm_host import HOST, host_page
from tests.browser.conftest import Demo
from tests.browser.helpers import screenshot

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = runpy.run_path(str(ROOT / "widget" / "build.py"))["build"]
    out: Path = build(tmp_path_factory.mktemp("widget") / "widget.zip")
    return out


def host(page: Any, demo: Demo, archive: Path, token: str, lang: str = "ru") -> None:
    html, script = host_page(archive, token, lang)

    def serve(route: Any) -> None:
        if route.request.url.endswith("/widget/script.js"):
            route.fulfill(body=script, content_type="application/javascript")
        else:
            route.fulfill(body=html, content_type="text/html; charset=utf-8")

    page.route(f"{demo.url}{HOST}/**", serve)
    page.goto(f"{demo.url}{HOST}/leads/detail/1")


SUPPORT = json.loads((ROOT / "widget" / "manifest.json").read_text("utf-8"))["widget"][
    "support"
]


def test_the_widget_button_opens_the_ui_signed_in_with_the_disposable_token(
    new_page: Callable[..., Any], demo: Demo, archive: Path
) -> None:
    """Rule modal-window: the button opens amoCRM's own modal window, the UI
    in its body; Escape closes it."""
    page = new_page(path="/healthz")
    host(page, demo, archive, demo.token("nadezhda"))
    returned = page.evaluate(
        """() => { const w = makeWidget("lcard"); return [w.callbacks.render(),
           w.callbacks.init(), w.callbacks.bind_actions()]; }"""
    )
    assert returned == [True, True, True]
    widgets = page.locator("#widgets")
    expect(widgets).to_contain_text("Распределение заявок")

    widgets.get_by_role("button", name="Получить заявку").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_have_class("modal leadrouter-modal")
    expect(dialog.get_by_role("heading", name="Распределение заявок")).to_be_visible()
    ui = dialog.frame_locator("iframe")
    expect(ui.get_by_role("heading", name="Здравствуйте, Nadezhda")).to_be_visible()
    expect(ui.get_by_role("button", name="Получить заявку")).to_be_visible()
    screenshot(page, "widget-lead-card")
    calls = page.evaluate("hostCalls")
    assert calls == [{"url": f"{demo.url}/widget/session", "method": "POST"}]

    # When the UI's session runs out it asks the widget, which asks amoCRM again.
    frame = page.locator(".modal-body iframe").element_handle().content_frame()
    assert frame is not None
    frame.evaluate(
        "parent.postMessage({type: 'leadrouter:session-expired'}, location.origin)"
    )
    page.wait_for_function("hostCalls.length === 2")

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.evaluate("foreignChanges") == []


def test_the_widget_changes_nothing_outside_its_own_area(
    new_page: Callable[..., Any], demo: Demo, archive: Path
) -> None:
    """Rules own-area-only and modal-window: the card's block, the modal's body,
    the settings window and the advanced settings page, and nothing else of
    the page; nothing is appended to document.body."""
    page = new_page(path="/healthz")
    host(page, demo, archive, demo.token("head", "admin"))
    page.evaluate(
        """() => { const w = makeWidget("lcard"); w.callbacks.render();
           w.callbacks.init(); w.callbacks.bind_actions(); }"""
    )
    page.get_by_role("button", name="Получить заявку").click()
    dialog = page.get_by_role("dialog")
    ui = dialog.frame_locator("iframe")
    expect(ui.get_by_role("heading", name="Здравствуйте, Helga")).to_be_visible()
    dialog.get_by_role("button", name="Закрыть").click()
    expect(dialog).to_be_hidden()

    # The settings window: amoCRM passes its right part as $modal_body.
    page.evaluate(
        """() => { const w = makeWidget("settings");
           w.callbacks.settings([document.getElementById("settings-window")]);
           w.callbacks.settings(undefined); }"""
    )
    hint = page.locator("#settings-window .widget_settings_block .leadrouter-note")
    expect(hint).to_have_count(1)
    expect(hint).to_contain_text("Настройки → Распределение заявок")

    assert page.evaluate("makeWidget('advanced_settings').callbacks.advancedSettings()")
    work_area = page.frame_locator("#work-area-leadrouter iframe")
    expect(work_area.get_by_role("heading", name="Группы и лимиты")).to_be_visible()
    page.evaluate("makeWidget('lcard').callbacks.destroy()")
    assert page.evaluate("foreignChanges") == []


def test_the_widget_speaks_the_language_of_the_users_profile(
    new_page: Callable[..., Any], demo: Demo, archive: Path
) -> None:
    """Rule language-from-app: APP.lang_id is "en" (the deprecated AMOCRM says
    "ru"), so the button, the window and the UI in it are English."""
    page = new_page(path="/healthz")
    host(page, demo, archive, demo.token("nadezhda"), lang="en")
    page.evaluate(
        """() => { const w = makeWidget("lcard"); w.callbacks.render();
           w.callbacks.init(); w.callbacks.bind_actions(); }"""
    )
    page.get_by_role("button", name="Get lead").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Lead distribution")).to_be_visible()
    ui = dialog.frame_locator("iframe")
    expect(ui.get_by_role("heading", name="Hello, Nadezhda")).to_be_visible()
    expect(ui.locator("html")).to_have_attribute("lang", "en")
    screenshot(page, "widget-lead-card-en")


def test_a_lead_claimed_in_the_widget_links_to_its_amocrm_card(
    new_page: Callable[..., Any], demo: Demo, archive: Path
) -> None:
    # Pavel is a member with the button off in the demo: switch it on for him.
    saved = demo.gql(
        'mutation { updateMemberLimits(groupId: "main", userId: "pavel", '
        "enabled: true, limits: []) { ok } }"
    )
    assert saved["updateMemberLimits"]["ok"]
    page = new_page(path="/healthz")
    host(page, demo, archive, demo.token("pavel"))
    page.evaluate(
        "() => { const w = makeWidget('lcard'); w.callbacks.render(); "
        "w.callbacks.bind_actions(); }"
    )
    page.get_by_role("button", name="Получить заявку").click()
    ui = page.get_by_role("dialog").frame_locator("iframe")
    ui.get_by_role("button", name="Получить заявку").click()
    claimed = ui.get_by_role("region", name="Ваша новая заявка")
    expect(claimed).to_be_visible()
    lead_id = claimed.locator("dd").first.inner_text()
    link = claimed.get_by_role("link", name="Открыть сделку")
    expect(link).to_have_attribute("href", f"{demo.url}/leads/detail/{lead_id}")
    expect(link).to_have_attribute("target", "_top")
    screenshot(page, "widget-claimed")


def test_the_advanced_settings_page_shows_the_limits_table(
    new_page: Callable[..., Any], demo: Demo, archive: Path
) -> None:
    page = new_page(path="/healthz")
    host(page, demo, archive, demo.token("head", "admin"))
    assert page.evaluate(
        "() => makeWidget('advanced_settings').callbacks.advancedSettings()"
    )
    ui = page.frame_locator("#work-area-leadrouter iframe")
    expect(ui.get_by_role("heading", name="Группы и лимиты")).to_be_visible()
    expect(ui.locator("table.limits-table")).to_contain_text("Marina")
    screenshot(page, "widget-advanced-settings")


@pytest.mark.parametrize(
    ("backend", "token", "cause"),
    [
        (
            None,
            "not-a-token",
            "Сервер распределения {url} не принял ваш вход из amoCRM: на нём должен "
            "быть указан секретный ключ этой интеграции.",
        ),
        (
            "http://127.0.0.1:9",
            "",
            "Сервер распределения http://127.0.0.1:9 не отвечает: он может быть "
            "выключен, или в настройках виджета указан неверный адрес.",
        ),
        (
            "",
            "",
            "Не указан адрес сервера распределения: администратор вводит его в "
            "настройках этого виджета.",
        ),
    ],
    ids=["token-refused", "server-down", "no-address"],
)
def test_a_failure_says_why_and_whom_to_ask(
    new_page: Callable[..., Any],
    demo: Demo,
    archive: Path,
    backend: str | None,
    token: str,
    cause: str,
) -> None:
    """Rule failure-message: the cause, and the integrator's contacts from the
    manifest's `support`, as links."""
    page = new_page(path="/healthz")
    host(page, demo, archive, token or demo.token("ursula"))
    page.evaluate(
        "(backend) => { const w = makeWidget('llist', backend ?? undefined); "
        "w.callbacks.render(); w.callbacks.bind_actions(); }",
        backend,
    )
    page.get_by_role("button", name="Получить заявку").click()
    alert = page.get_by_role("dialog").get_by_role("alert")
    expect(alert).to_contain_text(cause.format(url=demo.url))
    expect(alert).to_contain_text("Если ошибка повторяется, напишите в поддержку")
    email = alert.get_by_role("link", name=SUPPORT["email"])
    expect(email).to_have_attribute("href", f"mailto:{SUPPORT['email']}")
    site = alert.get_by_role("link", name=SUPPORT["link"])
    expect(site).to_have_attribute("href", SUPPORT["link"])
    screenshot(page, f"widget-failure-{page.evaluate('hostCalls.length')}")


EVIL_PAGE = """<!doctype html><html><body><script>
  window.got = [];
  addEventListener("message", function (e) { got.push(e.data); });
  parent.postMessage({type: "leadrouter:session-expired"}, "*");
</script></body></html>"""


def test_only_the_backends_exact_origin_gets_a_fresh_session(
    new_page: Callable[..., Any], demo: Demo, archive: Path
) -> None:
    """Rule exact-origin: a frame whose origin merely begins the backend's
    address (http://127.0.0.1:2012 for http://127.0.0.1:20123) asks for a
    session and gets nothing; the backend's own frame gets one."""
    page = new_page(path="/healthz")
    host(page, demo, archive, demo.token("head", "admin"))
    port = demo.url.rsplit(":", 1)[1]
    evil = f"http://127.0.0.1:{port[:-1]}"
    assert demo.url.startswith(evil) and evil != demo.url
    page.route(
        f"{evil}/**",
        lambda route: route.fulfill(body=EVIL_PAGE, content_type="text/html"),
    )
    page.evaluate(
        """() => { const w = makeWidget("lcard"); w.callbacks.render();
           w.callbacks.init(); w.callbacks.bind_actions();
           makeWidget("advanced_settings").callbacks.advancedSettings(); }"""
    )
    page.get_by_role("button", name="Получить заявку").click()
    modal_ui = page.get_by_role("dialog").frame_locator("iframe")
    expect(modal_ui.get_by_role("heading", name="Здравствуйте, Helga")).to_be_visible()
    settings_ui = page.frame_locator("#work-area-leadrouter iframe")
    expect(settings_ui.get_by_role("heading", name="Группы и лимиты")).to_be_visible()
    page.wait_for_function("hostCalls.length === 2")
    # Messages reach listeners in the order they were added: once this one
    # has seen the evil frame's, the widget's has handled it.
    page.evaluate(
        "window.seen = []; addEventListener('message', e => seen.push(e.origin))"
    )
    page.locator(".modal-body iframe").evaluate(f"f => {{ f.src = '{evil}/evil'; }}")
    page.wait_for_function(f"seen.includes({json.dumps(evil)})")
    assert page.evaluate("hostCalls.length") == 2

    settings = page.locator("#work-area-leadrouter iframe").element_handle()
    frame = settings.content_frame()
    assert frame is not None
    frame.evaluate(
        """() => { window.fresh = null;
           addEventListener("message", e => {
             if (e.data.type === "leadrouter:session") window.fresh = e.data.token; });
           parent.postMessage({type: "leadrouter:session-expired"},
                              location.origin); }"""
    )
    frame.wait_for_function("window.fresh !== null")
    assert page.evaluate("hostCalls.length") == 3
    evil_frame = page.locator(".modal-body iframe").element_handle().content_frame()
    assert evil_frame is not None
    assert evil_frame.evaluate("got") == []


LEAD_HISTORY = """query($id: ID!) { leadHistory(leadId: $id) {
  lead { id name responsible } reopensTo } }"""


def test_an_admin_reopens_a_lead_from_its_card_seeing_the_stage_it_returns_to(
    new_page: Callable[..., Any], demo: Demo, archive: Path
) -> None:
    """Seed 002: "При нажатии на кнопку "Отозвать сделку" и подтверждении отмены
    сделки, сделка вернется в промежуточные статусы", with who and when in the
    journal. The lead's card in amoCRM opens its view in the widget."""
    from tests.browser.test_loss_reasons import every_lead

    closed = sorted(
        (x for x in every_lead(demo) if x["closedAt"] and x["responsible"] != "marina"),
        key=lambda x: (x["closedAt"], x["id"]),
    )
    lead_id = closed[0]["id"]
    before = demo.gql(LEAD_HISTORY, {"id": lead_id})["leadHistory"]
    pipelines = demo.gql("{ pipelines { name stages { id name } } }")["pipelines"]
    names = {
        s["id"]: f"{p['name']}: {s['name']}" for p in pipelines for s in p["stages"]
    }
    returns_to = names[before["reopensTo"]]

    page = new_page(path="/healthz")
    host(page, demo, archive, demo.token("head", "admin"))
    page.evaluate(
        """id => { APP.data = {current_card: {id}}; const w = makeWidget("lcard");
           w.callbacks.render(); w.callbacks.init(); w.callbacks.bind_actions(); }""",
        lead_id,
    )
    page.locator("#widgets").get_by_role(
        "button", name="История сделки и отзыв"
    ).click()
    ui = page.get_by_role("dialog").frame_locator("iframe")
    name = before["lead"]["name"] or lead_id
    expect(ui.get_by_role("heading", name=name)).to_be_visible()
    ui.get_by_role("button", name="Отозвать сделку").click()
    expect(ui.locator(".question")).to_have_text(
        f"Сделка вернётся на этап «{returns_to}». Отозвать её?"
    )
    # Named, not done: nothing changes before the admin confirms.
    assert demo.gql(LEAD_HISTORY, {"id": lead_id})["leadHistory"] == before
    ui.get_by_role("button", name="Отозвать", exact=True).click()
    expect(ui.locator(".notice.ok")).to_have_text(
        f"Сделка отозвана и снова на этапе «{returns_to}»."
    )
    last = ui.locator("table.history tbody tr").last
    expect(last).to_contain_text(f"Отозвана: снова на этапе «{returns_to}»")
    expect(last).to_contain_text("Helga (head of sales)")
    expect(ui.get_by_role("button", name="Отозвать сделку")).to_have_count(0)

    ui.get_by_role("link", name="Решения по этой сделке в журнале").click()
    entry = ui.locator("table.journal tbody tr").first
    expect(entry).to_contain_text("отзыв сделки")
    expect(entry).to_contain_text("отозвана")
    expect(entry).to_contain_text("Helga (head of sales)")
    assert page.evaluate("foreignChanges") == []


def test_a_manager_sees_their_leads_history_but_no_reopen_button(
    new_page: Callable[..., Any], demo: Demo, archive: Path
) -> None:
    from tests.browser.test_loss_reasons import every_lead

    theirs = next(
        x for x in every_lead(demo) if x["closedAt"] and x["responsible"] == "ursula"
    )
    page = new_page(path="/healthz")
    host(page, demo, archive, demo.token("ursula"))
    page.evaluate(
        """id => { APP.data = {current_card: {id}}; const w = makeWidget("lcard");
           w.callbacks.render(); w.callbacks.init(); w.callbacks.bind_actions(); }""",
        theirs["id"],
    )
    page.locator("#widgets").get_by_role(
        "button", name="История сделки и отзыв"
    ).click()
    ui = page.get_by_role("dialog").frame_locator("iframe")
    expect(ui.get_by_role("heading", name="История")).to_be_visible()
    expect(ui.locator("table.history tbody tr").first).to_contain_text("Создана")
    expect(ui.get_by_role("button", name="Отозвать сделку")).to_have_count(0)
