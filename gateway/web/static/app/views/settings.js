// Head of sales: a group's settings and the members × limits table of the button.

import { gql } from "../api.js";
import { h, replace, announce, uid } from "../dom.js";
import { t, has } from "../i18n.js";

export const LIMITS = [
  "interval_minutes",
  "max_active",
  "max_new_today",
  "max_overdue_tasks",
  "max_overdue_days",
  "days_without_sales",
  "max_lost_today",
  "max_lost_month",
  "min_sales_last_month",
  "min_key_stage_last_week",
];

const GROUPS = `{
  groups { id name sourceStages targetStage exchangeUsers cascade excludedStages keyStage
           saleStages lossStages members { userId enabled limits { limit value } } }
  users { id name technical active }
  pipelines { id name stages { id name kind } }
}`;

const ELIGIBILITY = `query($g: ID!, $u: [ID!]) {
  eligibility(groupId: $g, userIds: $u) {
    userId membership eligible limits { limit value threshold passed passesAt }
  }
}`;

const UPDATE = `mutation($g: ID!, $u: ID!, $on: Boolean!, $l: [LimitValueInput!]!) {
  updateMemberLimits(groupId: $g, userId: $u, enabled: $on, limits: $l) {
    ok problems { path message } member { userId enabled limits { limit value } }
  }
}`;

function eligibilityPill(row) {
  if (!row || row.membership === "NOT_A_MEMBER") return h("span", { class: "pill off" }, t("settings.notMember"));
  if (row.membership === "DISABLED") return h("span", { class: "pill off" }, t("settings.offButton"));
  if (row.eligible) return h("span", { class: "pill ok" }, t("settings.eligible"));
  const failing = row.limits.filter((l) => !l.passed);
  return h(
    "div",
    {},
    h("span", { class: "pill bad" }, t("settings.blockedBy", { limits: failing.map((l) => t(`limit.${l.limit}`)).join(", ") })),
    h(
      "div",
      { class: "muted row-status" },
      failing
        .map((l) =>
          has(`figures.${l.limit}`)
            ? t(`figures.${l.limit}`, { value: l.value ?? "—", threshold: l.threshold })
            : `${t(`limit.${l.limit}`)}: ${l.value ?? "—"} / ${l.threshold}`,
        )
        .join("; "),
    ),
  );
}

export async function render(ctx) {
  const { main } = ctx;
  const data = await gql(GROUPS);
  const groups = data.groups;
  if (!groups.length) {
    replace(main, h("h1", {}, t("settings.title")), h("p", {}, t("lead.noGroups")));
    return;
  }
  let group = groups.find((g) => g.id === ctx.route.query.get("group")) || groups[0];
  const names = new Map(data.users.map((u) => [u.id, u.name]));
  const stageNames = new Map(
    data.pipelines.flatMap((p) => p.stages.map((s) => [s.id, `${p.name} → ${s.name}`])),
  );
  const stage = (id) => stageNames.get(id) || id;
  const stages = (ids, empty) => (ids.length ? ids.map(stage).join(", ") : empty);

  const pickerId = uid("group");
  const picker = h(
    "div",
    { class: "field" },
    h("label", { for: pickerId }, t("settings.group")),
    h(
      "select",
      { id: pickerId, onchange: (e) => ctx.navigate(`settings?group=${encodeURIComponent(e.target.value)}`) },
      groups.map((g) => h("option", { value: g.id, selected: g.id === group.id }, g.name || g.id)),
    ),
  );

  const facts = [
    ["settings.source", stages(group.sourceStages, t("none"))],
    ["settings.target", group.targetStage ? stage(group.targetStage) : t("none")],
    ["settings.excluded", stages(group.excludedStages, t("none"))],
    ["settings.key", group.keyStage ? stage(group.keyStage) : t("none")],
    ["settings.sale", stages(group.saleStages, t("settings.allWon"))],
    ["settings.loss", stages(group.lossStages, t("settings.allLost"))],
    ["settings.exchange", group.exchangeUsers.map((u) => names.get(u) || u).join(", ") || t("none")],
    ["settings.cascade", group.cascade ? t("yes") : t("no")],
  ];
  const settingsCard = h(
    "section",
    { class: "card", "aria-labelledby": "group-settings" },
    h("h2", { id: "group-settings" }, t("settings.group.settings")),
    h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, t(k)), h("dd", {}, v)])),
  );

  // Members first in their order, then everyone else who could be one.
  const memberIds = group.members.map((m) => m.userId);
  const people = [
    ...memberIds,
    ...data.users
      .filter((u) => !u.technical && u.active && !memberIds.includes(u.id) && !group.exchangeUsers.includes(u.id))
      .map((u) => u.id),
  ];
  const eligibility = new Map(
    (await gql(ELIGIBILITY, { g: group.id, u: people })).eligibility.map((e) => [e.userId, e]),
  );

  const rows = people.map((userId) => memberRow(group, userId, names.get(userId) || userId, eligibility.get(userId)));
  const table = h(
    "table",
    { class: "limits-table" },
    h(
      "caption",
      { class: "visually-hidden" },
      `${t("settings.limits")}: ${group.name || group.id}`,
    ),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col", class: "sticky" }, t("settings.member")),
        h("th", { scope: "col" }, t("settings.enabled")),
        h("th", { scope: "col" }, t("settings.now")),
        LIMITS.map((l) => h("th", { scope: "col", class: "num" }, t(`limit.${l}`))),
        h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, t("save"))),
      ),
    ),
    h("tbody", {}, rows.map((r) => r.tr)),
  );

  replace(
    main,
    h("h1", {}, t("settings.title")),
    groups.length > 1 ? h("div", { class: "row" }, picker) : null,
    settingsCard,
    h(
      "section",
      { "aria-labelledby": "limits-title" },
      h("h2", { id: "limits-title" }, t("settings.limits")),
      h("p", { class: "muted" }, t("settings.limits.help")),
      h("div", { class: "table-wrap" }, table),
    ),
  );

  function memberRow(g, userId, name, elig) {
    const member = g.members.find((m) => m.userId === userId);
    const values = new Map((member?.limits ?? []).map((l) => [l.limit, l.value]));
    const checkbox = h("input", {
      type: "checkbox",
      checked: Boolean(member?.enabled),
      "aria-label": t("settings.enabledFor", { name }),
    });
    const inputs = new Map();
    const errors = new Map();
    const cells = LIMITS.map((limit) => {
      const errorId = uid("err");
      const input = h("input", {
        type: "number",
        min: "0",
        step: "1",
        inputmode: "numeric",
        name: limit,
        value: values.has(limit) ? String(values.get(limit)) : "",
        "aria-label": t("settings.limitFor", { limit: t(`limit.${limit}`), name }),
        "aria-describedby": errorId,
      });
      const error = h("span", { id: errorId, class: "field-error" });
      inputs.set(limit, input);
      errors.set(limit, error);
      return h("td", { class: "num" }, input, error);
    });
    const status = h("td", { class: "row-now", "aria-live": "polite" }, eligibilityPill(elig));
    const save = h("button", { type: "button", disabled: true }, t("save"));
    save.setAttribute("aria-label", t("settings.saveRow", { name }));
    const note = h("span", { class: "row-status", role: "status" });
    const tr = h(
      "tr",
      { dataset: { user: userId } },
      h("th", { scope: "row", class: "sticky" }, name),
      h("td", {}, checkbox),
      status,
      cells,
      h("td", {}, save, h("div", {}, note)),
    );
    const markDirty = () => {
      tr.classList.add("dirty");
      save.disabled = false;
      note.textContent = "";
    };
    tr.addEventListener("input", markDirty);
    tr.addEventListener("change", markDirty);
    tr.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && e.target.tagName === "INPUT") {
        e.preventDefault();
        if (!save.disabled) save.click();
      }
    });

    function clearErrors() {
      for (const [limit, error] of errors) {
        error.textContent = "";
        inputs.get(limit).removeAttribute("aria-invalid");
      }
    }
    function showError(limit, message) {
      const input = inputs.get(limit);
      if (!input) return false;
      errors.get(limit).textContent = message;
      input.setAttribute("aria-invalid", "true");
      return true;
    }

    save.addEventListener("click", async () => {
      clearErrors();
      const limits = [];
      let bad = null;
      for (const [limit, input] of inputs) {
        const raw = input.value.trim();
        if (raw === "") {
          // A number field holding text the browser could not parse reads as empty.
          if (input.validity.badInput) {
            showError(limit, t("settings.mustBeNumber"));
            bad ??= input;
          }
          continue;
        }
        if (!/^-?\d+$/.test(raw)) {
          showError(limit, t("settings.mustBeNumber"));
          bad ??= input;
          continue;
        }
        limits.push({ limit, value: Number(raw) });
      }
      if (bad) {
        note.textContent = t("settings.rowProblems", { name });
        bad.focus();
        return;
      }
      save.disabled = true;
      try {
        const reply = (await gql(UPDATE, { g: g.id, u: userId, on: checkbox.checked, l: limits })).updateMemberLimits;
        if (!reply.ok) {
          let first = null;
          const rowLevel = [];
          for (const p of reply.problems) {
            const limit = p.path.startsWith("limits.") ? p.path.slice(7) : null;
            if (limit && showError(limit, p.message)) first ??= inputs.get(limit);
            else rowLevel.push(p.message);
          }
          note.textContent = rowLevel.join("; ") || t("settings.rowProblems", { name });
          save.disabled = false;
          (first || checkbox).focus();
          announce(note.textContent);
          return;
        }
        tr.classList.remove("dirty");
        note.textContent = t("saved");
        announce(t("settings.rowSaved", { name }));
        const fresh = (await gql(ELIGIBILITY, { g: g.id, u: [userId] })).eligibility[0];
        replace(status, eligibilityPill(fresh));
      } catch (error) {
        note.textContent = t("error.generic", { message: error.message });
        save.disabled = false;
      }
    });
    return { tr };
  }
}
