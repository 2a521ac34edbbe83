// Head of sales: upload a workspace YAML, check it, apply it, read the report.

import { gql } from "../api.js";
import { h, replace, announce } from "../dom.js";
import { t } from "../i18n.js";

const APPLY = `mutation($y: String!, $dry: Boolean!, $prune: Boolean!) {
  applyWorkspace(yaml: $y, dryRun: $dry, allowRemovals: $prune) {
    ok changes changeList { removal } problems { path message }
  }
}`;

export async function render(ctx) {
  const { main } = ctx;
  const file = h("input", { id: "ws-file", type: "file", accept: ".yaml,.yml,text/yaml,text/plain" });
  const text = h("textarea", { id: "ws-text", rows: 16, spellcheck: "false" });
  const report = h("div", { id: "ws-report", tabindex: "-1" });
  const check = h("button", { type: "button" }, t("workspace.check"));
  const apply = h("button", { type: "button", class: "primary" }, t("workspace.apply"));
  const prune = h("input", { id: "ws-prune", type: "checkbox" });

  file.addEventListener("change", async () => {
    const chosen = file.files?.[0];
    if (chosen) text.value = await chosen.text();
  });

  async function run(dryRun) {
    const yaml = text.value;
    check.disabled = apply.disabled = true;
    try {
      const result = (await gql(APPLY, { y: yaml, dry: dryRun, prune: prune.checked })).applyWorkspace;
      showReport(result, dryRun);
    } catch (error) {
      replace(report, h("p", { class: "notice bad", role: "alert" }, t("error.generic", { message: error.message })));
    } finally {
      check.disabled = apply.disabled = false;
    }
  }
  check.addEventListener("click", () => run(true));
  apply.addEventListener("click", () => run(false));

  function showReport(result, dryRun) {
    if (!result.ok) {
      replace(
        report,
        h("p", { class: "notice bad", role: "alert" }, t("workspace.problems", { count: result.problems.length })),
        h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "problems" },
            h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("workspace.path")), h("th", { scope: "col" }, t("workspace.message")))),
            h(
              "tbody",
              {},
              result.problems.map((p) => h("tr", {}, h("td", {}, p.path || "—"), h("td", {}, p.message))),
            ),
          ),
        ),
      );
    } else {
      replace(
        report,
        h("p", { class: "notice ok", role: "status" }, dryRun ? t("workspace.okDry") : t("workspace.ok")),
        h("h2", {}, t("workspace.changes")),
        result.changes.length
          ? h(
              "ul",
              { class: "changes" },
              result.changes.map((c, i) => h("li", { class: result.changeList[i].removal ? "removal" : "" }, c)),
            )
          : h("p", { class: "muted" }, t("workspace.noChanges")),
      );
    }
    announce(report.querySelector(".notice")?.textContent ?? "");
    report.focus();
  }

  replace(
    main,
    h("h1", {}, t("workspace.title")),
    h("p", { class: "muted" }, t("workspace.intro")),
    h(
      "div",
      { class: "card" },
      h("div", { class: "field" }, h("label", { for: "ws-file" }, t("workspace.file")), file),
      h("div", { class: "field", style: { marginTop: ".8rem" } }, h("label", { for: "ws-text" }, t("workspace.text")), text),
      h("div", { class: "field", style: { marginTop: ".8rem" } }, h("label", { for: "ws-prune" }, prune, " ", t("workspace.prune"))),
      h("div", { class: "row", style: { marginTop: ".8rem" } }, check, apply),
    ),
    report,
  );
}
