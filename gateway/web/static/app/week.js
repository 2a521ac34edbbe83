// Working intervals drawn as a week: a list for one person, a calendar for a team.

import { h } from "./dom.js";
import { t, formatDay, formatTime, addLocalDays, localDate } from "./i18n.js";

// Intervals cut at local midnights: [{day: "YYYY-MM-DD", start: Date, end: Date}].
function byDay(intervals, tz) {
  const pieces = [];
  for (const interval of intervals) {
    let start = new Date(interval.start);
    const end = new Date(interval.end);
    while (start < end) {
      const midnight = addLocalDays(start, tz, 1);
      const stop = midnight < end ? midnight : end;
      pieces.push({ day: localDate(start, tz), start, end: stop });
      start = stop;
    }
  }
  return pieces;
}

function label(piece, tz) {
  const end = formatTime(piece.end, tz);
  // A piece that runs to midnight ends at 24:00 of its own day.
  const shownEnd = end === "00:00" ? "24:00" : end;
  return `${formatTime(piece.start, tz)}–${shownEnd}`;
}

export function shiftList(intervals, tz) {
  const pieces = byDay(intervals, tz);
  if (!pieces.length) return h("p", { class: "muted" }, t("shifts.none"));
  const days = new Map();
  for (const p of pieces) {
    if (!days.has(p.day)) days.set(p.day, []);
    days.get(p.day).push(p);
  }
  return h(
    "ul",
    { class: "shift-list" },
    [...days.values()].map((ps) =>
      h(
        "li",
        {},
        h("strong", {}, formatDay(ps[0].start, tz, { weekday: "long", day: "numeric", month: "long" })),
        ": ",
        ps.map((p) => label(p, tz)).join(", "),
      ),
    ),
  );
}

// rows: [{name, intervals}] for the week starting at `start` (a local Monday 00:00).
export function weekCalendar(rows, start, tz) {
  const days = Array.from({ length: 7 }, (_, i) => addLocalDays(start, tz, i));
  const today = localDate(new Date(), tz);
  const cells = [h("div", { class: "head", role: "columnheader" }, "")];
  for (const d of days) {
    cells.push(
      h(
        "div",
        { class: `head${localDate(d, tz) === today ? " today" : ""}`, role: "columnheader" },
        formatDay(d, tz),
      ),
    );
  }
  const body = [];
  for (const row of rows) {
    const pieces = byDay(row.intervals, tz);
    const hours = pieces.reduce((sum, p) => sum + (p.end - p.start) / 3600000, 0);
    const cellsOfRow = [];
    cellsOfRow.push(
      h(
        "div",
        { class: "who-cell", role: "rowheader" },
        row.name,
        h("div", { class: "muted", style: { fontWeight: 400, fontSize: ".8rem" } }, t("schedules.hours", { hours: Math.round(hours * 10) / 10 })),
        row.extra ?? null,
      ),
    );
    for (const d of days) {
      const key = localDate(d, tz);
      const mine = pieces.filter((p) => p.day === key);
      cellsOfRow.push(
        h(
          "div",
          { class: "day", role: "cell", dataset: { day: key } },
          mine.length
            ? mine.map((p) => h("div", { class: "shift" }, label(p, tz)))
            : h("span", { class: "off" }, t("schedules.off")),
        ),
      );
    }
    body.push(h("div", { role: "row", style: { display: "contents" } }, cellsOfRow));
  }
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "div",
      { class: "week", role: "table" },
      h("div", { role: "row", style: { display: "contents" } }, cells),
      body,
    ),
  );
}
