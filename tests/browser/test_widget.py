"""The amoCRM widget: a well-formed archive, and script.js running in a fake host.

The host page gives the widget what amoCRM gives it: a RequireJS-style
`define`, and a widget object with `langs`, `system()`, `get_settings()`,
`render_template()` and `$authorizedAjax()` (which sends X-Auth-Token). It is
served at the gateway's origin by Playwright, so no CORS is involved.
"""

from __future__ import annotations

import json
import runpy
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Demo
from tests.browser.helpers import screenshot

ROOT = Path(__file__).resolve().parents[2]
HOST = "/amocrm-host"

HOST_PAGE = """<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>amoCRM (fake host)</title></head>
<body>
<div id="card" style="display:flex;gap:16px;font:14px sans-serif">
  <div style="flex:1;padding:16px"><h1>Сделка #1</h1></div>
  <aside id="widgets" style="width:280px;padding:8px"></aside>
</div>
<div id="work-area-leadrouter" style="height:700px"></div>
<script>
  window.AMOCRM = {lang_id: "ru"};
  window.hostCalls = [];
  window.define = function (deps, factory) { window.WidgetClass = factory(); };
</script>
<script src="%(host)s/widget/script.js"></script>
<script>
  window.makeWidget = function (area) {
    var self = {
      langs: %(langs)s,
      system: function () { return {area: area, subdomain: "acme"}; },
      get_settings: function () {
        return {backend_url: location.origin, widget_code: "leadrouter"};
      },
      render_template: function (o) {
        document.getElementById("widgets").insertAdjacentHTML("beforeend",
          '<section class="card-widgets__widget"><div class="' + o.caption.class_name +
          '">' + o.caption.html + "</div>" + o.render + "</section>");
      },
      $authorizedAjax: function (o) {
        window.hostCalls.push({url: o.url, method: o.method || o.type});
        return fetch(o.url, {method: o.method || o.type || "GET",
                             headers: {"X-Auth-Token": %(token)s}})
          .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); });
      },
    };
    window.WidgetClass.call(self);
    return self;
  };
</script>
</body></html>
"""


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = runpy.run_path(str(ROOT / "widget" / "build.py"))["build"]
    out: Path = build(tmp_path_factory.mktemp("widget") / "widget.zip")
    return out


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_widget_archive_is_what_amocrm_accepts(archive: Path) -> None:
    with zipfile.ZipFile(archive) as z:
        assert z.testzip() is None
        names = set(z.namelist())
        manifest = json.loads(z.read("manifest.json"))
        i18n = {loc: json.loads(z.read(f"i18n/{loc}.json")) for loc in ("ru", "en")}
        images = {n: png_size(z.read(n)) for n in names if n.startswith("images/")}
        script = z.read("script.js").decode()
    assert {"manifest.json", "script.js", "i18n/ru.json", "i18n/en.json"} <= names
    assert not any(n.startswith("/") or ".." in n for n in names)
    widget = manifest["widget"]
    assert widget["interface_version"] == 2
    assert widget["locale"] == ["ru", "en"]
    assert {"llist-1", "lcard-1", "settings", "advanced_settings"} <= set(
        manifest["locations"]
    )
    assert manifest["settings"]["backend_url"]["required"] is True
    for loc, texts in i18n.items():
        assert texts["widget"]["name"], loc
        assert texts["settings"]["backend_url"], loc
        assert texts["ui"]["button"], loc
    assert i18n["ru"]["ui"]["button"] == "Получить заявку"
    assert images["images/logo_min.png"] == (84, 84)
    assert images["images/logo_medium.png"] == (240, 84)
    assert images["images/logo_main.png"] == (400, 272)
    assert {"images/logo.png", "images/logo_small.png"} <= set(images)
    assert script.lstrip().startswith("/*") and "define([]" in script


def host(page: Any, demo: Demo, archive: Path, token: str) -> None:
    with zipfile.ZipFile(archive) as z:
        script = z.read("script.js")
        langs = z.read("i18n/ru.json").decode()
    html = HOST_PAGE % {"host": HOST, "langs": langs, "token": json.dumps(token)}

    def serve(route: Any) -> None:
        if route.request.url.endswith("/widget/script.js"):
            route.fulfill(body=script, content_type="application/javascript")
        else:
            route.fulfill(body=html, content_type="text/html; charset=utf-8")

    page.route(f"{demo.url}{HOST}/**", serve)
    page.goto(f"{demo.url}{HOST}/leads/detail/1")


def test_the_widget_button_opens_the_ui_signed_in_with_the_disposable_token(
    new_page: Callable[..., Any], demo: Demo, archive: Path
) -> None:
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
    dialog = page.get_by_role("dialog", name="Распределение заявок")
    expect(dialog).to_be_visible()
    ui = dialog.frame_locator("iframe")
    expect(ui.get_by_role("heading", name="Здравствуйте, Nadezhda")).to_be_visible()
    expect(ui.get_by_role("button", name="Получить заявку")).to_be_visible()
    screenshot(page, "widget-lead-card")
    calls = page.evaluate("hostCalls")
    assert calls == [{"url": f"{demo.url}/widget/session", "method": "POST"}]

    # When the UI's session runs out it asks the widget, which asks amoCRM again.
    frame = page.locator("#leadrouter-modal iframe").element_handle().content_frame()
    assert frame is not None
    frame.evaluate(
        "parent.postMessage({type: 'leadrouter:session-expired'}, location.origin)"
    )
    page.wait_for_function("hostCalls.length === 2")

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


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


def test_a_widget_without_its_token_is_turned_away(
    new_page: Callable[..., Any], demo: Demo, archive: Path
) -> None:
    page = new_page(path="/healthz")
    host(page, demo, archive, "not-a-token")
    page.evaluate(
        "() => { const w = makeWidget('llist'); w.callbacks.render(); "
        "w.callbacks.bind_actions(); }"
    )
    page.get_by_role("button", name="Получить заявку").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("alert")).to_have_text(
        "Сервер распределения не ответил. Попробуйте ещё раз."
    )
