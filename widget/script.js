/*
 * The amoCRM widget of leadrouter.
 *
 * In the lead card and the leads list (lcard-1, llist-1) it shows a "Get lead"
 * button in the right column; the button opens leadrouter's own web UI in a
 * modal frame. On the advanced settings page it shows the UI's settings screens.
 *
 * The UI is signed in with the user's amoCRM disposable token: the widget posts
 * it to the backend through self.$authorizedAjax (which adds X-Auth-Token), gets
 * a UI session in return, and hands that to the frame in its URL fragment. When
 * the session runs out the frame asks for a new one by postMessage.
 */
define([], function () {
  "use strict";

  var FRAME_CLASS = "leadrouter-frame";

  return function () {
    var self = this;

    function texts() {
      var langs = self.langs || {};
      return langs.ui || {};
    }

    function language() {
      var amo = window.AMOCRM || {};
      return amo.lang_id === "en" ? "en" : "ru";
    }

    function backend() {
      var settings = (self.get_settings && self.get_settings()) || {};
      var url = String(settings.backend_url || "").trim();
      return url.replace(/\/+$/, "");
    }

    function widgetCode() {
      var settings = (self.get_settings && self.get_settings()) || {};
      return settings.widget_code || "leadrouter";
    }

    function escapeHtml(text) {
      return String(text).replace(/[&<>"']/g, function (c) {
        return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
      });
    }

    // A UI session made from the disposable token amoCRM adds to this request.
    function session() {
      return new Promise(function (resolve, reject) {
        var request = self.$authorizedAjax({
          url: backend() + "/widget/session",
          type: "POST",
          method: "POST",
          dataType: "json",
        });
        Promise.resolve(request).then(function (reply) {
          if (reply && reply.token) resolve(reply.token);
          else reject(new Error("no token in the reply"));
        }, reject);
      });
    }

    function frameUrl(route, token) {
      var query = "embed=amocrm&lang=" + language() + "&crm=" + encodeURIComponent(window.location.origin);
      return backend() + "/?" + query + "#token=" + encodeURIComponent(token) + "&route=" + encodeURIComponent(route);
    }

    // Opens the UI at `route` inside `container`; returns the frame.
    function openFrame(container, route) {
      var t = texts();
      if (!backend()) {
        container.innerHTML = '<p class="leadrouter-note">' + escapeHtml(t.no_backend) + "</p>";
        return Promise.resolve(null);
      }
      return session().then(
        function (token) {
          var frame = document.createElement("iframe");
          frame.className = FRAME_CLASS;
          frame.title = t.title || "leadrouter";
          frame.src = frameUrl(route, token);
          frame.style.cssText = "width:100%;height:100%;min-height:560px;border:0;display:block;background:#fff";
          container.innerHTML = "";
          container.appendChild(frame);
          return frame;
        },
        function () {
          container.innerHTML = '<p class="leadrouter-note" role="alert">' + escapeHtml(t.failed) + "</p>";
          return null;
        }
      );
    }

    // The frame asks for a fresh session when its own one has expired.
    function onMessage(event) {
      if (!event.data || event.data.type !== "leadrouter:session-expired") return;
      if (backend().indexOf(event.origin) !== 0) return;
      var frames = document.querySelectorAll("iframe." + FRAME_CLASS);
      for (var i = 0; i < frames.length; i++) {
        if (frames[i].contentWindow !== event.source) continue;
        (function (frame) {
          session().then(function (token) {
            frame.contentWindow.postMessage({ type: "leadrouter:session", token: token }, event.origin);
          });
        })(frames[i]);
      }
    }

    function closeModal() {
      var modal = document.getElementById("leadrouter-modal");
      if (modal) modal.parentNode.removeChild(modal);
      document.removeEventListener("keydown", onKey);
    }

    function onKey(event) {
      if (event.key === "Escape") closeModal();
    }

    function openModal() {
      var t = texts();
      closeModal();
      var modal = document.createElement("div");
      modal.id = "leadrouter-modal";
      modal.setAttribute("role", "dialog");
      modal.setAttribute("aria-modal", "true");
      modal.setAttribute("aria-label", t.title || "leadrouter");
      modal.style.cssText =
        "position:fixed;inset:0;z-index:10000;background:rgba(20,28,38,.55);display:flex;align-items:center;justify-content:center;" +
        "font:14px/1.4 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;color:#1b1f24";
      modal.innerHTML =
        '<div style="background:#fff;border-radius:8px;width:min(960px,96vw);height:min(760px,92vh);display:flex;flex-direction:column;overflow:hidden">' +
        '<div style="display:flex;justify-content:space-between;align-items:center;padding:8px 12px;border-bottom:1px solid #c9d0d8">' +
        "<strong>" + escapeHtml(t.title) + "</strong>" +
        '<button type="button" class="leadrouter-close" style="font:inherit;padding:4px 10px;cursor:pointer">' + escapeHtml(t.close) + "</button>" +
        "</div>" +
        '<div class="leadrouter-body" style="flex:1;min-height:0"></div>' +
        "</div>";
      modal.addEventListener("click", function (event) {
        if (event.target === modal) closeModal();
      });
      modal.querySelector(".leadrouter-close").addEventListener("click", closeModal);
      document.addEventListener("keydown", onKey);
      document.body.appendChild(modal);
      modal.querySelector(".leadrouter-close").focus();
      return openFrame(modal.querySelector(".leadrouter-body"), "lead");
    }

    function buttonHtml() {
      var t = texts();
      return (
        '<div class="leadrouter-widget" style="padding:8px 0">' +
        '<button type="button" class="leadrouter-get-lead button-input button-input_blue" ' +
        'style="width:100%;padding:10px;font-weight:600;cursor:pointer">' +
        escapeHtml(t.button) +
        "</button></div>"
      );
    }

    this.callbacks = {
      render: function () {
        var area = (self.system && self.system().area) || "";
        if (area === "lcard" || area === "llist") {
          self.render_template({
            caption: { class_name: "leadrouter-caption", html: escapeHtml(texts().caption) },
            body: "",
            render: buttonHtml(),
          });
        }
        return true;
      },
      init: function () {
        window.addEventListener("message", onMessage);
        return true;
      },
      bind_actions: function () {
        var buttons = document.querySelectorAll(".leadrouter-get-lead");
        for (var i = 0; i < buttons.length; i++) {
          if (buttons[i].dataset.bound) continue;
          buttons[i].dataset.bound = "1";
          buttons[i].addEventListener("click", openModal);
        }
        return true;
      },
      settings: function () {
        var hint = document.createElement("p");
        hint.className = "leadrouter-note";
        hint.textContent = texts().settings_hint;
        var form = document.querySelector(".widget_settings_block__descr") || document.body;
        form.appendChild(hint);
        return true;
      },
      advancedSettings: function () {
        var area = document.getElementById("work-area-" + widgetCode());
        if (!area) return true;
        area.style.height = "calc(100vh - 120px)";
        openFrame(area, "settings");
        return true;
      },
      onSave: function () {
        return true;
      },
      destroy: function () {
        closeModal();
        window.removeEventListener("message", onMessage);
      },
    };
    return this;
  };
});
