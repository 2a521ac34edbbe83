// Head of sales: move a manager's leads (all, or those a filter picks) to another manager.
// Preview counts with dryRun; Confirm moves them under one idempotency key, kept for a retry.

import { gql } from "../api.js";
import { h, replace, announce } from "../dom.js";
import { t, zonedInstant } from "../i18n.js";

const TRANSFER = `mutation($from: ID!, $to: ID!, $filter: LeadFilter, $cascade: Boolean!, $key: String, $dry: Boolean!) {
  transferLeads(fromUserId: $from, toUserId: $to, filter: $filter, cascade: $cascade, idempotencyKey: $key, dryRun: $dry) {
    dryRun batchId leads tasks contacts companies leadIds skippedLeadIds batches
  }
}`;

export function newKey() {
  if (globalThis.crypto?.randomUUID) return `transfer-${crypto.randomUUID()}`;
  return `transfer-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

// "2026-03-01" in the account's timezone → the instant of its midnight (plus `days`).
export function dayStart(value, tz, days = 0) {
  const [y, m, d] = value.split("-").map(Number);
  const local = new Date(Date.UTC(y, m - 1, d + days));
  return zonedInstant(local.getUTCFullYear(), local.getUTCMonth() + 1, local.getUTCDate(), 0, 0, tz).toISOString();
}

// The filter's pipeline: any, or one of the pipelines in use.
export function pipelineSelect(id, pipelines) {
  return h(
    "select",
    { id },
    h("option", { value: "" }, t("transfer.anyPipeline")),
    pipelines.filter((p) => !p.archived).map((p) => h("option", { value: p.id }, p.name)),
  );
}

export function countList(c) {
  return h(
    "dl",
    { class: "facts counts" },
    ["leads", "tasks", "contacts", "companies"].map((k) => [
      h("dt", {}, t(`transfer.count.${k}`)),
      h("dd", { dataset: { count: k } }, String(c[k])),
    ]),
  );
}

function counts(result) {
  return {
    leads: result.leads,
    tasks: result.tasks,
    contacts: result.contacts,
    companies: result.companies,
  };
}

export async function render(ctx) {
  const { main, viewer } = ctx;
  const tz = viewer.account.timezone;
  const { users, pipelines } = await gql(`{ users { id name } pipelines { id name archived stages { id name kind } } }`);
  const names = new Map(users.map((u) => [u.id, u.name]));
  const userOptions = (placeholder) => [
    h("option", { value: "" }, placeholder),
    users.map((u) => h("option", { value: u.id }, u.name)),
  ];

  const from = h("select", { id: "tr-from", required: true, "aria-describedby": "tr-error" }, userOptions(t("transfer.choose")));
  const to = h("select", { id: "tr-to", required: true, "aria-describedby": "tr-error" }, userOptions(t("transfer.choose")));
  const pipeline = pipelineSelect("tr-pipeline", pipelines);
  const stageBox = h("div", { class: "row stages" });
  const createdFrom = h("input", { id: "tr-created-from", type: "date" });
  const createdTo = h("input", { id: "tr-created-to", type: "date" });
  const noOpenTask = h("input", { id: "tr-no-task", type: "checkbox" });
  const cascade = h("input", { id: "tr-cascade", type: "checkbox", checked: true, "aria-describedby": "tr-cascade-help" });
  const error = h("p", { id: "tr-error", class: "error", role: "alert" });
  const preview = h("button", { type: "submit", class: "primary" }, t("transfer.preview"));
  const panel = h("div", { id: "tr-panel", tabindex: "-1" });

  function drawStages() {
    const chosen = pipelines.filter((p) => !p.archived && (!pipeline.value || p.id === pipeline.value));
    replace(
      stageBox,
      chosen.flatMap((p) =>
        p.stages.map((s) => {
          const id = `tr-stage-${s.id.replace(/[^\w-]/g, "-")}`;
          return h(
            "label",
            { class: "check", for: id },
            h("input", { id, type: "checkbox", name: "stage", value: s.id }),
            chosen.length > 1 ? ` ${p.name}: ${s.name}` : ` ${s.name}`,
          );
        }),
      ),
    );
  }
  pipeline.addEventListener("change", () => {
    drawStages();
    stale();
  });
  drawStages();

  // What the form asks for now; a change after a preview asks for a new preview.
  function request() {
    const filter = { noOpenTask: noOpenTask.checked };
    if (pipeline.value) filter.pipeline = pipeline.value;
    const stages = [...stageBox.querySelectorAll("input[name=stage]:checked")].map((i) => i.value);
    if (stages.length) filter.stages = stages;
    if (createdFrom.value) filter.createdFrom = dayStart(createdFrom.value, tz);
    if (createdTo.value) filter.createdTo = dayStart(createdTo.value, tz, 1); // the whole last day
    return { from: from.value, to: to.value, filter, cascade: cascade.checked };
  }

  let pending = null; // { vars, key } of the previewed transfer
  function stale() {
    if (pending) {
      pending = null;
      replace(panel);
    }
  }
  for (const el of [from, to, createdFrom, createdTo, noOpenTask, cascade]) el.addEventListener("change", stale);
  stageBox.addEventListener("change", stale);

  async function onPreview(e) {
    e.preventDefault();
    error.textContent = "";
    if (!from.value || !to.value) {
      error.textContent = t("transfer.needUsers");
      (from.value ? to : from).focus();
      return;
    }
    if (from.value === to.value) {
      error.textContent = t("transfer.sameUser");
      to.focus();
      return;
    }
    const vars = request();
    preview.disabled = true;
    replace(panel, h("p", { class: "muted", role: "status" }, t("transfer.counting")));
    try {
      const result = (await gql(TRANSFER, { ...vars, key: null, dry: true })).transferLeads;
      showPreview(vars, result);
    } catch (err) {
      replace(panel, h("p", { class: "notice bad", role: "alert" }, t("error.generic", { message: err.message })));
    } finally {
      preview.disabled = false;
    }
  }

  function showPreview(vars, result) {
    const who = { from: names.get(vars.from) || vars.from, to: names.get(vars.to) || vars.to };
    if (!result.leads) {
      pending = null;
      replace(panel, h("p", { class: "notice", role: "status" }, t("transfer.nothing", who)));
      announce(panel.textContent);
      return;
    }
    pending = { vars, key: null };
    const status = h("p", { class: "error", role: "alert" });
    const confirm = h("button", { type: "button", class: "primary" }, t("transfer.confirm"));
    const cancel = h("button", { type: "button" }, t("cancel"));
    confirm.addEventListener("click", async () => {
      if (!pending) return;
      // One key per confirmed transfer: pressing again after a failure sends the same
      // key, and the service finishes the run without moving anything twice.
      pending.key ||= newKey();
      confirm.disabled = cancel.disabled = preview.disabled = true;
      status.textContent = "";
      replace(progress, t("transfer.moving"));
      try {
        const done = (await gql(TRANSFER, { ...pending.vars, key: pending.key, dry: false })).transferLeads;
        pending = null;
        showDone(vars, done);
      } catch (err) {
        progress.textContent = "";
        status.textContent = t("transfer.failed", { message: err.message });
        confirm.disabled = cancel.disabled = false;
        confirm.focus();
      } finally {
        preview.disabled = false;
      }
    });
    cancel.addEventListener("click", () => {
      pending = null;
      replace(panel);
      preview.focus();
    });
    const progress = h("p", { class: "muted", role: "status" });
    replace(
      panel,
      h(
        "section",
        { class: "card confirm", "aria-labelledby": "tr-confirm-title" },
        h("h2", { id: "tr-confirm-title" }, t("transfer.confirmTitle")),
        h("p", { class: "question" }, t("transfer.question", { ...who, ...counts(result) })),
        countList(result),
        vars.cascade ? null : h("p", { class: "muted" }, t("transfer.noCascade")),
        h("div", { class: "row" }, confirm, cancel),
        progress,
        status,
      ),
    );
    announce(panel.querySelector(".question").textContent);
    confirm.focus();
  }

  function showDone(vars, result) {
    const who = { from: names.get(vars.from) || vars.from, to: names.get(vars.to) || vars.to };
    replace(
      panel,
      h(
        "section",
        { class: "card", "aria-labelledby": "tr-done-title" },
        h("h2", { id: "tr-done-title" }, t("transfer.doneTitle")),
        h("p", { class: "notice ok", role: "status" }, t("transfer.done", { ...who, ...counts(result), batches: result.batches })),
        countList(result),
        result.skippedLeadIds.length
          ? h("p", { class: "muted" }, t("transfer.skipped", { count: result.skippedLeadIds.length }))
          : null,
        h("p", { class: "muted" }, t("transfer.batch", { id: result.batchId }), " ", h("a", { href: "#/journal" }, t("transfer.toJournal"))),
      ),
    );
    announce(panel.querySelector(".notice").textContent);
    panel.focus();
  }

  const field = (id, label, control, extra) => h("div", { class: "field" }, h("label", { for: id }, label), control, extra);
  replace(
    main,
    h("h1", {}, t("transfer.title")),
    h("p", { class: "muted" }, t("transfer.intro")),
    h(
      "form",
      { class: "card", onsubmit: onPreview, novalidate: true },
      h("div", { class: "row" }, field("tr-from", t("transfer.from"), from), field("tr-to", t("transfer.to"), to)),
      h(
        "fieldset",
        { class: "filter" },
        h("legend", {}, t("transfer.filter")),
        h(
          "div",
          { class: "row" },
          field("tr-pipeline", t("transfer.pipeline"), pipeline),
          field("tr-created-from", t("transfer.createdFrom"), createdFrom),
          field("tr-created-to", t("transfer.createdTo"), createdTo),
        ),
        h("fieldset", { class: "plain" }, h("legend", {}, t("transfer.stages")), stageBox),
        h("label", { class: "check", for: "tr-no-task" }, noOpenTask, ` ${t("transfer.noOpenTask")}`),
      ),
      h(
        "div",
        { class: "field-check" },
        h("label", { class: "check", for: "tr-cascade" }, cascade, ` ${t("transfer.cascade")}`),
        h("p", { id: "tr-cascade-help", class: "muted" }, t("transfer.cascadeHelp")),
      ),
      error,
      h("div", { class: "row" }, preview),
    ),
    panel,
  );
}
