// Texts by language (texts/ru.js, texts/en.js), plural rules, and dates in the account's timezone.

import en from "./texts/en.js";
import ru from "./texts/ru.js";

const STORAGE_KEY = "leadrouter.lang";
export const LANGS = ["ru", "en"];

const DICTS = { ru, en };
let current = "en";

export function initialLang(params, embedded) {
  const asked = params.get("lang");
  if (LANGS.includes(asked)) return asked;
  const stored = localStorage.getItem(STORAGE_KEY);
  if (LANGS.includes(stored)) return stored;
  // amoCRM accounts of this product speak Russian first.
  if (embedded) return "ru";
  return (navigator.language || "en").toLowerCase().startsWith("ru") ? "ru" : "en";
}

export function setLang(lang) {
  current = LANGS.includes(lang) ? lang : "en";
  localStorage.setItem(STORAGE_KEY, current);
  document.documentElement.lang = current;
}

export function lang() {
  return current;
}

export function has(key) {
  return key in DICTS[current];
}

// "{count, plural, one {...} few {...} many {...} other {...}}" with # for the number.
function plural(template, params) {
  return template.replace(
    /\{(\w+), plural, ((?:\w+ \{[^}]*\}\s*)+)\}/g,
    (_, name, forms) => {
      const n = Number(params[name]);
      const cases = {};
      for (const m of forms.matchAll(/(\w+) \{([^}]*)\}/g)) cases[m[1]] = m[2];
      const rule = new Intl.PluralRules(current).select(n);
      return (cases[rule] ?? cases.other ?? "").replaceAll("#", String(n));
    },
  );
}

export function t(key, params = {}) {
  const template = DICTS[current][key] ?? DICTS.en[key] ?? key;
  return plural(template, params).replace(/\{(\w+)\}/g, (m, name) =>
    name in params ? String(params[name]) : m,
  );
}

// --- Dates and times in the account's timezone ---------------------------------

export function formatDateTime(iso, tz, opts = {}) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(current, {
    timeZone: tz,
    dateStyle: opts.dateStyle ?? "medium",
    timeStyle: opts.timeStyle ?? "short",
  }).format(new Date(iso));
}

export function formatTime(date, tz) {
  return new Intl.DateTimeFormat(current, {
    timeZone: tz,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(date);
}

export function formatDay(date, tz, opts = { weekday: "short", day: "numeric", month: "short" }) {
  return new Intl.DateTimeFormat(current, { timeZone: tz, ...opts }).format(date);
}

export function formatNumber(n) {
  return new Intl.NumberFormat(current).format(n);
}

// "2 h 05 min 09 s" / "2 ч 05 мин 09 с": how long until an instant.
export function formatDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const u = current === "ru" ? { d: "д", h: "ч", m: "мин", s: "с" } : { d: "d", h: "h", m: "min", s: "s" };
  const pad = (x) => String(x).padStart(2, "0");
  if (d) return `${d} ${u.d} ${h} ${u.h} ${pad(m)} ${u.m}`;
  if (h) return `${h} ${u.h} ${pad(m)} ${u.m} ${pad(s)} ${u.s}`;
  return `${m} ${u.m} ${pad(s)} ${u.s}`;
}

// Wall-clock parts of an instant in a timezone.
export function zonedParts(date, tz) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: tz,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    weekday: "short",
  }).formatToParts(date);
  const get = (type) => parts.find((p) => p.type === type)?.value;
  const weekday = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].indexOf(get("weekday"));
  return {
    year: Number(get("year")),
    month: Number(get("month")),
    day: Number(get("day")),
    hour: Number(get("hour")) % 24,
    minute: Number(get("minute")),
    second: Number(get("second")),
    weekday, // 0 = Monday
  };
}

// The instant at which the wall clock of `tz` shows the given local time.
export function zonedInstant(year, month, day, hour, minute, tz) {
  const wanted = Date.UTC(year, month - 1, day, hour, minute);
  let guess = wanted;
  for (let i = 0; i < 3; i++) {
    const p = zonedParts(new Date(guess), tz);
    const shown = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute);
    guess += wanted - shown;
  }
  return new Date(guess);
}

// Monday 00:00 of the week holding `date`, in `tz`, shifted by `weeks`.
export function weekStart(date, tz, weeks = 0) {
  const p = zonedParts(date, tz);
  const noon = new Date(Date.UTC(p.year, p.month - 1, p.day - p.weekday + 7 * weeks, 12));
  return zonedInstant(noon.getUTCFullYear(), noon.getUTCMonth() + 1, noon.getUTCDate(), 0, 0, tz);
}

// The local date (YYYY-MM-DD) of an instant in `tz`.
export function localDate(date, tz) {
  const p = zonedParts(date, tz);
  return `${p.year}-${String(p.month).padStart(2, "0")}-${String(p.day).padStart(2, "0")}`;
}

// Local midnight `days` after the local date of `date`.
export function addLocalDays(date, tz, days) {
  const p = zonedParts(date, tz);
  const noon = new Date(Date.UTC(p.year, p.month - 1, p.day + days, 12));
  return zonedInstant(noon.getUTCFullYear(), noon.getUTCMonth() + 1, noon.getUTCDate(), 0, 0, tz);
}
