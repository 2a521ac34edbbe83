// Reports: leads handed out per manager (chart, tables, CSV) and loss reasons, kept live.

import { gql, live, download } from "../api.js";
import { h, replace, uid } from "../dom.js";
import { t, lang, formatNumber, formatDay, localDate, zonedParts, formatTime } from "../i18n.js";

const COLORS = { claimed: "#0b5cad", pushed: "#e07b00", manual: "#6b4fbb", won: "#17673a", lost: "#a3261b" };

let chartLib = null;
function loadChart() {
  chartLib ??= new Promise((resolve, reject) => {
    if (window.Chart) return resolve(window.Chart);
    const script = h("script", { src: "/vendor/chart.umd.min.js" });
    script.onload = () => resolve(window.Chart);
    script.onerror = () => reject(new Error("chart library did not load"));
    document.head.append(script);
  });
  return chartLib;
}

function chartBox(title) {
  const canvas = h("canvas", { role: "img", "aria-label": t("reports.chart", { title }) });
  return { canvas, box: h("div", { class: "chart-box" }, canvas) };
}

export async function drawChart(canvas, config) {
  const Chart = await loadChart();
  Chart.getChart(canvas)?.destroy();
  return new Chart(canvas, {
    ...config,
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      locale: lang(),
      plugins: { legend: { position: "bottom" } },
      ...config.options,
    },
  });
}

function checks(legend, name, items, selected) {
  return h(
    "fieldset",
    { class: "checks" },
    h("legend", {}, legend),
    items.map((item) => {
      const id = uid(name);
      return h(
        "label",
        { for: id },
        h("input", { type: "checkbox", id, name, value: item.id, checked: selected.includes(item.id) }),
        item.name,
      );
    }),
  );
}

function field(label, control) {
  control.id ||= uid("f");
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control);
}

function numberCells(row, keys) {
  return keys.map((k) => h("td", { class: "num" }, formatNumber(row[k])));
}

export async function render(ctx) {
  const { main, viewer, features } = ctx;
  const tz = viewer.account.timezone;
  const admin = viewer.role !== "MANAGER";
  // The leads list is the head of sales' screen.
  const linksToLeads = viewer.role === "ADMIN" && features.has("matchingLeadIds");
  const meta = admin ? await gql(`{ groups { id name } users { id name technical } }`) : { groups: [], users: [] };
  const now = new Date();
  const p = zonedParts(now, tz);
  const monthStart = `${p.year}-${String(p.month).padStart(2, "0")}-01`;
  const q = ctx.route.query;
  const filter = {
    from: q.get("from") || monthStart,
    to: q.get("to") || localDate(now, tz),
    bucket: q.get("bucket") || "DAY",
    groupBy: q.get("groupBy") || "MANAGER",
    // Seed 002: the loss-reasons report may have no period at all: all time.
    lossAll: q.get("lossAll") === "1",
    groups: q.getAll("group"),
    users: q.getAll("user"),
  };

  const from = h("input", { type: "date", value: filter.from, required: true });
  const to = h("input", { type: "date", value: filter.to, required: true });
  const bucket = h(
    "select",
    {},
    ["DAY", "WEEK", "MONTH"].map((b) => h("option", { value: b, selected: b === filter.bucket }, t(`reports.bucket.${b}`))),
  );
  const groupBy = h(
    "select",
    {},
    ["NONE", "PIPELINE", "GROUP", "MANAGER"].map((g) => h("option", { value: g, selected: g === filter.groupBy }, t(`reports.groupBy.${g}`))),
  );
  const lossAll = h("input", { type: "checkbox", checked: filter.lossAll });
  const groupChecks = admin && meta.groups.length > 1 ? checks(t("reports.groups"), "group", meta.groups, filter.groups) : null;
  const people = meta.users.filter((u) => !u.technical);
  const userChecks = admin && people.length ? checks(t("reports.users"), "user", people, filter.users) : null;
  const error = h("p", { class: "error", role: "alert" });

  const form = h(
    "form",
    {
      class: "card",
      onsubmit: (e) => {
        e.preventDefault();
        const params = new URLSearchParams({ from: from.value, to: to.value, bucket: bucket.value, groupBy: groupBy.value });
        if (lossAll.checked) params.set("lossAll", "1");
        for (const c of form.querySelectorAll("input[name=group]:checked")) params.append("group", c.value);
        for (const c of form.querySelectorAll("input[name=user]:checked")) params.append("user", c.value);
        ctx.navigate(`reports?${params}`);
      },
    },
    h(
      "div",
      { class: "row" },
      field(t("reports.from"), from),
      field(t("reports.to"), to),
      field(t("reports.bucket"), bucket),
      field(t("reports.groupBy"), groupBy),
      h("label", { class: "check" }, lossAll, ` ${t("reports.lossAll")}`),
      h("button", { type: "submit", class: "primary" }, t("reports.show")),
    ),
    groupChecks || userChecks ? h("div", { class: "row", style: { marginTop: ".6rem" } }, groupChecks, userChecks) : null,
    error,
  );

  const dist = h("section", { "aria-labelledby": "dist-title" });
  const loss = h("section", { "aria-labelledby": "loss-title" });
  const liveNote = h("p", { class: "live", role: "status" });
  replace(main, h("h1", {}, t("reports.title")), form, liveNote, dist, loss);

  const vars = {
    from: filter.from,
    to: filter.to,
    lossFrom: filter.lossAll ? null : filter.from,
    lossTo: filter.lossAll ? null : filter.to,
    bucket: filter.bucket,
    groupBy: filter.groupBy,
    groups: filter.groups.length ? filter.groups : null,
    users: filter.users.length ? filter.users : null,
  };
  const charts = [];

  async function refresh() {
    const data = await gql(
      `query($from: Date!, $to: Date!, $lossFrom: Date, $lossTo: Date, $bucket: ReportBucket!, $groupBy: LossGrouping!, $groups: [ID!], $users: [ID!]) {
        distributionReport(from: $from, to: $to, bucket: $bucket, groupIds: $groups, userIds: $users) {
          claimed pushed manual total
          managers { userId userName claimed pushed manual total }
          rows { userId userName bucket claimed pushed manual total }
        }
        lossReasonsReport(from: $lossFrom, to: $lossTo, groupBy: $groupBy, groupIds: $groups, userIds: $users) {
          rows { key name won lost wonPercent lostPercent reasons { reason count percent } }
          total { won lost wonPercent lostPercent reasons { reason count percent } }
        }
      }`,
      vars,
    );
    charts.splice(0).forEach((c) => c.destroy());
    await showDistribution(data.distributionReport);
    await showLoss(data.lossReasonsReport);
  }

  async function showDistribution(r) {
    const keys = ["claimed", "pushed", "manual", "total"];
    const csv = h("button", { type: "button" }, t("reports.csv"));
    csv.addEventListener("click", () => {
      const params = new URLSearchParams({ from: filter.from, to: filter.to, bucket: filter.bucket.toLowerCase() });
      filter.groups.forEach((g) => params.append("groupId", g));
      filter.users.forEach((u) => params.append("userId", u));
      download(`/reports/distribution.csv?${params}`, `distribution-${filter.from}-${filter.to}.csv`).catch((e) => {
        error.textContent = t("error.generic", { message: e.message });
      });
    });
    const { canvas, box } = chartBox(t("reports.distribution"));
    const totals = h("p", { class: "totals", dataset: { total: String(r.total) } }, t("reports.totals", r));
    replace(
      dist,
      h("div", { class: "row", style: { justifyContent: "space-between", alignItems: "center" } }, h("h2", { id: "dist-title" }, t("reports.distribution")), csv),
      totals,
      r.total ? box : h("p", { class: "muted" }, t("reports.empty")),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "distribution" },
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("reports.manager")), keys.map((k) => h("th", { scope: "col", class: "num" }, t(`reports.${k}`))))),
          h("tbody", {}, r.managers.map((m) => h("tr", {}, h("th", { scope: "row" }, m.userName || m.userId), numberCells(m, keys)))),
          h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, t("reports.total")), numberCells(r, keys))),
        ),
      ),
      r.rows.length
        ? h(
            "details",
            {},
            h("summary", {}, t("reports.byBucket")),
            h(
              "div",
              { class: "table-wrap" },
              h(
                "table",
                {},
                h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("reports.period")), h("th", { scope: "col" }, t("reports.manager")), keys.map((k) => h("th", { scope: "col", class: "num" }, t(`reports.${k}`))))),
                h(
                  "tbody",
                  {},
                  r.rows.map((row) =>
                    h("tr", {}, h("td", {}, formatDay(new Date(`${row.bucket}T12:00:00Z`), "UTC", { day: "numeric", month: "short", year: "numeric" })), h("td", {}, row.userName || row.userId), numberCells(row, keys)),
                  ),
                ),
              ),
            ),
          )
        : null,
    );
    if (r.total) {
      charts.push(
        await drawChart(canvas, {
          type: "bar",
          data: {
            labels: r.managers.map((m) => m.userName || m.userId),
            datasets: ["claimed", "pushed", "manual"].map((k) => ({
              label: t(`reports.${k}`),
              data: r.managers.map((m) => m[k]),
              backgroundColor: COLORS[k],
            })),
          },
          options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
        }),
      );
    }
  }

  // Seed 002: "в один клик можно перейти из отчета прямо в выбранные проваленные
  // сделки": each count links to the leads list holding exactly those leads.
  function cellHref(row, total, column) {
    const params = new URLSearchParams({ lossBy: filter.groupBy, ...column });
    if (vars.lossFrom) params.set("from", vars.lossFrom);
    if (vars.lossTo) params.set("to", vars.lossTo);
    filter.groups.forEach((g) => params.append("group", g));
    filter.users.forEach((u) => params.append("user", u));
    if (total) params.set("total", "1");
    else params.set("key", row.key ?? "");
    params.set("name", total ? t("reports.total") : row.name || t("none"));
    return `#/leads?${params}`;
  }

  function countLink(count, row, total, column) {
    const text = formatNumber(count);
    if (!count || !linksToLeads) return text;
    const what = column.outcome ? t(`reports.${column.outcome.toLowerCase()}`) : `${t("reports.lost")}: ${column.reason ?? t("reports.noReason")}`;
    const label = t("reports.openLeads", { count, what, name: total ? t("reports.total") : row.name || t("none") });
    return h("a", { href: cellHref(row, total, column), "aria-label": label, class: "count" }, text);
  }

  async function showLoss(r) {
    const { canvas, box } = chartBox(t("reports.loss"));
    const totalRow = { ...r.total, name: t("reports.total") };
    const csv = h("button", { type: "button" }, t("reports.csv"));
    csv.addEventListener("click", () => {
      const params = new URLSearchParams({ groupBy: filter.groupBy.toLowerCase() });
      if (vars.lossFrom) params.set("from", vars.lossFrom);
      if (vars.lossTo) params.set("to", vars.lossTo);
      filter.groups.forEach((g) => params.append("groupId", g));
      filter.users.forEach((u) => params.append("userId", u));
      const span = filter.lossAll ? "all-time" : `${filter.from}-${filter.to}`;
      download(`/reports/loss-reasons.csv?${params}`, `loss-reasons-${span}.csv`).catch((e) => {
        error.textContent = t("error.generic", { message: e.message });
      });
    });
    const reasons = (row, total) => {
      if (!row.reasons.length) return t("none");
      const parts = row.reasons.map((x) => [
        `${x.reason ?? t("reports.noReason")}: `,
        countLink(x.count, row, total, x.reason === null ? { noReason: "1" } : { reason: x.reason }),
        ` (${Math.round(x.percent)}%)`,
      ]);
      return parts.flatMap((part, i) => (i ? ["; ", ...part] : part));
    };
    const rows = r.rows.length ? r.rows : [];
    replace(
      loss,
      h("div", { class: "row", style: { justifyContent: "space-between", alignItems: "center" } }, h("h2", { id: "loss-title" }, t("reports.loss")), csv),
      h("p", { class: "totals" }, t("reports.lossTotals", r.total)),
      r.total.won + r.total.lost ? box : null,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "loss" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["reports.name", "reports.won", "reports.lost", "reports.wonPercent", "reports.lostPercent", "reports.reasons"].map((k, i) =>
                h("th", { scope: "col", class: i && i < 5 ? "num" : undefined }, t(k)),
              ),
            ),
          ),
          h(
            "tbody",
            {},
            rows.map((row) =>
              h(
                "tr",
                {},
                h("th", { scope: "row" }, row.name || t("none")),
                h("td", { class: "num" }, countLink(row.won, row, false, { outcome: "WON" })),
                h("td", { class: "num" }, countLink(row.lost, row, false, { outcome: "LOST" })),
                h("td", { class: "num" }, `${Math.round(row.wonPercent)}%`),
                h("td", { class: "num" }, `${Math.round(row.lostPercent)}%`),
                h("td", {}, reasons(row, false)),
              ),
            ),
          ),
          h(
            "tfoot",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "row" }, t("reports.total")),
              h("td", { class: "num" }, countLink(r.total.won, totalRow, true, { outcome: "WON" })),
              h("td", { class: "num" }, countLink(r.total.lost, totalRow, true, { outcome: "LOST" })),
              h("td", { class: "num" }, `${Math.round(r.total.wonPercent)}%`),
              h("td", { class: "num" }, `${Math.round(r.total.lostPercent)}%`),
              h("td", {}, reasons(totalRow, true)),
            ),
          ),
        ),
      ),
    );
    if (r.total.won + r.total.lost) {
      const shown = rows.length ? rows : [totalRow];
      const reasonNames = [...new Set(shown.flatMap((row) => row.reasons.map((x) => x.reason ?? t("reports.noReason"))))];
      const palette = ["#a3261b", "#d9534f", "#8c4a00", "#c98a1b", "#6d3b6e", "#4d5661"];
      charts.push(
        await drawChart(canvas, {
          type: "bar",
          data: {
            labels: shown.map((row) => row.name || t("none")),
            datasets: [
              { label: t("reports.won"), data: shown.map((row) => row.won), backgroundColor: COLORS.won },
              ...reasonNames.map((name, i) => ({
                label: `${t("reports.lost")}: ${name}`,
                data: shown.map((row) => row.reasons.find((x) => (x.reason ?? t("reports.noReason")) === name)?.count ?? 0),
                backgroundColor: palette[i % palette.length],
              })),
            ],
          },
          options: {
            indexAxis: "y",
            scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true } },
            // The diagram is interactive too: a bar's part opens its leads.
            onClick: (_event, elements) => {
              const hit = elements[0];
              if (!hit || !linksToLeads) return;
              const row = shown[hit.index];
              const name = reasonNames[hit.datasetIndex - 1];
              const noReason = name === t("reports.noReason") && !row.reasons.some((x) => x.reason === name);
              const column = hit.datasetIndex === 0 ? { outcome: "WON" } : noReason ? { noReason: "1" } : { reason: name };
              location.hash = cellHref(row, !rows.length, column);
            },
          },
        }),
      );
    }
  }

  try {
    await refresh();
  } catch (e) {
    error.textContent = t("error.generic", { message: e.message });
  }

  const stops = [() => charts.splice(0).forEach((c) => c.destroy())];
  if (features.has("decisionMade")) {
    let timer = null;
    stops.push(
      live.onStatus((up) => {
        if (!up) liveNote.textContent = t("live.off");
      }),
      live.subscribe(`subscription { decisionMade { id } }`, {}, () => {
        clearTimeout(timer);
        // A burst of decisions refreshes the figures once.
        timer = setTimeout(async () => {
          await refresh();
          liveNote.textContent = `${t("live.on")} · ${t("live.updated", { time: formatTime(new Date(), tz) })}`;
        }, 500);
      }),
      () => clearTimeout(timer),
    );
    liveNote.textContent = t("live.on");
  }
  return () => stops.forEach((stop) => stop());
}
