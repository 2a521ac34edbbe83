// The single-page app: sign-in, the shell with its navigation, and hash routes.

import { gql, live, session, GraphQLError, NetworkError } from "./api.js";
import { h, replace, announce } from "./dom.js";
import { initialLang, setLang, lang, t, LANGS } from "./i18n.js";
import { waitingBanner } from "./waiting.js";
import { connectionBanner } from "./connection.js";

const params = new URLSearchParams(location.search);
const embed = params.get("embed") === "amocrm" ? { crm: params.get("crm") || "" } : null;

// A token handed over in the fragment (the widget, or a link) is kept for this tab only.
const fragment = new URLSearchParams(location.hash.startsWith("#token=") ? location.hash.slice(1) : "");
if (fragment.get("token")) {
  session.token = fragment.get("token");
  history.replaceState(null, "", `${location.pathname}${location.search}#/${fragment.get("route") || ""}`);
}

setLang(initialLang(params, Boolean(embed)));
if (embed) document.body.classList.add("embedded");

const ROUTES = {
  lead: { module: "./views/lead.js", nav: "nav.lead", roles: ["MANAGER", "ADMIN"] },
  settings: { module: "./views/settings.js", nav: "nav.settings", roles: ["ADMIN"] },
  schedules: { module: "./views/schedules.js", nav: "nav.schedules", roles: ["ADMIN", "VIEWER"] },
  templates: { module: "./views/templates.js", nav: "nav.templates", roles: ["ADMIN", "VIEWER"] },
  workspace: { module: "./views/workspace.js", nav: "nav.workspace", roles: ["ADMIN"] },
  leads: { module: "./views/leads.js", nav: "nav.leads", roles: ["ADMIN"], needs: "matchingLeadIds" },
  transfer: { module: "./views/transfer.js", nav: "nav.transfer", roles: ["ADMIN"], needs: "transferLeads" },
  reports: {
    module: "./views/reports.js",
    nav: "nav.reports",
    roles: ["ADMIN", "VIEWER", "MANAGER"],
    needs: "distributionReport",
  },
  whatif: { module: "./views/whatif.js", nav: "nav.whatif", roles: ["ADMIN"], needs: "simulate" },
  journal: { module: "./views/journal.js", nav: "nav.journal", roles: ["ADMIN", "VIEWER", "MANAGER", "PARTNER"] },
  // One lead: reached from the leads list and the widget in the lead's card.
  card: { module: "./views/card.js", nav: "nav.card", roles: ["ADMIN", "MANAGER"], needs: "leadHistory", menu: false },
  // Reached from the banner that says leads wait, not from the menu.
  waiting: { module: "./views/waiting.js", nav: "nav.waiting", roles: ["ADMIN", "VIEWER"], needs: "waitingLeads", menu: false },
};
const HOME = { MANAGER: "lead", ADMIN: "settings", VIEWER: "reports", PARTNER: "journal" };

const state = { viewer: null, features: new Set(), cleanup: null, embed };

function parseRoute() {
  const [path, query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const [name, ...rest] = path.split("/").filter(Boolean);
  return { name, rest, query: new URLSearchParams(query) };
}

export function navigate(path) {
  location.hash = `#/${path}`;
}

function allowed(name) {
  const route = ROUTES[name];
  if (!route || !state.viewer) return false;
  if (!route.roles.includes(state.viewer.role)) return false;
  return !route.needs || state.features.has(route.needs);
}

function langSwitch() {
  const select = h(
    "select",
    {
      id: "lang",
      onchange: (e) => {
        setLang(e.target.value);
        render();
      },
    },
    LANGS.map((code) =>
      h("option", { value: code, selected: code === lang() }, code === "ru" ? "Русский" : "English"),
    ),
  );
  return h("div", { class: "lang" }, h("label", { for: "lang" }, t("lang.label")), select);
}

function shell(active) {
  const header = document.getElementById("header");
  const viewer = state.viewer;
  const links = Object.keys(ROUTES)
    .filter((name) => allowed(name) && ROUTES[name].menu !== false)
    .map((name) =>
      h(
        "a",
        {
          href: `#/${name}`,
          "aria-current": name === active ? "page" : undefined,
        },
        t(ROUTES[name].nav),
      ),
    );
  replace(
    header,
    h("a", { class: "skip", href: "#main" , onclick: (e) => { e.preventDefault(); document.getElementById("main").focus(); } }, t("app.skip")),
    h(
      "div",
      { class: "bar" },
      h("span", { class: "brand" }, t("app.name")),
      viewer
        ? h(
            "span",
            { class: "who" },
            `${viewer.user.name} · ${t(`role.${viewer.role}`)}`,
          )
        : null,
      langSwitch(),
      viewer && !embed
        ? h(
            "button",
            {
              type: "button",
              class: "link",
              onclick: () => {
                session.token = null;
                live.reset();
                state.viewer = null;
                navigate("signin");
                render();
              },
            },
            t("signout"),
          )
        : null,
    ),
    links.length > 1 ? h("nav", { "aria-label": t("nav.label") }, links) : null,
  );
  const ticket = ++bannerTicket;
  if (viewer) showConnection(header, ticket, viewer.account.timezone);
  if (viewer && allowed("waiting") && active !== "waiting") showWaiting(header, ticket);
}

// Everyone is told while amoCRM does not take the account's changes.
async function showConnection(header, ticket, tz) {
  const banner = await connectionBanner(tz);
  if (banner && ticket === bannerTicket) header.append(banner);
}

// The head of sales is told when leads wait, on every screen; a banner that
// arrives after the header was drawn again is dropped.
let bannerTicket = 0;
async function showWaiting(header, ticket) {
  const banner = await waitingBanner();
  if (banner && ticket === bannerTicket) header.append(banner);
}

function signIn(main, message) {
  shell(null);
  const input = h("textarea", {
    id: "token",
    name: "token",
    rows: 4,
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": "token-help token-error",
  });
  const error = h("p", { id: "token-error", class: "error", role: "alert" }, message || "");
  const form = h(
    "form",
    {
      class: "card signin",
      onsubmit: async (e) => {
        e.preventDefault();
        const token = input.value.trim();
        if (!token) {
          error.textContent = t("signin.empty");
          input.focus();
          return;
        }
        session.token = token;
        signingIn = true;
        try {
          await loadViewer();
          navigate(HOME[state.viewer.role] || "journal");
          render();
        } catch (err) {
          session.token = null;
          error.textContent = t("signin.bad", { message: err.message });
          input.focus();
        } finally {
          signingIn = false;
        }
      },
    },
    h("h1", { tabindex: "-1" }, t("signin.title")),
    h("p", { id: "token-help" }, t("signin.intro")),
    h("label", { for: "token" }, t("signin.token")),
    input,
    error,
    h("button", { type: "submit", class: "primary" }, t("signin.submit")),
  );
  replace(main, form);
  input.focus();
}

async function loadViewer() {
  const data = await gql(`{
    viewer { user { id name } account { id timezone } role }
    __schema { queryType { fields { name } } mutationType { fields { name } }
               subscriptionType { fields { name } } }
  }`);
  state.viewer = data.viewer;
  const s = data.__schema;
  state.features = new Set(
    [s.queryType, s.mutationType, s.subscriptionType]
      .filter(Boolean)
      .flatMap((type) => type.fields.map((f) => f.name)),
  );
}

function showError(main, error) {
  const text =
    error instanceof NetworkError
      ? t("error.network")
      : t("error.generic", { message: error.message });
  replace(
    main,
    h(
      "div",
      { class: "card" },
      h("p", { class: "error", role: "alert" }, text),
      h("button", { type: "button", onclick: () => render() }, t("retry")),
    ),
  );
}

let rendering = 0;
export async function render() {
  const main = document.getElementById("main");
  const ticket = ++rendering;
  state.cleanup?.();
  state.cleanup = null;
  if (!session.token) {
    signIn(main);
    return;
  }
  if (!state.viewer) {
    replace(main, h("p", { class: "muted" }, t("loading")));
    try {
      await loadViewer();
    } catch (error) {
      if (error instanceof GraphQLError && error.code === "UNAUTHENTICATED") {
        session.token = null;
        signIn(main, t("error.session"));
      } else {
        shell(null);
        showError(main, error);
      }
      return;
    }
  }
  const route = parseRoute();
  if (!allowed(route.name)) {
    navigate(HOME[state.viewer.role] || "journal");
    return;
  }
  shell(route.name);
  document.title = `${t(ROUTES[route.name].nav)} · ${t("app.name")}`;
  try {
    const view = await import(ROUTES[route.name].module);
    if (ticket !== rendering) return;
    // Each render draws into its own element: a slower, superseded view that
    // finishes late writes into a detached one instead of over the current view.
    const container = h("div", { class: "view" });
    replace(main, container);
    const cleanup = await view.render({ ...state, main: container, route, navigate, rerender: render });
    if (ticket === rendering) state.cleanup = cleanup || null;
    else cleanup?.();
  } catch (error) {
    if (ticket === rendering) showError(main, error);
  }
}

let signingIn = false;
session.onExpired = () => {
  if (signingIn) return; // the sign-in form reports a refused token itself
  if (embed && window.parent !== window) {
    // The widget answers with a fresh session made from a new disposable token.
    window.parent.postMessage({ type: "leadrouter:session-expired" }, "*");
    return;
  }
  session.token = null;
  state.viewer = null;
  live.reset();
  signIn(document.getElementById("main"), t("error.session"));
};

window.addEventListener("message", (event) => {
  if (event.source !== window.parent || event.data?.type !== "leadrouter:session") return;
  session.token = event.data.token;
  state.viewer = null;
  live.reset();
  render();
});

window.addEventListener("hashchange", () => {
  const name = parseRoute().name;
  if (name === "signin" && session.token) return;
  render().then(() => {
    const heading = document.querySelector("#main h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
      announce(heading.textContent);
    }
  });
});

render();
