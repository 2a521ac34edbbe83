// Head of sales: a group's settings and the members × limits table of the button.

import { gql } from "../api.js";
import { h, replace, uid } from "../dom.js";
import { t, has } from "../i18n.js";
import { bounds, limitRow } from "./limits_row.js";

const GROUPS = `{
  groups { id name sourceStages targetStage exchangeUsers cascade excludedStages keyStage
           saleStages lossStages defaultLimits { limit value }
           members { userId enabled limits { limit value } } }
  limitRules { limit unit min max recommended }
  users { id name technical active }
  pipelines { id name stages { id name kind } }
}`;

const ELIGIBILITY = `query($g: ID!, $u: [ID!]) {
  eligibility(groupId: $g, userIds: $u) {
    userId membership eligible limits { limit value threshold passed passesAt }
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

  const rules = data.limitRules;
  const colspan = 4 + rules.length;
  const defaults = new Map(group.defaultLimits.map((l) => [l.limit, l.value]));
  const rowsByUser = new Map();
  const recommended = new Map(rules.filter((r) => r.recommended !== null).map((r) => [r.limit, r.recommended]));
  const fillButton = h("button", { type: "button", class: "link" }, t("settings.useRecommended"));
  const defaultsRow = limitRow({
    group,
    rules,
    kind: "defaults",
    name: t("settings.defaults"),
    own: defaults,
    defaults: new Map(),
    status: h("div", { class: "muted" }, t("settings.defaults.help"), " ", fillButton),
    colspan,
    // New defaults that contradict a member's own value: shown in that member's row.
    elsewhere(path, message) {
      const m = /^members\.([^.]+)\.limits\.(.+)$/.exec(path);
      const row = m && rowsByUser.get(m[1]);
      return Boolean(row && row.showError(m[2], message));
    },
    clearElsewhere() {
      for (const row of rowsByUser.values()) row.clearErrors();
    },
    async saved(reply) {
      const fresh = new Map(reply.defaultLimits.map((l) => [l.limit, l.value]));
      for (const row of rowsByUser.values()) row.setDefaults(fresh);
      await refreshEligibility([...rowsByUser.keys()]);
    },
  });
  fillButton.addEventListener("click", () => defaultsRow.fill(recommended));

  for (const userId of people) {
    const member = group.members.find((m) => m.userId === userId);
    const name = names.get(userId) || userId;
    rowsByUser.set(
      userId,
      limitRow({
        group,
        rules,
        kind: "member",
        userId,
        name,
        own: new Map((member?.limits ?? []).map((l) => [l.limit, l.value])),
        defaults,
        enabled: member?.enabled,
        status: eligibilityPill(eligibility.get(userId)),
        colspan,
        saved: () => refreshEligibility([userId]),
      }),
    );
  }

  async function refreshEligibility(users) {
    const fresh = (await gql(ELIGIBILITY, { g: group.id, u: users })).eligibility;
    for (const row of fresh) rowsByUser.get(row.userId)?.replaceStatus(eligibilityPill(row));
  }

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
        rules.map((r) =>
          h(
            "th",
            { scope: "col", class: "num" },
            t(`limit.${r.limit}`),
            h("span", { class: "bounds", title: t("settings.bounds", { min: r.min, max: r.max }) }, bounds(r)),
          ),
        ),
        h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, t("save"))),
      ),
    ),
    h("tbody", {}, defaultsRow.tr, [...rowsByUser.values()].map((r) => r.tr)),
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
}
