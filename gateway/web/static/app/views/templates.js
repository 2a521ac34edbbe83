// Distribution templates as they act: for each hour of this week, which template takes
// a lead of the channel and who shares it with which weight.

import { gql } from "../api.js";
import { h, replace } from "../dom.js";
import { t, weekStart, formatDay, formatTime } from "../i18n.js";

const CHANNELS = ["call", "form"];
const HOURS = 7 * 24;
const PER_REQUEST = 28; // under the gateway's alias limit

async function sample(channel, start) {
  const slots = [];
  for (let first = 0; first < HOURS; first += PER_REQUEST) {
    const hours = Array.from({ length: Math.min(PER_REQUEST, HOURS - first) }, (_, i) => first + i);
    const query = `query($c: String!) {
      ${hours
        .map(
          (hr) =>
            `h${hr}: onDuty(channel: $c, at: ${JSON.stringify(new Date(start.getTime() + hr * 3600000).toISOString())}) {
              template { id algorithm hold fallbackUser participants { userId weight } }
            }`,
        )
        .join("\n")}
    }`;
    const data = await gql(query, { c: channel });
    for (const hr of hours) slots.push({ hour: hr, template: data[`h${hr}`].template });
  }
  return slots;
}

// Consecutive hours with the same template and participants make one row.
function spans(slots) {
  const out = [];
  for (const s of slots) {
    const key = s.template ? JSON.stringify(s.template) : "";
    const prev = out[out.length - 1];
    if (prev && prev.key === key) prev.end = s.hour + 1;
    else out.push({ key, template: s.template, start: s.hour, end: s.hour + 1 });
  }
  return out;
}

export async function render(ctx) {
  const { main, viewer } = ctx;
  const tz = viewer.account.timezone;
  const start = weekStart(new Date(), tz);
  const { users } = await gql(`{ users { id name } }`);
  const names = new Map(users.map((u) => [u.id, u.name]));
  const sections = [];
  for (const channel of CHANNELS) {
    const rows = spans(await sample(channel, start));
    const at = (hr) => new Date(start.getTime() + hr * 3600000);
    sections.push(
      h(
        "section",
        { class: "card", "aria-labelledby": `ch-${channel}` },
        h("h2", { id: `ch-${channel}` }, t(`templates.channel.${channel}`)),
        h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "templates" },
            h("thead", {}, h("tr", {}, ["templates.when", "templates.template", "templates.participants", "templates.algorithm"].map((k) => h("th", { scope: "col" }, t(k))))),
            h(
              "tbody",
              {},
              rows.map((r) =>
                h(
                  "tr",
                  { dataset: { template: r.template?.id ?? "" } },
                  h("td", {}, `${formatDay(at(r.start), tz)} ${formatTime(at(r.start), tz)} – ${formatDay(at(r.end), tz)} ${formatTime(at(r.end), tz)}`),
                  r.template
                    ? [
                        h("td", {}, h("strong", {}, r.template.id)),
                        h(
                          "td",
                          {},
                          r.template.participants.map((p) => `${names.get(p.userId) || p.userId} ×${p.weight}`).join(", "),
                          h("div", { class: "muted" }, r.template.hold ? t("templates.hold") : r.template.fallbackUser ? t("templates.fallback", { user: names.get(r.template.fallbackUser) || r.template.fallbackUser }) : ""),
                        ),
                        h("td", {}, r.template.algorithm),
                      ]
                    : h("td", { colspan: 3, class: "muted" }, t("templates.nobody")),
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }
  replace(main, h("h1", {}, t("templates.title")), h("p", { class: "muted" }, t("templates.intro")), sections);
}
