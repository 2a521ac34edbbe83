/*
 * The amoCRM widget of leadrouter.
 *
 * In the lead card and the leads list (lcard-1, llist-1) it shows a "Get lead"
 * button in its block of the right column; the button opens leadrouter's own
 * web UI in amoCRM's modal window. In the card of a saved lead a second button
 * opens that lead's view: its history and, for admins, reopening it. On the
 * advanced settings page it shows the UI's settings screens.
 *
 * It draws only inside what amoCRM gives it: its block of the right column,
 * the body of the modal window it opens, the body of its settings window and
 * its advanced settings page. It never adds anything to the rest of the page.
 *
 * The UI is signed in with the user's amoCRM disposable token: the widget posts
 * it to the backend through self.$authorizedAjax (which adds X-Auth-Token), gets
 * a UI session in return, and hands that to the frame in its URL fragment. When
 * the session runs out the frame asks for a new one by postMessage; only a
 * frame of the backend's own origin gets an answer.
 */
define(["lib/components/base/modal"], function (Modal) {
  "use strict";

  var FRAME_CLASS = "leadrouter-frame";

  return function () {
    var self = this;
    var modal = null;

    function texts() {
      var langs = self.langs || {};
      return langs.ui || {};
    }

    // The integrator's contacts: widget/build.py copies them from the manifest.
    function support() {
      var langs = self.langs || {};
      return langs.support || {};
    }

    // The language of the user's amoCRM profile (APP.lang_id; the old AMOCRM
    // object is deprecated). The UI speaks Russian and English.
    function language() {
      var app = window.APP || {};
      return app.lang_id === "ru" ? "ru" : "en";
    }

    function backend() {
      var settings = (self.get_settings && self.get_settings()) || {};
      var url = String(settings.backend_url || "").trim();
      return url.replace(/\/+$/, "");
    }

    // scheme://host[:port] of the backend, the only origin the frame may have.
    function backendOrigin() {
      try {
        return new URL(backend()).origin;
      } catch (error) {
        return "";
      }
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

    function fill(template, values) {
      return String(template || "").replace(/\{(\w+)\}/g, function (whole, key) {
        return key in values ? values[key] : whole;
      });
    }

    // A UI session made from the disposable token amoCRM adds to this request.
    // A refusal carries the HTTP status ($authorizedAjax answers like jQuery's
    // ajax: the rejection is the request, with status 0 when nothing answered).
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
          else reject({ status: -1 });
        }, function (failed) {
          reject({ status: failed && typeof failed.status === "number" ? failed.status : 0 });
        });
      });
    }

    function frameUrl(route, token) {
      var query = "embed=amocrm&lang=" + language() + "&crm=" + encodeURIComponent(window.location.origin);
      return backend() + "/?" + query + "#token=" + encodeURIComponent(token) + "&route=" + encodeURIComponent(route);
    }

    // Why the UI cannot be shown, in the user's words, and whom to ask.
    function problemHtml(cause) {
      var t = texts();
      var contacts = support();
      var ways = [];
      if (contacts.email) {
        ways.push('<a href="mailto:' + escapeHtml(contacts.email) + '">' + escapeHtml(contacts.email) + "</a>");
      }
      if (contacts.link) {
        ways.push(
          '<a href="' + escapeHtml(contacts.link) + '" target="_blank" rel="noopener noreferrer">' +
            escapeHtml(contacts.link) + "</a>"
        );
      }
      return (
        '<div class="leadrouter-problem" role="alert">' +
        "<p>" + escapeHtml(cause) + "</p>" +
        "<p>" + escapeHtml(t.support || "") + " " + ways.join(" · ") + "</p>" +
        "</div>"
      );
    }

    function failureCause(status) {
      var t = texts();
      var values = { url: backend(), status: status };
      if (status === 0) return fill(t.failed_unreachable, values);
      if (status === 401 || status === 403) return fill(t.failed_refused, values);
      return fill(t.failed_error, values);
    }

    // Opens the UI at `route` inside `container`; returns the frame.
    function openFrame(container, route) {
      var t = texts();
      if (!backend() || !backendOrigin()) {
        container.innerHTML = problemHtml(t.no_backend);
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
        function (failed) {
          container.innerHTML = problemHtml(failureCause(failed.status));
          return null;
        }
      );
    }

    // The frame asks for a fresh session when its own one has expired. Only the
    // backend's exact origin is answered: the reply carries a session token.
    function onMessage(event) {
      if (!event.data || event.data.type !== "leadrouter:session-expired") return;
      var origin = backendOrigin();
      if (!origin || event.origin !== origin) return;
      var frames = document.querySelectorAll("iframe." + FRAME_CLASS);
      for (var i = 0; i < frames.length; i++) {
        if (frames[i].contentWindow !== event.source) continue;
        (function (frame) {
          session().then(
            function (token) {
              frame.contentWindow.postMessage({ type: "leadrouter:session", token: token }, origin);
            },
            function () {
              // The frame keeps its own "session expired" notice; nothing to add.
            }
          );
        })(frames[i]);
      }
    }

    function closeModal() {
      if (modal) {
        var open = modal;
        modal = null;
        open.destroy();
      }
    }

    // The lead of the open card; none on the page of a new lead. amoCRM's
    // script.js docs: "if (APP.data.current_card.id == 0) { return false; }
    // // не рендерить на contacts/add || leads/add".
    function cardLead() {
      var data = (window.APP && window.APP.data) || {};
      var card = data.current_card;
      return card && card.id ? String(card.id) : "";
    }

    // amoCRM's own modal window (lib/components/base/modal); the widget draws
    // only into its body.
    function openModal(route) {
      var t = texts();
      closeModal();
      modal = new Modal({
        class_name: "leadrouter-modal",
        init: function ($modal_body) {
          var body = $modal_body[0];
          body.innerHTML =
            '<div class="leadrouter-window" style="width:min(960px,92vw);height:min(760px,86vh);display:flex;flex-direction:column;' +
            'font:14px/1.4 system-ui,-apple-system,Roboto,sans-serif;color:#1b1f24">' +
            '<div style="display:flex;justify-content:space-between;align-items:center;padding:0 0 8px;border-bottom:1px solid #c9d0d8">' +
            "<h2 style=\"margin:0;font-size:16px\">" + escapeHtml(t.title) + "</h2>" +
            '<button type="button" class="leadrouter-close" style="font:inherit;padding:4px 10px;cursor:pointer">' +
            escapeHtml(t.close) + "</button>" +
            "</div>" +
            '<div class="leadrouter-body" style="flex:1;min-height:0"></div>' +
            "</div>";
          body.querySelector(".leadrouter-close").addEventListener("click", closeModal);
          body.querySelector(".leadrouter-close").focus();
          openFrame(body.querySelector(".leadrouter-body"), route || "lead");
        },
        destroy: function () {
          modal = null;
        },
      });
    }

    function buttonHtml(area) {
      var t = texts();
      return (
        '<div class="leadrouter-widget" style="padding:8px 0">' +
        '<button type="button" class="leadrouter-get-lead button-input button-input_blue" ' +
        'style="width:100%;padding:10px;font-weight:600;cursor:pointer">' +
        escapeHtml(t.button) +
        "</button>" +
        (area === "lcard" && cardLead()
          ? '<button type="button" class="leadrouter-lead-view button-input" ' +
            'style="width:100%;margin-top:6px;padding:8px;cursor:pointer">' +
            escapeHtml(t.lead_button) +
            "</button>"
          : "") +
        "</div>"
      );
    }

    this.callbacks = {
      render: function () {
        var area = (self.system && self.system().area) || "";
        if (area === "lcard" || area === "llist") {
          self.render_template({
            caption: { class_name: "leadrouter-caption", html: escapeHtml(texts().caption) },
            body: "",
            render: buttonHtml(area),
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
          buttons[i].addEventListener("click", function () {
            openModal("lead");
          });
        }
        var views = document.querySelectorAll(".leadrouter-lead-view");
        for (var j = 0; j < views.length; j++) {
          if (views[j].dataset.bound) continue;
          views[j].dataset.bound = "1";
          views[j].addEventListener("click", function () {
            openModal("card/" + encodeURIComponent(cardLead()));
          });
        }
        return true;
      },
      // $modal_body: the right part of the widget's settings window (jQuery).
      settings: function ($modal_body) {
        var body = $modal_body && $modal_body[0];
        if (!body) return true;
        var place = body.querySelector(".widget_settings_block") || body;
        if (place.querySelector(".leadrouter-note")) return true;
        var hint = document.createElement("p");
        hint.className = "leadrouter-note";
        hint.textContent = texts().settings_hint;
        place.appendChild(hint);
        return true;
      },
      advancedSettings: function () {
        // The page's work area; amoCRM leaves the whole page to the widget.
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
