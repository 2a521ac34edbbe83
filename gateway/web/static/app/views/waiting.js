// Leads that wait: those push distribution holds (why, and for how long) and
// pools nobody may take a lead from now. The banner links here.

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

function why(reason) {
  const key = `waiting.reason.${reason}`;
  const text = t(key);
  return text === key ? reason : text;
}

export async function render(ctx) {
  const { main, viewer } = ctx;
  const tz = viewer.account.timezone;
  const waiting = (await gql(LIST)).waitingLeads;
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
      h("td", {}, h("a", { href: `#/journal?lead=${encodeURIComponent(x.leadId)}` }, t("waiting.history"))),
    ),
  );
  replace(
    main,
    h("h1", {}, t("waiting.title")),
    lines.length
      ? h("ul", { class: "waiting-summary" }, lines.map((line) => h("li", {}, line)))
      : h("p", { class: "muted" }, t("waiting.none")),
    rows.length
      ? h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "waiting" },
            h("caption", {}, t("waiting.caption")),
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                ["waiting.col.lead", "waiting.col.group", "waiting.col.why", "waiting.col.for", "waiting.col.since", "waiting.col.history"].map(
                  (k) => h("th", { scope: "col" }, t(k)),
                ),
              ),
            ),
            h("tbody", {}, rows),
          ),
        )
      : null,
  );
  return null;
}
