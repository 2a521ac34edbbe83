// Leads that wait: those push distribution holds (why, and for how long) and
// pools nobody may take a lead from now, with their leads. The banner links here.

import { gql } from "../api.js";
import { h, replace } from "../dom.js";
import { t, formatDateTime } from "../i18n.js";
import { formatAge, sentences } from "../waiting.js";

const LIST = `{
  waitingLeads(first: 200) {
    total oldestWaitSeconds
    groups { groupId reason count oldestWaitSeconds }
    stuckPools { groupId groupName leads }
    leads { leadId lead { name } groupName reason since waitSeconds }
  }
}`;

// The first leads of each pool nobody may take from, in claim order: one
// request for all such pools.
const POOL_LEADS = 20;

async function poolLeads(pools) {
  if (!pools.length) return [];
  const fields = pools.map(
    (p, i) =>
      `p${i}: pool(groupId: ${JSON.stringify(p.groupId)}, first: ${POOL_LEADS}) { totalCount edges { node { id name createdAt } } }`,
  );
  const found = await gql(`{ ${fields.join("\n")} }`);
  return pools.map((p, i) => ({ pool: p, page: found[`p${i}`] }));
}

function historyLink(leadId) {
  return h("a", { href: `#/journal?lead=${encodeURIComponent(leadId)}` }, t("waiting.history"));
}

function table(className, caption, columns, rows) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: className },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, columns.map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, rows),
    ),
  );
}

function poolTable({ pool, page }, tz) {
  const rows = page.edges.map(({ node }) =>
    h(
      "tr",
      {},
      h("td", {}, `${node.name} (${node.id})`),
      h("td", {}, formatDateTime(node.createdAt, tz)),
      h("td", {}, historyLink(node.id)),
    ),
  );
  const caption = t("waiting.poolCaption", { group: pool.groupName, count: page.totalCount, shown: rows.length });
  return table("waiting-pool", caption, ["waiting.col.lead", "waiting.col.created", "waiting.col.history"], rows);
}

function why(reason) {
  const key = `waiting.reason.${reason}`;
  const text = t(key);
  return text === key ? reason : text;
}

export async function render(ctx) {
  const { main, viewer } = ctx;
  const tz = viewer.account.timezone;
  const waiting = (await gql(LIST)).waitingLeads;
  const pools = await poolLeads(waiting.stuckPools);
  const lines = sentences(waiting);
  const rows = waiting.leads.map((x) =>
    h(
      "tr",
      {},
      h("td", {}, x.lead ? `${x.lead.name} (${x.leadId})` : x.leadId),
      h("td", {}, x.groupName ?? t("waiting.noGroup")),
      h("td", {}, why(x.reason)),
      h("td", {}, formatAge(x.waitSeconds)),
      h("td", {}, formatDateTime(x.since, tz)),
      h("td", {}, historyLink(x.leadId)),
    ),
  );
  replace(
    main,
    h("h1", {}, t("waiting.title")),
    lines.length
      ? h("ul", { class: "waiting-summary" }, lines.map((line) => h("li", {}, line)))
      : h("p", { class: "muted" }, t("waiting.none")),
    rows.length
      ? table(
          "waiting",
          t("waiting.caption"),
          ["waiting.col.lead", "waiting.col.group", "waiting.col.why", "waiting.col.for", "waiting.col.since", "waiting.col.history"],
          rows,
        )
      : null,
    pools.map((found) => poolTable(found, tz)),
  );
  return null;
}
