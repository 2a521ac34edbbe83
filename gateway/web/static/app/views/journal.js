// The decision journal: newest first, live, with a page explaining one decision.

import { gql, live } from "../api.js";
import { h, replace, announce, uid } from "../dom.js";
import { t, has, formatDateTime } from "../i18n.js";
import { reasonList } from "../reasons.js";

// Names come with each decision, so any caller reads people, leads and groups
// by name; the ids stay for the filters and for machines.
const FIELDS =
  "id kind outcome groupId groupName actor actorName leadId leadName assignee assigneeName at templateId algorithm traceId";

// People's names by id for the user filter; ids stay for callers who may not list users.
async function userNames() {
  try {
    return new Map((await gql("{ users { id name } }")).users.map((u) => [u.id, u.name]));
  } catch {
    return new Map();
  }
}

function word(prefix, value) {
  return value && has(`${prefix}.${value}`) ? t(`${prefix}.${value}`) : value || t("none");
}

// Any JSON as a person reads it: objects as definition lists, lists of objects as tables.
function jsonView(value) {
  if (value === null || value === undefined) return t("none");
  if (Array.isArray(value)) {
    if (value.length && value.every((v) => v && typeof v === "object" && !Array.isArray(v))) {
      const keys = [...new Set(value.flatMap((v) => Object.keys(v)))];
      return h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          {},
          h("thead", {}, h("tr", {}, keys.map((k) => h("th", { scope: "col" }, k)))),
          h("tbody", {}, value.map((v) => h("tr", {}, keys.map((k) => h("td", {}, jsonView(v[k])))))),
        ),
      );
    }
    return value.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(", ") || t("none");
  }
  if (typeof value === "object") {
    return h(
      "dl",
      { class: "facts" },
      Object.entries(value).map(([k, v]) => [h("dt", {}, k), h("dd", {}, jsonView(v))]),
    );
  }
  return String(value);
}

// "Ursula (ursula)": the name a person reads, and the id the filters take.
function named(name, id) {
  if (!id) return null;
  return name && name !== id ? `${name} (${id})` : id;
}

async function detail(ctx, id) {
  const tz = ctx.viewer.account.timezone;
  const d = (
    await gql(
      `query($id: ID!) { decision(id: $id) { ${FIELDS} details
        reasons { code limit value threshold passesAt periodCount } } }`,
      { id },
    )
  ).decision;
  const facts = [
    ["journal.when", formatDateTime(d.at, tz, { timeStyle: "medium" })],
    ["journal.kind", word("kind", d.kind)],
    ["journal.outcome", word("outcome", d.outcome)],
    ["journal.group", named(d.groupName, d.groupId)],
    ["journal.actor", named(d.actorName, d.actor)],
    ["journal.lead", named(d.leadName, d.leadId)],
    ["journal.assignee", named(d.assigneeName, d.assignee)],
    ["journal.template", d.templateId],
    ["journal.algorithm", d.algorithm],
    ["journal.trace", d.traceId],
  ];
  replace(
    ctx.main,
    h("p", {}, h("a", { href: "#/journal" }, t("journal.back"))),
    h("h1", {}, t("journal.decision", { id: d.id })),
    h(
      "section",
      { class: "card" },
      h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, t(k)), h("dd", {}, v ?? t("none"))])),
    ),
    d.reasons.length
      ? h("section", { class: "card", "aria-labelledby": "reasons-title" }, h("h2", { id: "reasons-title" }, t("journal.reasons")), reasonList(d.reasons, tz))
      : null,
    h("section", { class: "card" }, h("h2", {}, t("journal.details")), jsonView(d.details)),
  );
}

export async function render(ctx) {
  if (ctx.route.rest[0]) return detail(ctx, decodeURIComponent(ctx.route.rest[0]));
  const { main, viewer, features } = ctx;
  const tz = viewer.account.timezone;
  const names = viewer.role === "MANAGER" ? new Map() : await userNames();
  const filters = { lead: ctx.route.query.get("lead") || "", user: ctx.route.query.get("user") || "" };
  const tbody = h("tbody");
  const more = h("button", { type: "button" }, t("journal.more"));
  const liveNote = h("p", { class: "live", role: "status" });
  let after = null;
  let newest = null;

  function rowOf(d) {
    return h(
      "tr",
      { dataset: { id: d.id, outcome: d.outcome } },
      h("td", {}, h("a", { href: `#/journal/${encodeURIComponent(d.id)}` }, formatDateTime(d.at, tz, { timeStyle: "medium" }))),
      h("td", {}, word("kind", d.kind)),
      h("td", {}, word("outcome", d.outcome)),
      h("td", {}, d.actorName || d.actor || t("none")),
      h("td", {}, d.leadName || d.leadId || t("none")),
      h("td", {}, d.assigneeName || d.assignee || t("none")),
      h("td", {}, d.groupName || d.groupId || t("none")),
    );
  }

  async function load() {
    more.disabled = true;
    const page = (
      await gql(
        `query($lead: ID, $user: ID, $after: String) {
          decisions(leadId: $lead, userId: $user, first: 25, after: $after) {
            edges { node { ${FIELDS} } } pageInfo { hasNextPage endCursor }
          }
        }`,
        { lead: filters.lead || null, user: filters.user || null, after },
      )
    ).decisions;
    for (const e of page.edges) tbody.append(rowOf(e.node));
    newest ??= page.edges[0]?.node.id ?? null;
    after = page.pageInfo.endCursor;
    more.hidden = !page.pageInfo.hasNextPage;
    more.disabled = false;
    if (!tbody.children.length) tbody.append(h("tr", { class: "empty" }, h("td", { colspan: 7 }, t("journal.empty"))));
  }
  more.addEventListener("click", load);

  const leadId = uid("lead");
  const userId = uid("user");
  const form = h(
    "form",
    {
      class: "row card",
      role: "search",
      onsubmit: (e) => {
        e.preventDefault();
        const q = new URLSearchParams();
        const lead = form.querySelector(`#${leadId}`).value.trim();
        const user = form.querySelector(`#${userId}`)?.value.trim();
        if (lead) q.set("lead", lead);
        if (user) q.set("user", user);
        ctx.navigate(`journal${q.size ? `?${q}` : ""}`);
      },
    },
    h("div", { class: "field" }, h("label", { for: leadId }, t("journal.filterLead")), h("input", { id: leadId, value: filters.lead })),
    viewer.role === "MANAGER"
      ? null
      : h(
          "div",
          { class: "field" },
          h("label", { for: userId }, t("journal.filterUser")),
          names.size
            ? h(
                "select",
                { id: userId },
                h("option", { value: "" }, t("reports.all")),
                [...names].map(([id, name]) => h("option", { value: id, selected: id === filters.user }, name)),
              )
            : h("input", { id: userId, value: filters.user }),
        ),
    h("button", { type: "submit" }, t("journal.filter")),
  );

  replace(
    main,
    h("h1", {}, t("journal.title")),
    form,
    liveNote,
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "journal" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["journal.when", "journal.kind", "journal.outcome", "journal.actor", "journal.lead", "journal.assignee", "journal.group"].map(
              (k) => h("th", { scope: "col" }, t(k)),
            ),
          ),
        ),
        tbody,
      ),
    ),
    h("p", {}, more),
  );
  await load();

  if (!features.has("decisionMade")) return null;
  const stops = [
    live.onStatus((up) => {
      liveNote.textContent = up ? t("live.on") : t("live.off");
    }),
    live.subscribe(
      `subscription($after: ID) { decisionMade(after: $after) { ${FIELDS} } }`,
      () => ({ after: newest }),
      (payload) => {
        const d = payload.data?.decisionMade;
        if (!d) return;
        newest = d.id;
        if (filters.lead && d.leadId !== filters.lead) return;
        if (filters.user && d.actor !== filters.user && d.assignee !== filters.user) return;
        tbody.querySelector("tr.empty")?.remove();
        if (!tbody.querySelector(`tr[data-id="${CSS.escape(d.id)}"]`)) {
          tbody.prepend(rowOf(d));
          announce(t("journal.new", { text: `${word("kind", d.kind)}, ${word("outcome", d.outcome)}` }));
        }
      },
    ),
  ];
  return () => stops.forEach((stop) => stop());
}
