"""A fake amoCRM page for the widget: what amoCRM gives a widget, and a record
of every change the widget makes outside its own area.

The page gives the widget a RequireJS-style `define` that hands over amoCRM's
modal window (`lib/components/base/modal`), the global `APP` (and the
deprecated `AMOCRM`, set to another language so a widget reading it shows),
and a widget object with `langs`, `system()`, `get_settings()`,
`render_template()` and `$authorizedAjax()` (which sends X-Auth-Token and
fails like jQuery's ajax, with the request's `status`). It is served at the
gateway's origin by Playwright, so no CORS is involved.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

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


def host_page(archive: Path, token: str, lang: str = "ru") -> tuple[str, bytes]:
    """The page's HTML and the archive's script.js it loads."""
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
    return html, script
