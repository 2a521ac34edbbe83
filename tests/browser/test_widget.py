"""The amoCRM widget running in a fake host page, against amoCRM's rules.

The host page gives the widget what amoCRM gives it: a RequireJS-style
`define` that hands over amoCRM's modal window (`lib/components/base/modal`),
the global `APP` (and the deprecated `AMOCRM`, set to another language so a
widget reading it shows), and a widget object with `langs`, `system()`,
`get_settings()`, `render_template()` and `$authorizedAjax()` (which sends
X-Auth-Token and fails like jQuery's ajax, with the request's `status`). It is
served at the gateway's origin by Playwright, so no CORS is involved. The
page records every change the widget makes outside its own area. The rules
are those of tests/widget/rules.py; the archive itself is checked by
tests/widget/test_archive.py.
"""

from __future__ import annotations

import json
import runpy
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
<html lang="%(lang)s"><head><meta charset="utf-8">
<title>amoCRM (fake host)</title></head>
<body>
<div id="card" style="display:flex;gap:16px;font:14px sans-serif">
  <div style="flex:1;padding:16px"><h1>Сделка #1</h1></div>
  <aside id="widgets" style="width:280px;padding:8px"></aside>
</div>
<div id="work-area-leadrouter" style="height:700px"></div>
<div id="settings-window" data-host="1" style="display:none">
  <div class="widget_settings_block"></div>
</div>
<script>
  window.APP = {lang_id: "%(lang)s"};
  // The deprecated twin, in the other language: a widget reading it shows.
  window.AMOCRM = {lang_id: "%(other)s"};
  window.hostCalls = [];
  window.foreignChanges = [];

  // amoCRM's modal window: its frame belongs to amoCRM; init() gets the body
  // (jQuery-wrapped in amoCRM); Escape and destroy() close it.
  function Modal(options) {
    var frame = document.createElement("div");
    frame.dataset.host = "1";
    frame.className = "modal " + (options.class_name || "");
    frame.setAttribute("role", "dialog");
    frame.setAttribute("aria-modal", "true");
    frame.style.cssText = "position:fixed;inset:0;background:rgba(0,0,0,.5);" +
      "display:flex;align-items:center;justify-content:center";
    var body = document.createElement("div");
    body.className = "modal-body";
    body.style.cssText = "background:#fff;padding:12px;border-radius:4px";
    frame.appendChild(body);
    document.body.appendChild(frame);
    var open = true;
    var self = this;
    function onKey(event) { if (event.key === "Escape") self.destroy(); }
    document.addEventListener("keydown", onKey);
    this.destroy = function () {
      if (!open) return;
      open = false;
      document.removeEventListener("keydown", onKey);
      frame.remove();
      if (options.destroy) options.destroy();
    };
    options.init([body]);
  }
  var modules = {"lib/components/base/modal": Modal};
  window.define = function (deps, factory) {
    var given = deps.map(function (d) { return modules[d]; });
    window.WidgetClass = factory.apply(null, given);
  };

  // The widget's own area: its block of the right column, the modal window's
  // body, its settings window and its advanced settings page.
  var OWN = [".card-widgets__widget", ".modal-body", "#work-area-leadrouter",
             "#settings-window"].join(", ");
  function hostMade(nodes) {
    return Array.prototype.every.call(nodes, function (n) {
      return n.nodeType === 1 && n.dataset && n.dataset.host === "1";
    });
  }
  // From the moment the page is parsed: the parser's own additions are not
  // the widget's.
  var watch = new MutationObserver(function (records) {
    records.forEach(function (r) {
      var target = r.target.nodeType === 1 ? r.target : r.target.parentNode;
      if (target && target.closest && target.closest(OWN)) return;
      if (r.type === "childList" && hostMade(r.addedNodes) &&
          hostMade(r.removedNodes)) return;
      var name = target ? target.tagName.toLowerCase() : "?";
      if (target && target.id) name += "#" + target.id;
      window.foreignChanges.push(r.type + " on <" + name + ">");
    });
  });
  document.addEventListener("DOMContentLoaded", function () {
    var all = {childList: true, subtree: true, attributes: true, characterData: true};
    watch.observe(document.documentElement, all);
  });
</script>
<script src="%(host)s/widget/script.js"></script>
<script>
  window.makeWidget = function (area, backend) {
    var self = {
      langs: %(langs)s,
      system: function () { return {area: area, subdomain: "acme"}; },
      get_settings: function () {
        return {backend_url: backend === undefined ? location.origin : backend,
                widget_code: "leadrouter"};
      },
      render_template: function (o) {
        var block = document.createElement("section");
        block.dataset.host = "1";
        block.className = "card-widgets__widget";
        block.innerHTML = '<div class="' + o.caption.class_name + '">' +
          o.caption.html + "</div>" + o.render;
        document.getElementById("widgets").appendChild(block);
      },
      $authorizedAjax: function (o) {
        window.hostCalls.push({url: o.url, method: o.method || o.type});
        return fetch(o.url, {method: o.method || o.type || "GET",
                             headers: {"X-Auth-Token": %(token)s}})
          .then(function (r) {
            return r.ok ? r.json() : Promise.reject({status: r.status});
          }, function () { return Promise.reject({status: 0}); });
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


def host(page: Any, demo: Demo, archive: Path, token: str, lang: str = "ru") -> None:
    with zipfile.ZipFile(archive) as z:
        script = z.read("script.js")
        langs = z.read(f"i18n/{lang}.json").decode()
    html = HOST_PAGE % {
        "host": HOST,
        "langs": langs,
        "token": json.dumps(token),
        "lang": lang,
        "other": "en" if lang == "ru" else "ru",
    }

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
