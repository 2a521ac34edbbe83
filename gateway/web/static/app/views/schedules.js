// The team's working time as a week calendar, week by week.

import { gql } from "../api.js";
import { h, replace } from "../dom.js";
import { t, weekStart, formatDay, addLocalDays } from "../i18n.js";
import { weekCalendar } from "../week.js";

const PER_REQUEST = 25; // people a request, under the gateway's alias limit

export async function render(ctx) {
  const { main, viewer } = ctx;
  const tz = viewer.account.timezone;
  const offset = Number(ctx.route.query.get("week") || 0);
  const start = weekStart(new Date(), tz, offset);
  const end = weekStart(new Date(), tz, offset + 1);
  const { users } = await gql(`{ users { id name technical active } }`);
  const people = users.filter((u) => !u.technical && u.active);
  // An alias per person, in requests under the gateway's alias limit.
  const data = {};
  for (let first = 0; first < people.length; first += PER_REQUEST) {
    const batch = people.slice(first, first + PER_REQUEST);
    const query = `query($from: DateTime!, $to: DateTime!) {
      ${batch.map((u, j) => `u${first + j}: schedule(userId: ${JSON.stringify(u.id)}, from: $from, to: $to) { start end }`).join("\n")}
    }`;
    Object.assign(data, await gql(query, { from: start.toISOString(), to: end.toISOString() }));
  }
  const presence = new Map((await gql(`{ presence { userId working online onDuty } }`)).presence.map((d) => [d.userId, d]));
  const pill = (d) =>
    d?.onDuty
      ? h("span", { class: "pill ok" }, t("schedules.onDuty"))
      : h("span", { class: "pill off" }, d?.online ? t("presence.online") : t("presence.offline"));
  const rows = people.map((u, i) => ({
    name: u.name,
    intervals: data[`u${i}`] || [],
    extra: offset ? null : pill(presence.get(u.id)),
  }));
  const last = addLocalDays(start, tz, 6);
  const week = (n) => `schedules${n ? `?week=${n}` : ""}`;
  replace(
    main,
    h("h1", {}, t("schedules.title")),
    h(
      "div",
      { class: "row", style: { alignItems: "center", marginBottom: ".8rem" } },
      h("a", { href: `#/${week(offset - 1)}`, class: "button-link" }, `← ${t("schedules.prev")}`),
      h("strong", { "aria-live": "polite" }, t("schedules.week", { from: formatDay(start, tz, { day: "numeric", month: "long" }), to: formatDay(last, tz, { day: "numeric", month: "long", year: "numeric" }) })),
      h("a", { href: `#/${week(offset + 1)}` }, `${t("schedules.next")} →`),
      offset ? h("a", { href: `#/${week(0)}` }, t("schedules.thisWeek")) : null,
    ),
    weekCalendar(rows, start, tz),
    h("p", { class: "muted" }, t("schedules.legend", { tz })),
  );
}
