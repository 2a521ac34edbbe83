// The head of sales' banner when leads wait: "7 leads wait for a window; the
// oldest for 2 h", with a link to them. Ages come from the server's clock.

import { gql } from "./api.js";
import { h } from "./dom.js";
import { t, lang } from "./i18n.js";

export const SUMMARY = `waitingLeads(first: 1) {
  total oldestWaitSeconds
  groups { groupId reason count oldestWaitSeconds }
  stuckPools { groupId groupName leads }
}`;

const REASONS = { no_template: "waiting.window", nobody_on_duty: "waiting.duty" };

// "2 h", "1 h 20 min", "40 min", "3 d 4 h": how long a lead has waited.
export function formatAge(seconds) {
  const u = lang() === "ru" ? { d: "д", h: "ч", m: "мин" } : { d: "d", h: "h", m: "min" };
  const minutes = Math.floor(Math.max(0, seconds) / 60);
  const hours = Math.floor(minutes / 60);
  const days = Math.floor(hours / 24);
  if (days) return hours % 24 ? `${days} ${u.d} ${hours % 24} ${u.h}` : `${days} ${u.d}`;
  if (hours) return minutes % 60 ? `${hours} ${u.h} ${minutes % 60} ${u.m}` : `${hours} ${u.h}`;
  return `${minutes} ${u.m}`;
}

// One sentence per reason (summed over groups) and per pool nobody may take from.
export function sentences(waiting) {
  const byReason = new Map();
  for (const g of waiting.groups) {
    const seen = byReason.get(g.reason) || { count: 0, oldest: 0 };
    seen.count += g.count;
    seen.oldest = Math.max(seen.oldest, g.oldestWaitSeconds);
    byReason.set(g.reason, seen);
  }
  const lines = [...byReason].map(([reason, s]) =>
    t(REASONS[reason] || "waiting.other", { count: s.count, age: formatAge(s.oldest) }),
  );
  for (const p of waiting.stuckPools) lines.push(t("waiting.pool", { count: p.leads, group: p.groupName }));
  return lines;
}

// The banner for the shell, or null when nothing waits (or it cannot be asked).
export async function waitingBanner() {
  let waiting;
  try {
    waiting = (await gql(`{ ${SUMMARY} }`)).waitingLeads;
  } catch {
    return null; // the page itself reports a server that does not answer
  }
  const lines = sentences(waiting);
  if (!lines.length) return null;
  return h(
    "div",
    { class: "waiting-banner", role: "status" },
    h("ul", {}, lines.map((line) => h("li", {}, line))),
    h("a", { href: "#/waiting" }, t("waiting.show")),
  );
}
