// One lead: its facts and history, and for admins the reopen button of seed 002
// ("Отозвать сделку"), which names the stage the lead returns to before the
// admin confirms. The reopening then shows in the history and the journal.

import { gql } from "../api.js";
import { h, replace, announce } from "../dom.js";
import { t, formatDateTime, formatNumber } from "../i18n.js";

const HISTORY = `query($id: ID!) {
  leadHistory(leadId: $id) {
    lead { id name budget channel pipeline stage responsible createdAt closedAt lossReason }
    reopensTo
    entries { at type by stage responsible lossReason }
  }
}`;
const REOPEN = `mutation($id: ID!) { reopenLead(leadId: $id) { id pipeline stage } }`;

export async function render(ctx) {
  const { main, viewer } = ctx;
  const tz = viewer.account.timezone;
  const id = decodeURIComponent(ctx.route.rest.join("/"));
  const admin = viewer.role === "ADMIN";
  const meta = await gql(`{ users { id name } pipelines { id name stages { id name } } }`);
  const userName = new Map(meta.users.map((u) => [u.id, u.name || u.id]));
  const stageName = new Map(meta.pipelines.flatMap((p) => p.stages.map((s) => [s.id, `${p.name}: ${s.name}`])));
  const who = (user) => (user ? userName.get(user) || user : "");
  const stage = (key) => stageName.get(key) || key || "";
  const notice = h("div", { role: "status" });

  async function draw() {
    const { lead, reopensTo, entries } = (await gql(HISTORY, { id })).leadHistory;
    const facts = [
      ["lead.field.id", lead.id],
      ["lead.field.stage", stage(`${lead.pipeline}/${lead.stage}`)],
      ["leads.col.responsible", who(lead.responsible)],
      ["lead.field.budget", formatNumber(lead.budget)],
      ["lead.field.channel", lead.channel || t("none")],
      ["lead.field.created", formatDateTime(lead.createdAt, tz)],
      lead.closedAt ? ["leads.col.closed", formatDateTime(lead.closedAt, tz)] : null,
      lead.lossReason ? ["leads.col.lossReason", lead.lossReason] : null,
    ].filter(Boolean);
    const reopen = h("div", { id: "card-reopen" });
    if (admin && reopensTo) drawReopenButton(reopen, reopensTo);
    replace(
      main,
      h("h1", {}, lead.name || lead.id),
      notice,
      h(
        "section",
        { class: "card", "aria-label": t("card.facts") },
        h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, t(k)), h("dd", {}, v)])),
        reopen,
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "card-history-title" },
        h("h2", { id: "card-history-title" }, t("card.history")),
        h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "history" },
            h("thead", {}, h("tr", {}, ["card.when", "card.what", "card.who"].map((k) => h("th", { scope: "col" }, t(k))))),
            h("tbody", {}, entries.map((e) => h("tr", { dataset: { type: e.type } }, h("td", {}, formatDateTime(e.at, tz)), h("td", {}, what(e)), h("td", {}, who(e.by))))),
          ),
        ),
        h("p", {}, h("a", { href: `#/journal?lead=${encodeURIComponent(lead.id)}` }, t("card.journal"))),
      ),
    );
  }

  function what(e) {
    const values = { stage: stage(e.stage), user: who(e.responsible), reason: e.lossReason || "" };
    if (e.type === "stage_changed" && e.lossReason) return t("card.event.lost", values);
    const key = `card.event.${e.type}`;
    const text = t(key, values);
    return text === key ? e.type : text;
  }

  function drawReopenButton(place, target) {
    const button = h("button", { type: "button" }, t("card.reopen"));
    button.addEventListener("click", () => confirmReopen(place, target));
    replace(place, button);
  }

  // The stage is named before anything changes; only "Reopen" changes it.
  function confirmReopen(place, target) {
    const yes = h("button", { type: "button", class: "primary" }, t("card.reopenConfirm"));
    const no = h("button", { type: "button" }, t("cancel"));
    const error = h("p", { class: "error", role: "alert" });
    const question = h("p", { class: "question" }, t("card.reopenQuestion", { stage: stage(target) }));
    replace(place, h("div", { class: "confirm", role: "group", "aria-label": t("card.reopen") }, question, h("div", { class: "row" }, yes, no), error));
    announce(question.textContent);
    yes.focus();
    no.addEventListener("click", () => drawReopenButton(place, target));
    yes.addEventListener("click", async () => {
      yes.disabled = no.disabled = true;
      try {
        const lead = (await gql(REOPEN, { id })).reopenLead;
        await draw();
        const done = t("card.reopened", { stage: stage(`${lead.pipeline}/${lead.stage}`) });
        replace(notice, h("p", { class: "notice ok" }, done));
        announce(done);
      } catch (err) {
        error.textContent = t("error.generic", { message: err.message });
        yes.disabled = no.disabled = false;
      }
    });
  }

  await draw();
}
