// What-if: replay a past range under a proposed workspace YAML, side by side with
// what happened: leads per manager, blocked hours by limit, fairness, refused
// claims, held leads, SLA reassignments, templates by window; CSV export.

import { gql, session } from "../api.js";
import { h, replace, announce, uid } from "../dom.js";
import { t, formatNumber, localDate, zonedParts, zonedInstant } from "../i18n.js";
import { drawChart } from "./reports.js";

const DRAFT_KEY = "leadrouter.whatif.yaml";
const COLORS = { proposed: "#0b5cad", actual: "#8a8f98" };
const LIMIT_COLORS = ["#a3261b", "#e07b00", "#6b4fbb", "#17673a", "#0b5cad", "#b0427f", "#5b6b00", "#00707a", "#7a4a00", "#444"];

const SIMULATE = `query($y: String!, $from: DateTime!, $to: DateTime!) {
  simulate(workspaceYaml: $y, from: $from, to: $to) {
    ok problems { path message }
    managers { user name proposed actual proposedShare actualShare idealShare actualIdealShare }
    fairness actualFairness
    claims refusedClaims actualRefusedClaims
    refusals { user name limit count } actualRefusals { user name limit count }
    blocked { user name limit hours }
    heldLeads heldMinutes heldMaxMinutes actualHeld { leads totalMinutes maxMinutes }
    slaReassignments actualSlaReassignments handovers actualHandovers
    windows { templateId name window proposedTotal actualTotal
              proposed { user name count } actual { user name count } }
  }
}`;

function field(label, control) {
  control.id ||= uid("f");
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control);
}

// A local day in the account timezone as the instant its midnight starts.
function dayStart(text, tz, plusDays = 0) {
  const [y, m, d] = text.split("-").map(Number);
  const noon = new Date(Date.UTC(y, m - 1, d + plusDays, 12));
  return zonedInstant(noon.getUTCFullYear(), noon.getUTCMonth() + 1, noon.getUTCDate(), 0, 0, tz);
}

const pct = (x) => (x == null ? t("none") : `${(x * 100).toFixed(0)}%`);
const pp = (x) => (x == null ? t("none") : t("whatif.pp", { n: (x * 100).toFixed(1) }));
const opt = (x) => (x == null ? t("none") : formatNumber(x));

function table(id, caption, head, rows) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { id },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, head.map((c, i) => h("th", { scope: "col", class: i ? "num" : "" }, c)))),
      h(
        "tbody",
        {},
        rows.map((r) => h("tr", {}, r.map((c, i) => (i ? h("td", { class: "num" }, c) : h("th", { scope: "row" }, c))))),
      ),
    ),
  );
}

function refusalCounts(list) {
  const out = {};
  for (const r of list) out[`${r.name || r.user} · ${r.limit}`] = (out[`${r.name || r.user} · ${r.limit}`] ?? 0) + r.count;
  return out;
}

export async function render(ctx) {
  const { main, viewer } = ctx;
  const tz = viewer.account.timezone;
  const now = new Date();
  const p = zonedParts(now, tz);
  const q = ctx.route.query;
  const monthStart = `${p.year}-${String(p.month).padStart(2, "0")}-01`;

  const yaml = h("textarea", { id: "wi-yaml", rows: 14, spellcheck: "false" });
  yaml.value = localStorage.getItem(DRAFT_KEY) ?? "";
  const file = h("input", { id: "wi-file", type: "file", accept: ".yaml,.yml,text/yaml,text/plain" });
  file.addEventListener("change", async () => {
    const chosen = file.files?.[0];
    if (chosen) yaml.value = await chosen.text();
  });
  const from = h("input", { id: "wi-from", type: "date", value: q.get("from") || monthStart, required: true });
  const to = h("input", { id: "wi-to", type: "date", value: q.get("to") || localDate(now, tz), required: true });
  const run = h("button", { id: "wi-run", type: "submit", class: "primary" }, t("whatif.run"));
  const csv = h("button", { id: "wi-csv", type: "button", disabled: true }, t("whatif.csv"));
  const error = h("p", { class: "error", role: "alert" });
  const result = h("section", { id: "wi-result", tabindex: "-1", "aria-live": "polite" });
  const charts = [];

  function range() {
    return { from: dayStart(from.value, tz).toISOString(), to: dayStart(to.value, tz, 1).toISOString() };
  }

  const form = h(
    "form",
    {
      class: "card",
      onsubmit: async (e) => {
        e.preventDefault();
        error.textContent = "";
        if (!yaml.value.trim()) {
          yaml.focus();
          return;
        }
        localStorage.setItem(DRAFT_KEY, yaml.value);
        run.disabled = csv.disabled = true;
        replace(result, h("p", { class: "muted" }, t("whatif.running")));
        try {
          const data = (await gql(SIMULATE, { y: yaml.value, ...range() })).simulate;
          await show(data);
          csv.disabled = !data.ok;
        } catch (err) {
          replace(result);
          error.textContent = t("error.generic", { message: err.message });
        } finally {
          run.disabled = false;
        }
      },
    },
    field(t("whatif.yaml"), yaml),
    h("div", { class: "row" }, field(t("whatif.file"), file)),
    h("div", { class: "row" }, field(t("whatif.from"), from), field(t("whatif.to"), to), run, csv),
    error,
  );

  csv.addEventListener("click", async () => {
    const r = range();
    const params = new URLSearchParams(r);
    try {
      const reply = await fetch(`/reports/whatif.csv?${params}`, {
        method: "POST",
        headers: { "content-type": "text/yaml", ...(session.token ? { authorization: `Bearer ${session.token}` } : {}) },
        body: yaml.value,
      });
      if (!reply.ok) throw new Error((await reply.json().catch(() => ({}))).error ?? `HTTP ${reply.status}`);
      const url = URL.createObjectURL(await reply.blob());
      const a = Object.assign(document.createElement("a"), { href: url, download: `whatif-${from.value}-${to.value}.csv` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (err) {
      error.textContent = t("error.generic", { message: err.message });
    }
  });

  async function show(s) {
    charts.splice(0).forEach((c) => c.destroy());
    if (!s.ok) {
      replace(
        result,
        h("p", { class: "notice bad", role: "alert" }, t("workspace.problems", { count: s.problems.length })),
        table(
          "wi-problems",
          t("whatif.problemsCaption"),
          [t("workspace.path"), t("workspace.message")],
          s.problems.map((x) => [x.path || t("none"), x.message]),
        ),
      );
      result.querySelectorAll("#wi-problems td").forEach((td) => td.classList.remove("num"));
      announce(result.querySelector(".notice").textContent);
      return;
    }
    const people = s.managers.filter((m) => !m.user.startsWith("("));
    const leadsCanvas = h("canvas", { id: "wi-chart-leads", role: "img", "aria-label": t("whatif.chartLeads") });
    const blockedCanvas = h("canvas", { id: "wi-chart-blocked", role: "img", "aria-label": t("whatif.chartBlocked") });
    const prop = refusalCounts(s.refusals);
    const act = refusalCounts(s.actualRefusals);
    const refusalKeys = [...new Set([...Object.keys(prop), ...Object.keys(act)])].sort();
    const held = s.actualHeld;
    replace(
      result,
      h("h2", {}, t("whatif.leadsTitle")),
      h("div", { class: "chart-box" }, leadsCanvas),
      table(
        "wi-managers",
        t("whatif.managersCaption"),
        [t("whatif.manager"), t("whatif.proposed"), t("whatif.actual"), t("whatif.share"), t("whatif.actualShare"), t("whatif.ideal")],
        s.managers.map((m) => [
          m.name || m.user,
          formatNumber(m.proposed),
          formatNumber(m.actual),
          m.user.startsWith("(") ? t("none") : pct(m.proposedShare),
          m.user.startsWith("(") ? t("none") : pct(m.actualShare),
          m.user.startsWith("(") ? t("none") : pct(m.idealShare),
        ]),
      ),
      h("h2", {}, t("whatif.blockedTitle")),
      s.blocked.length
        ? h("div", { class: "chart-box" }, blockedCanvas)
        : h("p", { class: "muted", id: "wi-no-blocks" }, t("whatif.noBlocks")),
      s.blocked.length
        ? table(
            "wi-blocked",
            t("whatif.blockedCaption"),
            [t("whatif.manager"), t("whatif.limit"), t("whatif.hours")],
            s.blocked.map((b) => [b.name || b.user, b.limit, formatNumber(b.hours)]),
          )
        : null,
      h("h2", {}, t("whatif.summaryTitle")),
      table("wi-summary", t("whatif.summaryCaption"), [t("whatif.measure"), t("whatif.proposed"), t("whatif.actual")], [
        [t("whatif.fairness"), pp(s.fairness), pp(s.actualFairness)],
        [t("whatif.claims"), formatNumber(s.claims), formatNumber(s.claims)],
        [t("whatif.refused"), formatNumber(s.refusedClaims), opt(s.actualRefusedClaims)],
        ...refusalKeys.map((k) => [`  ${k}`, formatNumber(prop[k] ?? 0), s.actualRefusedClaims == null ? t("none") : formatNumber(act[k] ?? 0)]),
        [t("whatif.held"), formatNumber(s.heldLeads), held ? formatNumber(held.leads) : t("none")],
        [t("whatif.heldTotal"), formatNumber(s.heldMinutes), held ? formatNumber(held.totalMinutes) : t("none")],
        [t("whatif.heldMax"), formatNumber(s.heldMaxMinutes), held ? formatNumber(held.maxMinutes) : t("none")],
        [t("whatif.sla"), formatNumber(s.slaReassignments), opt(s.actualSlaReassignments)],
        [t("whatif.handovers"), formatNumber(s.handovers), opt(s.actualHandovers)],
      ]),
      h("h2", {}, t("whatif.windowsTitle")),
      table(
        "wi-windows",
        t("whatif.windowsCaption"),
        [t("whatif.template"), t("whatif.proposed"), t("whatif.actual")],
        s.windows.map((w) => [
          `${w.name || w.templateId} — ${w.window || t("whatif.notInProposal")}`,
          `${formatNumber(w.proposedTotal)}${w.proposed.length ? ` (${w.proposed.map((x) => `${x.name || x.user} ${x.count}`).join(", ")})` : ""}`,
          `${formatNumber(w.actualTotal)}${w.actual.length ? ` (${w.actual.map((x) => `${x.name || x.user} ${x.count}`).join(", ")})` : ""}`,
        ]),
      ),
    );
    charts.push(
      await drawChart(leadsCanvas, {
        type: "bar",
        data: {
          labels: people.map((m) => m.name || m.user),
          datasets: [
            { label: t("whatif.proposed"), data: people.map((m) => m.proposed), backgroundColor: COLORS.proposed },
            { label: t("whatif.actual"), data: people.map((m) => m.actual), backgroundColor: COLORS.actual },
          ],
        },
        options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
      }),
    );
    if (s.blocked.length) {
      const users = [...new Set(s.blocked.map((b) => b.user))];
      const named = (u) => s.blocked.find((b) => b.user === u)?.name || u;
      const limits = [...new Set(s.blocked.map((b) => b.limit))];
      charts.push(
        await drawChart(blockedCanvas, {
          type: "bar",
          data: {
            labels: users.map(named),
            datasets: limits.map((limit, i) => ({
              label: limit,
              data: users.map((u) => s.blocked.find((b) => b.user === u && b.limit === limit)?.hours ?? 0),
              backgroundColor: LIMIT_COLORS[i % LIMIT_COLORS.length],
            })),
          },
          options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, title: { display: true, text: t("whatif.hours") } } } },
        }),
      );
    }
    announce(t("whatif.done"));
    result.focus();
  }

  replace(main, h("h1", {}, t("whatif.title")), h("p", { class: "muted" }, t("whatif.intro")), form, result);
  return () => charts.splice(0).forEach((c) => c.destroy());
}
