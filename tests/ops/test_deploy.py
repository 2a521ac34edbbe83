"""Deployment files: the kustomize tree renders and every manifest fits the
Kubernetes schemas; the compose file fits the compose spec; both run each
process as the house rules say (non-root, read-only, probes, limits)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from leadrouter.config import DEFAULT_PORTS, SERVICES

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S_VERSION = "1.32.0"  # the oldest Kubernetes the manifests are meant for
PROCESSES = (*SERVICES, "gateway")
OPERATOR_API = "monitoring.coreos.com/"


def kustomize(path: Path) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl is missing; .ci/run installs it (kubectl kustomize)")
    done = subprocess.run(
        [kubectl, "kustomize", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


@pytest.fixture(scope="module")
def trial() -> list[dict[str, Any]]:
    return kustomize(DEPLOY / "k8s" / "overlays" / "trial")


@pytest.mark.parametrize(
    "tree",
    [
        "base",
        "overlays/trial",
        "components/postgres",  # a component alone does not render: see below
        "components/tracing",
        "components/alerts",
    ],
)
def test_every_manifest_fits_the_kubernetes_schema(tree: str, tmp_path: Path) -> None:
    path = DEPLOY / "k8s" / tree
    if tree.startswith("components/"):
        # Components apply on top of a base: render base + this one component.
        # (kustomize takes only relative paths to other kustomizations)
        base = os.path.relpath(DEPLOY / "k8s" / "base", tmp_path)
        component = os.path.relpath(path, tmp_path)
        (tmp_path / "kustomization.yaml").write_text(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
            f"resources: [{base}]\ncomponents: [{component}]\n"
        )
        docs = kustomize(tmp_path)
    else:
        docs = kustomize(path)
    assert docs
    for doc in docs:
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        if doc["apiVersion"].startswith(OPERATOR_API):
            # The Prometheus Operator's kinds are not Kubernetes': their rules
            # are checked by promtool (tests/ops/test_alert_rules.py).
            assert doc["kind"] in ("PrometheusRule", "PodMonitor"), where
            continue
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{tree}: {where}: {error.message} at {list(error.path)}")


def _by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_each_process_is_one_name_for_folder_image_deployment_and_service(
    trial: list[dict[str, Any]],
) -> None:
    deployments = _by_kind(trial, "Deployment")
    services = _by_kind(trial, "Service")
    for name in PROCESSES:
        folder = DEPLOY.parent / (
            "gateway" if name == "gateway" else f"services/{name}"
        )
        assert folder.is_dir(), folder
        container = deployments[name]["spec"]["template"]["spec"]["containers"][0]
        assert container["image"].rsplit("/", 1)[-1] == name
        assert container["args"] == [name]
        assert services[name]["spec"]["selector"] == {"app": name}
    for name in SERVICES:
        port = services[name]["spec"]["ports"][0]["port"]
        assert port == DEFAULT_PORTS[name]
        assert services[name]["spec"]["clusterIP"] == "None"  # per-pod balancing


def test_containers_are_non_root_read_only_probed_and_bounded(
    trial: list[dict[str, Any]],
) -> None:
    workloads = [d for d in trial if d["kind"] in ("Deployment", "StatefulSet")]
    assert len(workloads) == len(PROCESSES) + 3  # + postgres, collector, jaeger
    for w in workloads:
        pod = w["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, w["metadata"]["name"]
        for c in pod["containers"]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"]["drop"] == ["ALL"]
            assert {"cpu", "memory"} <= set(c["resources"]["requests"])
            assert {"cpu", "memory"} <= set(c["resources"]["limits"])
            assert "readinessProbe" in c
    deployments = _by_kind(trial, "Deployment")
    for name in SERVICES:
        c = deployments[name]["spec"]["template"]["spec"]["containers"][0]
        port = DEFAULT_PORTS[name]
        assert c["readinessProbe"]["grpc"] == {"port": port}
        assert c["livenessProbe"]["grpc"] == {"port": port, "service": "liveness"}
        assert deployments[name]["spec"]["replicas"] >= 2


def test_trial_wires_settings_secret_and_tracing(trial: list[dict[str, Any]]) -> None:
    config = _by_kind(trial, "ConfigMap")["leadrouter"]["data"]
    assert config["LEADROUTER_OTLP_ENDPOINT"] == "http://otel-collector:4317"
    for name in SERVICES:
        assert config[f"LEADROUTER_{name.upper()}_ADDR"] == (
            f"dns:///{name}:{DEFAULT_PORTS[name]}"
        )
    secret = _by_kind(trial, "Secret")["leadrouter"]
    assert {"database-url", "signing-secret"} <= set(secret["data"])
    assert "otel-collector" in _by_kind(trial, "Service")
    assert {
        d["metadata"].get("namespace") for d in trial if d["kind"] != "Namespace"
    } == {"leadrouter"}


def test_compose_file_fits_the_compose_spec() -> None:
    compose = DEPLOY / "compose" / "compose.yaml"
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "check-jsonschema"),
            "--builtin-schema",
            "vendor.compose-spec",
            str(compose),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_compose_runs_every_process_locked_down_with_tracing() -> None:
    compose = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())
    services = compose["services"]
    assert {*PROCESSES, "postgres", "otel-collector", "jaeger", "prometheus"} == set(
        services
    )
    for name in PROCESSES:
        s = services[name]
        assert s["build"]["args"] == {"SERVICE": name}
        assert s["image"].split("/")[-1].split(":")[0] == name
        assert s["read_only"] is True and s["user"] == "10001:10001"
        env = s["environment"]
        assert env["LEADROUTER_OTLP_ENDPOINT"] == "http://otel-collector:4317"
        assert "@postgres:5432/" in env["LEADROUTER_DATABASE_URL"]
        for dependency in s["depends_on"]:
            assert dependency in services
    for name in SERVICES:
        assert services[name]["environment"]["LEADROUTER_LISTEN_ADDR"].endswith(
            f":{DEFAULT_PORTS[name]}"
        )
    collector = yaml.safe_load((DEPLOY / "compose" / "otel-collector.yaml").read_text())
    assert collector["exporters"]["otlp/jaeger"]["endpoint"] == "jaeger:4317"
    # Prometheus scrapes every process and evaluates the alert rules.
    mounts = services["prometheus"]["volumes"]
    assert "./alerts.yaml:/etc/prometheus/alerts.yaml:ro" in mounts
    config = yaml.safe_load((DEPLOY / "compose" / "prometheus.yaml").read_text())
    assert config["rule_files"] == ["alerts.yaml"]
    scraped = {
        name
        for job in config["scrape_configs"]
        for sd in job["dns_sd_configs"]
        for name in sd["names"]
    }
    assert scraped == set(PROCESSES)


def test_dockerfile_builds_one_non_root_image_per_process_name() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    lines = [line.strip() for line in text.splitlines()]
    assert "ARG SERVICE=gateway" in lines
    assert "USER 10001:10001" in lines
    assert 'ENTRYPOINT ["python", "-m", "leadrouter.serve"]' in lines
    for line in lines:
        if line.startswith("COPY ") and "--from" not in line:
            for source in line.split()[1:-1]:
                assert (DEPLOY.parent / source).exists(), source
