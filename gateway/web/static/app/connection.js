// The banner everyone sees while amoCRM does not take the account's changes:
// "amoCRM has blocked this account until 14:05; 3 changes wait", in the
// account's timezone. Changes made meanwhile are kept and sent afterwards.

import { gql } from "./api.js";
import { h } from "./dom.js";
import { t, formatTime } from "./i18n.js";

export const QUERY = `crmConnection {
  crm block nextAttemptAt waitingChanges webhook synced syncProgress
}`;

// Webhook states that leave the account read from its events every minute.
const HOOK_PROBLEMS = ["missing", "disabled", "not_allowed", "no_public_url"];

// The banner's sentences; none while amoCRM takes changes as they come.
export function sentences(c, tz) {
  if (!c || c.crm !== "amocrm") return [];
  const lines = [];
  const count = c.waitingChanges;
  if (c.block) {
    const time = c.nextAttemptAt ? formatTime(new Date(c.nextAttemptAt), tz) : "";
    lines.push(t(`connection.${c.block}`, { time, count }));
  }
  if (!c.synced) lines.push(t("connection.syncing"));
  if (HOOK_PROBLEMS.includes(c.webhook)) lines.push(t(`connection.hook.${c.webhook}`));
  return lines;
}

// The banner for the shell, or null when all is well (or it cannot be asked).
export async function connectionBanner(tz) {
  let connection;
  try {
    connection = (await gql(`{ ${QUERY} }`)).crmConnection;
  } catch {
    return null; // the page itself reports a server that does not answer
  }
  const lines = sentences(connection, tz);
  if (!lines.length) return null;
  return h(
    "div",
    { class: "connection-banner", role: "status" },
    h("ul", {}, lines.map((line) => h("li", {}, line))),
  );
}
