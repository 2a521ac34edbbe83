// A refusal in plain words: each failing limit with value, threshold and a live countdown.

import { h } from "./dom.js";
import { t, has, formatDateTime, formatDuration } from "./i18n.js";

const PERIOD_LIMITS = new Set(["min_sales_last_month", "min_key_stage_last_week"]);

export function reasonText(reason) {
  const key = reason.code === "limit" || !reason.code ? `reason.${reason.limit}` : `reason.${reason.code}`;
  const params = {
    value: reason.value ?? "—",
    threshold: reason.threshold ?? "—",
    period: reason.periodCount ?? "—",
    code: reason.code ?? reason.limit,
  };
  return has(key) ? t(key, params) : t("reason.unknown", params);
}

function countdown(reason, tz) {
  if (!reason.limit) return null;
  if (!reason.passesAt) {
    return h("div", { class: "countdown muted" }, t("countdown.never"));
  }
  const at = formatDateTime(reason.passesAt, tz);
  const el = h("div", {
    class: "countdown",
    role: "timer",
    dataset: { at: reason.passesAt, label: at, period: PERIOD_LIMITS.has(reason.limit) ? "1" : "" },
  });
  tick(el, Date.now());
  return el;
}

function tick(el, now) {
  const left = new Date(el.dataset.at).getTime() - now;
  if (left <= 0) {
    el.textContent = t("countdown.now");
    el.classList.add("lifted");
    return true;
  }
  el.textContent =
    el.dataset.period && left > 86400000
      ? t("countdown.period", { at: el.dataset.label })
      : t("countdown.in", { left: formatDuration(left), at: el.dataset.label });
  return false;
}

// A limit's figures in the words of its name: "Sales in the last 14 days: 0",
// not "Days without sales: 0", which would say the opposite.
export function limitFigures(reason) {
  const params = { value: reason.value ?? "—", threshold: reason.threshold };
  const own = `figures.${reason.limit}`;
  return has(own) ? t(own, params) : `${t(`limit.${reason.limit}`)}: ${t("reason.value", params)}`;
}

// The list of reasons; only failing limits (passed === false) and non-limit codes.
export function reasonList(reasons, tz) {
  const failing = reasons.filter((r) => r.passed !== true);
  return h(
    "ul",
    { class: "reasons" },
    failing.map((r) =>
      h(
        "li",
        { dataset: { limit: r.limit || r.code } },
        h("div", { class: "reason-text" }, reasonText(r)),
        r.limit && r.threshold !== null && r.threshold !== undefined
          ? h("div", { class: "reason-figures" }, limitFigures(r))
          : null,
        countdown(r, tz),
      ),
    ),
  );
}

// Ticks every countdown under `root` each second; calls onLifted once when one reaches zero.
export function startCountdowns(root, onLifted) {
  let fired = false;
  const timer = setInterval(() => {
    const now = Date.now();
    for (const el of root.querySelectorAll(".countdown[data-at]")) {
      if (el.classList.contains("lifted")) continue;
      if (tick(el, now) && !fired) {
        fired = true;
        onLifted?.();
      }
    }
  }, 1000);
  return () => clearInterval(timer);
}
