// Head of sales: the leads list. Filter it, select leads (on a page, or every lead
// that matches across pages), then assign them — to one user, or round robin over
// several in the order picked — or transfer them from their responsible to another.
// A dryRun states what will move; the move runs in batches of at most 50, each its
// own request under a key made of one operation key and the batch number, so a
// retry after an interruption resumes where it stopped and moves nothing twice.

import { gql, NetworkError } from "../api.js";
import { h, replace, announce } from "../dom.js";
import { t, formatDateTime } from "../i18n.js";
import { countList, dayStart, newKey, pipelineSelect } from "./transfer.js";

const PAGE = 20;
const BATCH = 50; // the services' batch: one CRM transaction, one amoCRM write

const LEADS = `query($filter: LeadFilter, $responsible: ID, $closing: LossReasonsCell, $first: Int!, $after: String) {
  leads(filter: $filter, responsible: $responsible, closing: $closing, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id name pipeline stage responsible createdAt closedAt lossReason } }
  }
}`;
const MATCHING = `query($filter: LeadFilter, $responsible: ID, $closing: LossReasonsCell) {
  matchingLeadIds(filter: $filter, responsible: $responsible, closing: $closing)
}`;

// A count of the loss-reasons report, as its link names it (reports.js).
export function closingCell(q) {
  if (!q.has("lossBy")) return null;
  const cell = { groupBy: q.get("lossBy") };
  if (q.get("from")) cell.from = q.get("from");
  if (q.get("to")) cell.to = q.get("to");
  if (q.getAll("group").length) cell.groupIds = q.getAll("group");
  if (q.getAll("user").length) cell.userIds = q.getAll("user");
  if (q.get("total")) cell.total = true;
  else cell.key = q.get("key") || null;
  if (q.get("outcome")) cell.outcome = q.get("outcome");
  if (q.has("reason")) cell.lossReason = q.get("reason");
  if (q.get("noReason")) cell.noLossReason = true;
  return cell;
}

function closingNote(q, cell) {
  const what = cell.outcome
    ? t(`reports.${cell.outcome.toLowerCase()}`)
    : `${t("reports.lost")}: ${cell.lossReason ?? t("reports.noReason")}`;
  const period = cell.from || cell.to ? `${cell.from ?? "…"} – ${cell.to ?? "…"}` : t("reports.allTime");
  return h(
    "p",
    { class: "notice", id: "ld-closing" },
    t("leads.fromReport", { name: q.get("name") || "", what, period }),
    " ",
    h("a", { href: "#/leads" }, t("leads.everyLead")),
  );
}
const RESULT = "dryRun leads tasks contacts companies leadIds skippedLeadIds batches";
const ASSIGN = `mutation($ids: [ID!]!, $users: [ID!]!, $cascade: Boolean!, $key: String, $dry: Boolean!) {
  assignLeads(leadIds: $ids, userIds: $users, cascade: $cascade, idempotencyKey: $key, dryRun: $dry) { ${RESULT} }
}`;
const TRANSFER = `mutation($from: ID!, $to: ID!, $ids: [ID!]!, $cascade: Boolean!, $key: String, $dry: Boolean!) {
  transferLeads(fromUserId: $from, toUserId: $to, filter: { leadIds: $ids }, cascade: $cascade,
                idempotencyKey: $key, dryRun: $dry) { ${RESULT} }
}`;
const KINDS = ["leads", "tasks", "contacts", "companies"];

// Round robin over users continues across batches: batch n starts where n-1 stopped.
function rotated(users, start) {
  const k = start % users.length;
  return [...users.slice(k), ...users.slice(0, k)];
}

// One request of an assignment or transfer: a dry run of all ids, or one batch.
function call(action, ids, cascade, key, dry, start = 0) {
  if (action.mode === "assign") {
    return gql(ASSIGN, { ids, users: rotated(action.users, start), cascade, key, dry }).then((d) => d.assignLeads);
  }
  return gql(TRANSFER, { from: action.from, to: action.to, ids, cascade, key, dry }).then((d) => d.transferLeads);
}

export async function render(ctx) {
  const { main, viewer } = ctx;
  const tz = viewer.account.timezone;
  const { users, pipelines } = await gql(
    `{ users { id name technical active } pipelines { id name archived stages { id name } } }`,
  );
  const names = new Map(users.map((u) => [u.id, u.name]));
  // Stage ids are "pipeline/stage" already; a lead names its pipeline and stage apart.
  const stageNames = new Map(pipelines.flatMap((p) => p.stages.map((s) => [s.id, `${p.name}: ${s.name}`])));
  const people = users.filter((u) => !u.technical && u.active);
  const closing = closingCell(ctx.route.query);

  // --- the filter ----------------------------------------------------------------
  const responsible = h(
    "select",
    { id: "ld-responsible" },
    h("option", { value: "" }, t("leads.anyone")),
    users.map((u) => h("option", { value: u.id }, u.name)),
  );
  const pipeline = pipelineSelect("ld-pipeline", pipelines);
  const stage = h("select", { id: "ld-stage" });
  const createdFrom = h("input", { id: "ld-created-from", type: "date" });
  const createdTo = h("input", { id: "ld-created-to", type: "date" });
  const noOpenTask = h("input", { id: "ld-no-task", type: "checkbox" });
  function drawStages() {
    const chosen = pipelines.filter((p) => !p.archived && (!pipeline.value || p.id === pipeline.value));
    replace(
      stage,
      h("option", { value: "" }, t("leads.anyStage")),
      chosen.flatMap((p) => p.stages.map((s) => h("option", { value: s.id }, stageNames.get(s.id)))),
    );
  }
  pipeline.addEventListener("change", drawStages);
  drawStages();

  function currentFilter() {
    const filter = { noOpenTask: noOpenTask.checked };
    if (pipeline.value) filter.pipeline = pipeline.value;
    if (stage.value) filter.stages = [stage.value];
    if (createdFrom.value) filter.createdFrom = dayStart(createdFrom.value, tz);
    if (createdTo.value) filter.createdTo = dayStart(createdTo.value, tz, 1); // the whole last day
    return { filter, responsible: responsible.value || null, closing };
  }

  // --- the list and the selection -----------------------------------------------
  let shown = currentFilter();
  let cursors = [null]; // the `after` of each page seen so far
  let pageNo = 0;
  let total = 0;
  let rows = [];
  let hasNext = false;
  const selected = new Set(); // lead ids, in the order they were selected
  const summary = h("p", { id: "ld-summary", role: "status" });
  const table = h("div", { class: "table-wrap" });
  const pager = h("div", { class: "row pager" });
  const selection = h("div", { class: "row selection", "aria-live": "polite" });
  const actions = h("div", { id: "ld-actions" });

  async function load() {
    const data = (await gql(LEADS, { ...shown, first: PAGE, after: cursors[pageNo] })).leads;
    total = data.totalCount;
    rows = data.edges.map((e) => e.node);
    cursors[pageNo + 1] = data.pageInfo.endCursor;
    hasNext = data.pageInfo.hasNextPage;
    summary.textContent = t("leads.matching", { count: total });
    drawTable();
  }

  function drawTable() {
    const boxes = [];
    const pageBox = h("input", {
      type: "checkbox",
      "aria-label": t("leads.selectPage"),
      onchange: (e) => {
        for (const r of rows) e.target.checked ? selected.add(r.id) : selected.delete(r.id);
        for (const box of boxes) box.checked = e.target.checked;
        drawSelection();
      },
    });
    // Ticking a row redraws only the selection line, so focus stays on the row.
    function syncPage() {
      pageBox.checked = rows.length > 0 && rows.every((r) => selected.has(r.id));
      drawSelection();
    }
    const row = (r) => {
      const box = h("input", {
        type: "checkbox",
        "aria-label": t("leads.selectOne", { name: r.name || r.id }),
        checked: selected.has(r.id),
        onchange: (e) => {
          e.target.checked ? selected.add(r.id) : selected.delete(r.id);
          syncPage();
        },
      });
      boxes.push(box);
      return h(
        "tr",
        { dataset: { lead: r.id } },
        h("td", {}, box),
        h("td", {}, h("a", { href: `#/card/${encodeURIComponent(r.id)}` }, r.name || r.id)),
        h("td", {}, stageNames.get(`${r.pipeline}/${r.stage}`) || r.stage),
        h("td", { dataset: { responsible: r.responsible } }, names.get(r.responsible) || r.responsible),
        h("td", {}, formatDateTime(r.createdAt, tz)),
        closing ? h("td", {}, r.closedAt ? formatDateTime(r.closedAt, tz) : "") : null,
        closing ? h("td", { class: "loss-reason" }, r.lossReason || "") : null,
      );
    };
    replace(
      table,
      h(
        "table",
        {},
        h("caption", { class: "visually-hidden" }, t("leads.title")),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, pageBox),
            ["name", "stage", "responsible", "created", ...(closing ? ["closed", "lossReason"] : [])].map((k) =>
              h("th", { scope: "col" }, t(`leads.col.${k}`)),
            ),
          ),
        ),
        h("tbody", {}, rows.map(row)),
      ),
    );
    const pages = Math.max(1, Math.ceil(total / PAGE));
    replace(
      pager,
      h("button", { type: "button", disabled: pageNo === 0, onclick: () => turn(-1) }, t("leads.previous")),
      h("span", {}, t("leads.page", { page: pageNo + 1, pages })),
      h("button", { type: "button", disabled: !hasNext, onclick: () => turn(1) }, t("leads.next")),
    );
    syncPage();
  }

  async function turn(step) {
    pageNo += step;
    await load();
  }

  function drawSelection() {
    const wholePage = rows.length > 0 && rows.every((r) => selected.has(r.id));
    replace(
      selection,
      h("span", { id: "ld-selected" }, t("leads.selected", { count: selected.size })),
      wholePage && selected.size < total
        ? h("button", { type: "button", class: "link", onclick: selectAll }, t("leads.selectAll", { count: total }))
        : null,
      selected.size
        ? h(
            "button",
            {
              type: "button",
              class: "link",
              onclick: () => {
                selected.clear();
                drawTable();
              },
            },
            t("leads.clear"),
          )
        : null,
    );
    drawActions();
  }

  async function selectAll() {
    const ids = (await gql(MATCHING, shown)).matchingLeadIds;
    for (const id of ids) selected.add(id);
    drawTable();
    announce(t("leads.selected", { count: selected.size }));
  }

  // --- assign or transfer --------------------------------------------------------
  let mode = "assign";
  const picked = []; // receivers of an assignment, in the order picked
  const panel = h("div", { id: "ld-panel", tabindex: "-1" });
  const cascade = h("input", { id: "ld-cascade", type: "checkbox", checked: true });
  const to = h("select", { id: "ld-to" }, h("option", { value: "" }, t("transfer.choose")), people.map((u) => h("option", { value: u.id }, u.name)));
  const error = h("p", { id: "ld-error", class: "error", role: "alert" });

  function drawActions() {
    if (!selected.size) {
      replace(actions);
      replace(panel);
      return;
    }
    const from = shown.responsible;
    const modes = h(
      "fieldset",
      { class: "plain" },
      h("legend", {}, t("leads.action")),
      ["assign", "transfer"].map((m) =>
        h(
          "label",
          { class: "check" },
          h("input", {
            type: "radio",
            name: "ld-mode",
            value: m,
            checked: mode === m,
            disabled: m === "transfer" && !from,
            onchange: () => {
              mode = m;
              drawActions();
            },
          }),
          ` ${m === "transfer" && from ? t("leads.transferFrom", { from: names.get(from) || from }) : t(`leads.${m}`)}`,
        ),
      ),
      from ? null : h("p", { class: "muted" }, t("leads.transferHint")),
    );
    const receivers =
      mode === "assign"
        ? h(
            "fieldset",
            { class: "plain" },
            h("legend", {}, t("leads.receivers")),
            people.map((u) =>
              h(
                "label",
                { class: "check" },
                h("input", {
                  type: "checkbox",
                  name: "ld-user",
                  value: u.id,
                  checked: picked.includes(u.id),
                  onchange: (e) => {
                    if (e.target.checked) picked.push(u.id);
                    else picked.splice(picked.indexOf(u.id), 1);
                    numberPicked();
                  },
                }),
                ` ${u.name} `,
                h("span", { class: "muted", dataset: { order: u.id } }),
              ),
            ),
          )
        : h("div", { class: "field" }, h("label", { for: "ld-to" }, t("transfer.to")), to);
    replace(
      actions,
      h(
        "form",
        { class: "card", "aria-labelledby": "ld-act-title", onsubmit: onPreview, novalidate: true },
        h("h2", { id: "ld-act-title" }, t("leads.actTitle", { count: selected.size })),
        modes,
        receivers,
        h("label", { class: "check", for: "ld-cascade" }, cascade, ` ${t("transfer.cascade")}`),
        error,
        h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, t("transfer.preview"))),
      ),
    );
    numberPicked();
  }

  // Round robin follows the order the receivers were picked in: show it.
  function numberPicked() {
    for (const span of actions.querySelectorAll("[data-order]")) {
      const order = picked.indexOf(span.dataset.order);
      span.textContent = order >= 0 && picked.length > 1 ? t("leads.order", { n: order + 1 }) : "";
    }
  }

  async function onPreview(e) {
    e.preventDefault();
    error.textContent = "";
    const action =
      mode === "assign"
        ? { mode, users: [...picked] }
        : { mode, from: shown.responsible, to: to.value };
    if (mode === "assign" ? !action.users.length : !action.to) {
      error.textContent = t("leads.needReceiver");
      return;
    }
    if (mode === "transfer" && action.from === action.to) {
      error.textContent = t("transfer.sameUser");
      return;
    }
    const ids = [...selected];
    replace(panel, h("p", { class: "muted", role: "status" }, t("transfer.counting")));
    try {
      const result = await call(action, ids, cascade.checked, null, true);
      confirmStep(action, ids, cascade.checked, result);
    } catch (err) {
      replace(panel, h("p", { class: "notice bad", role: "alert" }, t("error.generic", { message: err.message })));
    }
  }

  function receiversText(action) {
    return (action.mode === "assign" ? action.users : [action.to]).map((u) => names.get(u) || u).join(", ");
  }

  function confirmStep(action, ids, withCascade, result) {
    const chunks = [];
    for (let i = 0; i < ids.length; i += BATCH) chunks.push(ids.slice(i, i + BATCH));
    const run = { key: newKey(), next: 0, sum: { leads: 0, tasks: 0, contacts: 0, companies: 0 }, skipped: 0 };
    const confirm = h("button", { type: "button", class: "primary" }, t("leads.confirm"));
    const cancel = h(
      "button",
      {
        type: "button",
        onclick: () => {
          replace(panel);
          if (run.next) load(); // a part already moved: show the list as it is now
        },
      },
      t("cancel"),
    );
    const bar = h("progress", { id: "ld-progress", max: chunks.length, value: 0, "aria-label": t("leads.progress") });
    const progressText = h("p", { class: "muted", role: "status" });
    const status = h("div", { role: "alert" });
    const card = h(
      "section",
      { class: "card confirm", "aria-labelledby": "ld-confirm-title" },
      h("h2", { id: "ld-confirm-title" }, t("leads.confirmTitle")),
      h("p", { class: "question" }, t("leads.question", { ...result, to: receiversText(action), batches: chunks.length })),
      countList(result),
      withCascade ? null : h("p", { class: "muted" }, t("transfer.noCascade")),
      h("div", { class: "row" }, confirm, cancel),
      status,
    );
    replace(panel, card);
    announce(card.querySelector(".question").textContent);
    confirm.focus();

    async function go() {
      confirm.disabled = cancel.disabled = true;
      replace(status);
      card.append(bar, progressText);
      while (run.next < chunks.length) {
        const n = run.next;
        progressText.textContent = t("leads.batch", { n: n + 1, of: chunks.length, percent: Math.round((100 * n) / chunks.length) });
        try {
          // The same key for the same batch: a retried batch moves nothing twice.
          const done = await call(action, chunks[n], withCascade, `${run.key}-${n + 1}`, false, n * BATCH);
          for (const k of KINDS) run.sum[k] += done[k];
          run.skipped += done.skippedLeadIds.length;
        } catch (err) {
          const retry = h("button", { type: "button", class: "primary", onclick: go }, t("retry"));
          replace(
            status,
            h("p", { class: "notice bad" }, t("leads.batchFailed", { n: n + 1, of: chunks.length, message: (err instanceof NetworkError ? t("error.network") : err.message).replace(/\.$/, "") })),
            retry,
          );
          cancel.disabled = false; // leave it here: what moved stays moved

          retry.focus();
          return;
        }
        run.next = n + 1;
        bar.value = run.next;
      }
      progressText.textContent = t("leads.batch", { n: chunks.length, of: chunks.length, percent: 100 });
      finished(action, chunks.length, run, [bar, progressText]);
    }
    confirm.addEventListener("click", go);
  }

  async function finished(action, batches, run, progress) {
    selected.clear();
    await load();
    replace(
      panel,
      h(
        "section",
        { class: "card", "aria-labelledby": "ld-done-title" },
        h("h2", { id: "ld-done-title" }, t("transfer.doneTitle")),
        progress,
        h("p", { class: "notice ok", role: "status" }, t("leads.done", { ...run.sum, to: receiversText(action), batches })),
        countList(run.sum),
        run.skipped ? h("p", { class: "muted" }, t("transfer.skipped", { count: run.skipped })) : null,
        h("p", { class: "muted" }, h("a", { href: "#/reports" }, t("leads.toReports")), " · ", h("a", { href: "#/journal" }, t("transfer.toJournal"))),
      ),
    );
    announce(panel.querySelector(".notice").textContent);
    panel.focus();
  }

  async function onFilter(e) {
    e.preventDefault();
    shown = currentFilter();
    cursors = [null];
    pageNo = 0;
    selected.clear();
    replace(panel);
    await load();
  }

  const field = (id, label, control) => h("div", { class: "field" }, h("label", { for: id }, label), control);
  replace(
    main,
    h("h1", {}, t("leads.title")),
    h("p", { class: "muted" }, t("leads.intro")),
    closing ? closingNote(ctx.route.query, closing) : null,
    h(
      "form",
      { class: "card", onsubmit: onFilter, novalidate: true, "aria-label": t("leads.filter") },
      h(
        "div",
        { class: "row" },
        field("ld-responsible", t("leads.responsible"), responsible),
        field("ld-pipeline", t("transfer.pipeline"), pipeline),
        field("ld-stage", t("leads.stage"), stage),
        field("ld-created-from", t("transfer.createdFrom"), createdFrom),
        field("ld-created-to", t("transfer.createdTo"), createdTo),
      ),
      h("label", { class: "check", for: "ld-no-task" }, noOpenTask, ` ${t("transfer.noOpenTask")}`),
      h("div", { class: "row" }, h("button", { type: "submit" }, t("leads.show"))),
    ),
    summary,
    selection,
    table,
    pager,
    actions,
    panel,
  );
  await load();
}
