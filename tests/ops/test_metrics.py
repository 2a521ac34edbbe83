"""Metrics: what a claim counts, as Prometheus scrapes it from the gateway."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import REGISTRY

from tests.e2e.test_claim import CLAIM
from tests.fixtures import WORKSPACE, lead_created
from tests.stack import Stack


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_claims_and_refusals_are_counted_by_outcome_and_limit(
    stack: Stack,
) -> None:
    assert (await stack.apply(WORKSPACE))["ok"]
    await stack.import_history(
        [
            lead_created(f"L{i}", stack.clock.now() - timedelta(hours=1, minutes=i))
            for i in range(3)
        ]
    )
    claimed = sample("leadrouter_claims_total", group="main", outcome="claimed")
    refused = sample("leadrouter_claims_total", group="main", outcome="refused")
    max_active = sample(
        "leadrouter_claim_refusals_total", group="main", reason="max_active"
    )
    disabled = sample(
        "leadrouter_claim_refusals_total", group="main", reason="disabled"
    )
    timed = sample("leadrouter_claim_duration_seconds_count", group="main")

    for user in ["marina", "marina", "marina", "pavel"]:  # marina: max_active 2
        await stack.data(CLAIM, {"g": "main"}, user=user, role="manager")

    assert (
        sample("leadrouter_claims_total", group="main", outcome="claimed")
        == claimed + 2
    )
    assert (
        sample("leadrouter_claims_total", group="main", outcome="refused")
        == refused + 2
    )
    assert (
        sample("leadrouter_claim_refusals_total", group="main", reason="max_active")
        == max_active + 1
    )
    assert (
        sample("leadrouter_claim_refusals_total", group="main", reason="disabled")
        == disabled + 1
    )
    assert sample("leadrouter_claim_duration_seconds_count", group="main") == timed + 4


async def test_gateway_serves_metrics_for_prometheus(stack: Stack) -> None:
    assert (await stack.apply(WORKSPACE))["ok"]
    await stack.data('{ pool(groupId: "main") { totalCount } }')
    reply = await stack.http.get("/metrics")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain")
    text = reply.text
    assert 'leadrouter_pool_size{group="main"} 0.0' in text
    assert "leadrouter_graphql_operation_duration_seconds_count" in text
    assert (
        'leadrouter_rpc_server_duration_seconds_count{code="OK",'
        'method="GetPool",service="assigner"}' in text
    )
    # Instruments whose owners count into them are declared all the same.
    for name in [
        "leadrouter_pushes",
        "leadrouter_crm_api_calls",
        "leadrouter_crm_outbox_depth",
    ]:
        assert f"# HELP {name}" in text


async def test_pushes_are_counted_by_template_algorithm_and_outcome(
    stack: Stack,
) -> None:
    from tests.e2e.push_support import pushed
    from tests.e2e.test_push import WORKSPACE as PUSH_WORKSPACE

    assert (await stack.apply(PUSH_WORKSPACE))["ok"]
    labels = {"template": "calls", "algorithm": "weighted", "outcome": "assigned"}
    before = sample("leadrouter_pushes_total", **labels)
    for i in range(3):
        assert (await pushed(stack, f"M{i}"))["outcome"] == "assigned"
    assert sample("leadrouter_pushes_total", **labels) == before + 3
