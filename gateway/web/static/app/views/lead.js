// The manager's screen: the Get lead button, why it refuses, presence and this week's shifts.

import { gql, live } from "../api.js";
import { h, replace, announce, uid } from "../dom.js";
import { t, formatDateTime, formatNumber, weekStart } from "../i18n.js";
import { reasonList, startCountdowns } from "../reasons.js";
import { shiftList } from "../week.js";

const CLAIM = `mutation($g: ID!, $key: String!) {
  claimLead(groupId: $g, idempotencyKey: $key) {
    __typename
    ... on Claimed { lead { id name budget channel pipeline stage createdAt } decision { id } }
    ... on Refused { reasons { code limit value threshold passesAt periodCount } decision { id } }
  }
}`;

export async function render(ctx) {
  const { main, viewer, features, embed } = ctx;
  const me = viewer.user.id;
  const tz = viewer.account.timezone;
  const from = weekStart(new Date(), tz);
  const to = weekStart(new Date(), tz, 1);
  const data = await gql(
    `query($me: ID!, $from: DateTime!, $to: DateTime!) {
      groups { id name members { userId enabled } }
      presence(userIds: [$me]) { userId working online onDuty }
      schedule(userId: $me, from: $from, to: $to) { start end }
      pipelines { id name stages { id name } }
    }`,
    { me, from: from.toISOString(), to: to.toISOString() },
  );
  const stageNames = new Map(data.pipelines.flatMap((p) => p.stages.map((s) => [s.id, s.name])));
  const mine = data.groups.filter((g) => g.members.some((m) => m.userId === me && m.enabled));
  const stops = [];
  let groupId = ctx.route.query.get("group") || mine[0]?.id;
  if (!mine.some((g) => g.id === groupId)) groupId = mine[0]?.id;

  const heading = h("h1", {}, t("lead.hello", { name: viewer.user.name }));
  const button = h("button", { type: "button", class: "primary get-lead" }, t("lead.button"));
  const pool = h("p", { class: "pool", "aria-live": "polite" });
  const status = h("div", { "aria-live": "polite" });
  const result = h("div", { "aria-live": "assertive" });
  let stopCountdowns = () => {};
  stops.push(() => stopCountdowns());

  function showReasons(reasons, leadIn, ok) {
    stopCountdowns();
    if (ok) {
      replace(status, h("div", { class: "status ok", dataset: { state: "eligible" } }, t("lead.canClaim")));
      return;
    }
    const list = reasonList(reasons, tz);
    replace(
      status,
      h("div", { class: "status blocked", dataset: { state: "blocked" } }, h("p", { class: "lead-in" }, leadIn), list),
    );
    stopCountdowns = startCountdowns(list, () => refreshEligibility());
  }

  // Each answer drawn into the status is numbered: an eligibility read that was
  // asked before a later press answered must not overwrite that press's reasons.
  let drawn = 0;

  async function refreshEligibility() {
    if (!groupId) return;
    const asked = ++drawn;
    const reply = await gql(
      `query($g: ID!, $me: ID!) {
        eligibility(groupId: $g, userIds: [$me]) {
          eligible limits { limit value threshold passed passesAt periodCount }
        }
        pool(groupId: $g, first: 1) { totalCount }
      }`,
      { g: groupId, me },
    );
    showPool(reply.pool.totalCount);
    if (asked !== drawn) return;
    const mineNow = reply.eligibility[0];
    showReasons(mineNow?.limits ?? [], t("lead.blocked"), mineNow?.eligible);
  }

  function showPool(count) {
    pool.textContent = count ? t("lead.pool", { count }) : t("lead.poolEmpty");
  }

  // One idempotency key per intended press: a retry after a lost answer reuses it.
  let pendingKey = null;
  button.addEventListener("click", async () => {
    if (!groupId) return;
    pendingKey ??= crypto.randomUUID();
    button.disabled = true;
    button.textContent = t("lead.pressing");
    try {
      const reply = (await gql(CLAIM, { g: groupId, key: pendingKey })).claimLead;
      pendingKey = null;
      if (reply.__typename === "Claimed") {
        showClaimed(reply.lead, reply.decision.id);
        await refreshEligibility();
      } else {
        replace(result);
        drawn += 1;
        showReasons(reply.reasons, t("lead.refused"), false);
        announce(t("lead.refused"));
      }
    } catch (error) {
      replace(result, h("p", { class: "error", role: "alert" }, t("error.generic", { message: error.message })));
    } finally {
      button.disabled = false;
      button.textContent = t("lead.button");
    }
  });

  function showClaimed(lead, decisionId) {
    const crmLink = embed?.crm ? `${embed.crm.replace(/\/$/, "")}/leads/detail/${encodeURIComponent(lead.id)}` : null;
    replace(
      result,
      h(
        "section",
        { class: "card claimed", "aria-labelledby": "claimed-title" },
        h("h2", { id: "claimed-title" }, t("lead.claimed")),
        h("p", { class: "lead-name" }, h("strong", {}, lead.name || lead.id)),
        h(
          "dl",
          { class: "facts" },
          h("dt", {}, t("lead.field.id")),
          h("dd", {}, lead.id),
          h("dt", {}, t("lead.field.budget")),
          h("dd", {}, formatNumber(lead.budget)),
          h("dt", {}, t("lead.field.channel")),
          h("dd", {}, lead.channel || t("none")),
          h("dt", {}, t("lead.field.stage")),
          h("dd", {}, stageNames.get(`${lead.pipeline}/${lead.stage}`) || lead.stage),
          h("dt", {}, t("lead.field.created")),
          h("dd", {}, formatDateTime(lead.createdAt, tz)),
        ),
        crmLink
          ? h("a", { href: crmLink, target: "_top", class: "lead-link" }, t("lead.open"))
          : h(
              "a",
              { href: `#/journal/${encodeURIComponent(decisionId)}`, class: "lead-link" },
              t("lead.history"),
            ),
      ),
    );
    announce(`${t("lead.claimed")}: ${lead.name || lead.id}`);
  }

  // Presence: a switch that says ONLINE / OFFLINE.
  const duty = data.presence[0] ?? { online: false, working: false };
  const presenceLabel = h("span", {});
  const workingNote = h("p", { class: "muted" });
  const toggle = h(
    "button",
    { type: "button", role: "switch", class: "switch", "aria-checked": String(duty.online) },
    h("span", { class: "track", "aria-hidden": "true" }),
    presenceLabel,
  );
  function showPresence(d) {
    toggle.setAttribute("aria-checked", String(d.online));
    presenceLabel.textContent = d.online ? t("presence.online") : t("presence.offline");
    workingNote.textContent = d.working ? t("presence.working") : t("presence.notWorking");
  }
  showPresence(duty);
  toggle.addEventListener("click", async () => {
    const online = toggle.getAttribute("aria-checked") !== "true";
    toggle.disabled = true;
    try {
      const reply = await gql(
        `mutation($me: ID!, $on: Boolean!) { setPresence(userId: $me, online: $on) { working online onDuty } }`,
        { me, on: online },
      );
      showPresence(reply.setPresence);
      announce(presenceLabel.textContent);
    } finally {
      toggle.disabled = false;
    }
  });

  let groupPicker = null;
  if (mine.length > 1) {
    const id = uid("group");
    groupPicker = h(
      "div",
      { class: "field" },
      h("label", { for: id }, t("lead.group")),
      h(
        "select",
        {
          id,
          onchange: (e) => ctx.navigate(`lead?group=${encodeURIComponent(e.target.value)}`),
        },
        mine.map((g) => h("option", { value: g.id, selected: g.id === groupId }, g.name || g.id)),
      ),
    );
  }

  replace(
    main,
    heading,
    h(
      "div",
      { class: "claim" },
      h(
        "section",
        { class: "card", "aria-label": t("lead.title") },
        groupPicker,
        mine.length ? [button, pool, result, status] : h("p", {}, t("lead.noGroups")),
      ),
      h(
        "div",
        {},
        h(
          "section",
          { class: "card", "aria-labelledby": "presence-title" },
          h("h2", { id: "presence-title", class: "visually-hidden" }, t("presence.label")),
          toggle,
          workingNote,
        ),
        h(
          "section",
          { class: "card", "aria-labelledby": "shifts-title" },
          h("h2", { id: "shifts-title" }, t("shifts.title")),
          shiftList(data.schedule, tz),
        ),
      ),
    ),
  );

  if (groupId) {
    await refreshEligibility();
    if (features.has("poolChanged")) {
      stops.push(
        live.subscribe(
          `subscription($g: ID!) { poolChanged(groupId: $g) { totalCount } }`,
          { g: groupId },
          (payload) => {
            const count = payload.data?.poolChanged?.totalCount;
            if (count !== undefined) showPool(count);
          },
        ),
      );
    }
  }
  return () => stops.forEach((stop) => stop());
}
