// One row of the limits editor: a member's own limits, or the group's defaults.
//
// Save checks each value against the limits' bounds (the server's own table,
// query limitRules) before anything is sent, asks the server for the preview
// (the same change with dryRun: its change lines), and saves only when the
// person confirms that preview. The server's problems come back next to the
// field they name.

import { gql } from "../api.js";
import { h, replace, announce, uid } from "../dom.js";
import { t } from "../i18n.js";

const MEMBER = `mutation($g: ID!, $u: ID!, $on: Boolean!, $l: [LimitValueInput!]!, $d: Boolean!) {
  updateMemberLimits(groupId: $g, userId: $u, enabled: $on, limits: $l, dryRun: $d) {
    ok changes problems { path message } member { userId enabled limits { limit value } }
  }
}`;

const DEFAULTS = `mutation($g: ID!, $l: [LimitValueInput!]!, $d: Boolean!) {
  updateDefaultLimits(groupId: $g, limits: $l, dryRun: $d) {
    ok changes problems { path message } defaultLimits { limit value }
  }
}`;

// "0–10080": the bounds a person reads under each limit's name.
export function bounds(rule) {
  return `${rule.min}–${rule.max}`;
}

// Why `raw` is not a value of `rule`, or null; "" is no value of the row's own.
export function valueProblem(raw, rule, badInput = false) {
  if (raw === "") return badInput ? t("settings.range", { min: rule.min, max: rule.max }) : null;
  if (!/^-?\d+$/.test(raw)) return t("settings.range", { min: rule.min, max: rule.max });
  const value = Number(raw);
  if (value < rule.min || value > rule.max) return t("settings.range", { min: rule.min, max: rule.max });
  return null;
}

// opts: {group, rules, kind: "member" | "defaults", userId, name, own: Map, defaults: Map,
//        enabled, status (a node for the "Now" cell), colspan, elsewhere(path, message),
//        saved(row)}
export function limitRow(opts) {
  const { group, rules, kind, name } = opts;
  const isDefaults = kind === "defaults";
  const inputs = new Map();
  const errors = new Map();
  const hints = new Map();

  const checkbox = isDefaults
    ? null
    : h("input", { type: "checkbox", checked: Boolean(opts.enabled), "aria-label": t("settings.enabledFor", { name }) });

  const cells = rules.map((rule) => {
    const limit = rule.limit;
    const errorId = uid("err");
    const hintId = uid("hint");
    const own = opts.own.get(limit);
    const inherited = isDefaults ? undefined : opts.defaults.get(limit);
    const input = h("input", {
      type: "text",
      inputmode: "numeric",
      autocomplete: "off",
      name: limit,
      value: own === undefined ? "" : String(own),
      placeholder: inherited === undefined ? "" : String(inherited),
      "aria-label": isDefaults
        ? t("settings.defaultFor", { limit: t(`limit.${limit}`) })
        : t("settings.limitFor", { limit: t(`limit.${limit}`), name }),
      "aria-describedby": `${hintId} ${errorId}`,
    });
    const hint = h("span", { id: hintId, class: "field-hint" });
    const error = h("span", { id: errorId, class: "field-error" });
    inputs.set(limit, input);
    errors.set(limit, error);
    hints.set(limit, hint);
    return h("td", { class: "num" }, input, hint, error);
  });

  // A member's empty field takes the group's default: greyed, and said so.
  function showInherited() {
    if (isDefaults) return;
    for (const [limit, input] of inputs) {
      const inherited = opts.defaults.get(limit);
      const takes = input.value.trim() === "" && inherited !== undefined;
      input.classList.toggle("inherits", takes);
      hints.get(limit).textContent = takes ? t("settings.groupDefault") : "";
    }
  }
  showInherited();

  const save = h("button", { type: "button", disabled: true }, t("save"));
  save.setAttribute("aria-label", isDefaults ? t("settings.saveDefaults") : t("settings.saveRow", { name }));
  const note = h("span", { class: "row-status", role: "status" });
  const statusCell = h("td", { class: "row-now", "aria-live": "polite" }, opts.status);
  const tr = h(
    "tr",
    { dataset: isDefaults ? { defaults: "" } : { user: opts.userId }, class: isDefaults ? "defaults" : "" },
    h("th", { scope: "row", class: "sticky" }, name),
    h("td", {}, checkbox ?? "—"),
    statusCell,
    cells,
    h("td", {}, save, h("div", {}, note)),
  );
  let preview = null;

  function closePreview() {
    if (preview) preview.remove();
    preview = null;
  }
  const markDirty = () => {
    tr.classList.add("dirty");
    save.disabled = false;
    note.textContent = "";
    closePreview();
    showInherited();
  };
  tr.addEventListener("input", markDirty);
  // A text field's "change" comes on leaving it, after its input events: as the
  // preview takes the focus. Only the checkbox says it changed that way.
  tr.addEventListener("change", (e) => {
    if (e.target.type === "checkbox") markDirty();
  });
  tr.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && e.target.tagName === "INPUT") {
      e.preventDefault();
      if (!save.disabled) save.click();
    }
  });

  function clearErrors() {
    for (const [limit, error] of errors) {
      error.textContent = "";
      inputs.get(limit).removeAttribute("aria-invalid");
    }
  }
  function showError(limit, message) {
    const input = inputs.get(limit);
    if (!input) return false;
    errors.get(limit).textContent = message;
    input.setAttribute("aria-invalid", "true");
    return true;
  }

  // The row's values, or null after marking each field a person must fix.
  function read() {
    const limits = [];
    let bad = null;
    for (const rule of rules) {
      const input = inputs.get(rule.limit);
      const raw = input.value.trim();
      const problem = valueProblem(raw, rule, input.validity?.badInput);
      if (problem) {
        showError(rule.limit, problem);
        bad ??= input;
      } else if (raw !== "") {
        limits.push({ limit: rule.limit, value: Number(raw) });
      }
    }
    if (bad) {
      note.textContent = isDefaults ? t("settings.defaultsProblems") : t("settings.rowProblems", { name });
      bad.focus();
      announce(note.textContent);
      return null;
    }
    return limits;
  }

  async function send(limits, dryRun) {
    if (isDefaults) {
      return (await gql(DEFAULTS, { g: group.id, l: limits, d: dryRun })).updateDefaultLimits;
    }
    return (await gql(MEMBER, { g: group.id, u: opts.userId, on: checkbox.checked, l: limits, d: dryRun }))
      .updateMemberLimits;
  }

  function showProblems(problems) {
    let first = null;
    const rowLevel = [];
    for (const p of problems) {
      const limit = p.path.startsWith("limits.") ? p.path.slice(7) : null;
      if (limit && showError(limit, p.message)) first ??= inputs.get(limit);
      else if (!(opts.elsewhere && opts.elsewhere(p.path, p.message))) rowLevel.push(p.message);
    }
    note.textContent = rowLevel.join("; ") || (isDefaults ? t("settings.defaultsProblems") : t("settings.rowProblems", { name }));
    save.disabled = false;
    (first || checkbox || save).focus();
    announce(note.textContent);
  }

  function showPreview(limits, changes) {
    closePreview();
    const titleId = uid("preview");
    const confirm = h("button", { type: "button", class: "primary" }, t("settings.preview.save"));
    const cancel = h("button", { type: "button" }, t("cancel"));
    preview = h(
      "tr",
      { class: "preview" },
      h(
        "td",
        { colspan: String(opts.colspan) },
        h(
          "div",
          { role: "region", "aria-labelledby": titleId, class: "preview-box" },
          h("strong", { id: titleId }, isDefaults ? t("settings.preview.defaults") : t("settings.preview.title", { name })),
          h("ul", { class: "changes" }, changes.map((line) => h("li", {}, line))),
          h("div", { class: "row" }, confirm, cancel),
        ),
      ),
    );
    tr.after(preview);
    cancel.addEventListener("click", () => {
      closePreview();
      note.textContent = t("settings.preview.cancelled");
      save.disabled = false;
      save.focus();
    });
    confirm.addEventListener("click", async () => {
      confirm.disabled = true;
      cancel.disabled = true;
      try {
        const reply = await send(limits, false);
        closePreview();
        if (!reply.ok) {
          showProblems(reply.problems);
          return;
        }
        tr.classList.remove("dirty");
        note.textContent = t("saved");
        announce(isDefaults ? t("settings.defaultsSaved") : t("settings.rowSaved", { name }));
        save.focus();
        if (opts.saved) await opts.saved(reply, limits);
      } catch (error) {
        closePreview();
        note.textContent = t("error.generic", { message: error.message });
        save.disabled = false;
      }
    });
    announce(changes.join("; "));
    confirm.focus();
  }

  save.addEventListener("click", async () => {
    clearErrors();
    if (opts.clearElsewhere) opts.clearElsewhere();
    const limits = read();
    if (!limits) return;
    save.disabled = true;
    try {
      const reply = await send(limits, true);
      if (!reply.ok) {
        showProblems(reply.problems);
        return;
      }
      if (!reply.changes.length) {
        tr.classList.remove("dirty");
        note.textContent = t("settings.noChanges");
        return;
      }
      showPreview(limits, reply.changes);
    } catch (error) {
      note.textContent = t("error.generic", { message: error.message });
      save.disabled = false;
    }
  });

  return {
    tr,
    status: statusCell,
    showError,
    clearErrors,
    // The group's defaults changed: what an empty field takes.
    setDefaults(defaults) {
      opts.defaults = defaults;
      for (const [limit, input] of inputs) {
        const inherited = defaults.get(limit);
        input.placeholder = inherited === undefined ? "" : String(inherited);
      }
      showInherited();
    },
    fill(values) {
      for (const [limit, value] of values) {
        const input = inputs.get(limit);
        if (input && input.value.trim() === "") input.value = String(value);
      }
      markDirty();
    },
    replaceStatus(node) {
      replace(statusCell, node);
    },
  };
}
