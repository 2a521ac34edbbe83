"""The Prometheus alert rules shipped in deploy/: valid, unit-tested with
`promtool test rules`, the same for compose and Kubernetes, and written
against metrics the product really exports.

promtool comes with Debian's `prometheus` package (`.ci/run` installs it).
Without it these tests are skipped and say why, except under CI, where that
is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

from leadrouter import metrics
from tests.ops.test_deploy import DEPLOY, kustomize

ROOT = DEPLOY.parent
RULES = DEPLOY / "compose" / "alerts.yaml"
PROMETHEUS = DEPLOY / "compose" / "prometheus.yaml"
COMPONENT = DEPLOY / "k8s" / "components" / "alerts"
UNIT_TESTS = ROOT / "tests" / "ops" / "alerts.test.yaml"


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        problem = "promtool is missing: apt-get install prometheus"
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    return found


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, capture_output=True, text=True, check=False, timeout=120
    )


def alerts(groups: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for group in groups["groups"]:
        yield from group["rules"]


def test_the_rules_and_the_compose_prometheus_config_are_valid(promtool: str) -> None:
    checked = run(promtool, "check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    config = run(promtool, "check", "config", str(PROMETHEUS))
    assert config.returncode == 0, config.stdout + config.stderr


def test_every_alert_passes_its_unit_tests(promtool: str) -> None:
    done = run(promtool, "test", "rules", str(UNIT_TESTS))
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_unit_tests_notice_a_changed_threshold(
    promtool: str, tmp_path: Path
) -> None:
    """Waiting 15 minutes for someone on duty alerts; 30 would be too late."""
    rules = RULES.read_text(encoding="utf-8")
    assert "\n          > 900\n" in rules
    (tmp_path / "deploy" / "compose").mkdir(parents=True)
    (tmp_path / "deploy" / "compose" / "alerts.yaml").write_text(
        rules.replace("\n          > 900\n", "\n          > 1800\n")
    )
    (tmp_path / "tests" / "ops").mkdir(parents=True)
    shutil.copy(UNIT_TESTS, tmp_path / "tests" / "ops" / "alerts.test.yaml")
    done = run(promtool, "test", "rules", str(tmp_path / "tests/ops/alerts.test.yaml"))
    assert done.returncode != 0
    assert "LeadrouterLeadsWaitForSomeoneOnDuty" in done.stdout + done.stderr


def test_every_alert_has_a_unit_test_that_sees_it_fire() -> None:
    tests = yaml.safe_load(UNIT_TESTS.read_text(encoding="utf-8"))["tests"]
    firing = {
        case["alertname"]
        for test in tests
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }
    names = {a["alert"] for a in alerts(yaml.safe_load(RULES.read_text("utf-8")))}
    assert names - firing == set()


def exported_names() -> set[str]:
    """Every sample name the product's registry exports, waiting gauges included."""
    saved = metrics.WAITING.source
    metrics.WAITING.source = lambda: metrics.Waiting(
        held=[metrics.HeldLeads("a", "g", "no_template", 1, 60.0)],
        pools=[metrics.PoolState("a", "g", 1, 0)],
    )
    try:
        names = set()
        for family in REGISTRY.collect():
            names.add(family.name)
            names.update(
                family.name + suffix
                for suffix in ("_total", "_bucket", "_count", "_sum", "_created")
            )
        return names
    finally:
        metrics.WAITING.source = saved


def test_every_alert_reads_metrics_the_product_exports() -> None:
    exported = exported_names()
    for alert in alerts(yaml.safe_load(RULES.read_text(encoding="utf-8"))):
        used = set(re.findall(r"\bleadrouter_\w+", alert["expr"]))
        assert used, alert["alert"]
        assert used <= exported, (alert["alert"], used - exported)


def test_kubernetes_gets_the_same_rules_and_scrapes_every_process(
    tmp_path: Path,
) -> None:
    rule = yaml.safe_load((COMPONENT / "prometheus-rule.yaml").read_text("utf-8"))
    assert rule["kind"] == "PrometheusRule"
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["spec"] == yaml.safe_load(RULES.read_text(encoding="utf-8"))

    # The component on top of the base, as an overlay would use it (kustomize
    # takes only relative paths to other kustomizations).
    base = os.path.relpath(DEPLOY / "k8s" / "base", tmp_path)
    component = os.path.relpath(COMPONENT, tmp_path)
    (tmp_path / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"resources: [{base}]\ncomponents: [{component}]\n"
    )
    docs = kustomize(tmp_path)
    kinds = {d["kind"]: d for d in docs}
    assert kinds["PrometheusRule"]["spec"] == rule["spec"]
    monitor = kinds["PodMonitor"]["spec"]
    (selects,) = monitor["selector"]["matchExpressions"]
    assert (selects["key"], selects["operator"]) == ("app", "In")
    ports = {e["port"] for e in monitor["podMetricsEndpoints"]}
    scraped = set()
    for d in docs:
        if d["kind"] != "Deployment":
            continue
        pod = d["spec"]["template"]
        assert pod["metadata"]["labels"]["app"] in selects["values"], d["metadata"]
        named = {p["name"] for c in pod["spec"]["containers"] for p in c["ports"]}
        if named & ports:
            scraped.add(d["metadata"]["name"])
    assert scraped == {"crm", "limits", "scheduler", "assigner", "reports", "gateway"}
