"""Traces: one claim is one trace across the gateway and every service it touches."""

from __future__ import annotations

from datetime import timedelta

from opentelemetry.trace import SpanKind

from tests.e2e.test_claim import CLAIM
from tests.fixtures import WORKSPACE, lead_created
from tests.ops.spans import captured_spans, service_of, span_tree
from tests.stack import Stack

DECISION = "query($id: ID!) { decision(id: $id) { id traceId } }"


async def _pool_of_one(stack: Stack) -> None:
    assert (await stack.apply(WORKSPACE))["ok"]
    await stack.import_history(
        [lead_created("L1", stack.clock.now() - timedelta(hours=1))]
    )


async def test_one_claim_is_one_trace_from_gateway_to_crm(stack: Stack) -> None:
    await _pool_of_one(stack)
    with captured_spans() as spans:
        data = await stack.data(CLAIM, {"g": "main"}, user="ursula", role="manager")
    assert data["claimLead"]["__typename"] == "Claimed"

    roots = [s for s in spans if s.name == "graphql mutation claimLead"]
    assert len(roots) == 1 and roots[0].parent is None
    trace_id = roots[0].context.trace_id
    claim = [s for s in spans if s.context.trace_id == trace_id]
    others = [s for s in spans if s.context.trace_id != trace_id]
    by_id = {s.context.span_id: s for s in claim}
    # Connected: every span of the claim's trace hangs from another of them.
    assert all(s.parent.span_id in by_id for s in claim if s is not roots[0])  # type: ignore[union-attr]
    # No hop lost the context: background work (push reacting to the import)
    # starts its own traces from client calls, and none of the claim's RPCs
    # shows up there.
    assert all(s.kind != SpanKind.SERVER or s.parent for s in others)
    claim_rpcs = {"ClaimLead", "GetActivity", "TakePoolLead"}
    assert not {s.name.rsplit("/", 1)[-1] for s in others} & claim_rpcs

    servers = {service_of(s, by_id) for s in claim if s.kind == SpanKind.SERVER}
    # The first press reads the group's limit settings from limits too.
    assert {"gateway", "assigner", "limits", "crm"} <= servers
    names = {s.name for s in claim}
    assert "leadrouter.assigner.v1.Assigner/ClaimLead" in names
    assert "leadrouter.limits.v1.Limits/GetGroupLimits" in names
    assert "leadrouter.crm.v1.Crm/GetActivity" in names
    assert any(n.startswith("db assigner.") for n in names)
    # A hop's server span is the child of the caller's client span.
    take = [s for s in claim if s.name == "leadrouter.crm.v1.Crm/TakePoolLead"]
    kinds = sorted((s.kind.name, by_id[s.parent.span_id].kind.name) for s in take)  # type: ignore[union-attr]
    assert kinds == [("CLIENT", "SERVER"), ("SERVER", "CLIENT")]
    print("\n" + span_tree(claim))

    decision_id = data["claimLead"]["decision"]["id"]
    found = await stack.data(DECISION, {"id": decision_id})
    assert found["decision"]["traceId"] == format(trace_id, "032x")
    # From the lead: its decisions name the same trace.
    by_lead = await stack.data(
        '{ decisions(leadId: "L1") { edges { node { id traceId } } } }'
    )
    assert [e["node"] for e in by_lead["decisions"]["edges"]] == [
        {"id": decision_id, "traceId": format(trace_id, "032x")}
    ]


async def test_claim_continues_the_callers_traceparent(stack: Stack) -> None:
    await _pool_of_one(stack)
    caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    with captured_spans() as spans:
        reply = await stack.http.post(
            "/graphql",
            json={"query": CLAIM, "variables": {"g": "main"}},
            headers={
                "Authorization": f"Bearer {stack.token('ursula')}",
                "traceparent": f"00-{caller_trace}-00f067aa0ba902b7-01",
            },
        )
    decision = reply.json()["data"]["claimLead"]["decision"]
    gateway = [s for s in spans if s.name == "graphql mutation claimLead"]
    assert [format(s.context.trace_id, "032x") for s in gateway] == [caller_trace]
    assert gateway[0].parent is not None
    assert format(gateway[0].parent.span_id, "016x") == "00f067aa0ba902b7"
    found = await stack.data(DECISION, {"id": decision["id"]})
    assert found["decision"]["traceId"] == caller_trace


async def test_a_query_is_one_span_not_one_per_field(stack: Stack) -> None:
    await _pool_of_one(stack)
    with captured_spans() as spans:
        await stack.data(
            "{ viewer { role } groups { id name } "
            'pool(groupId: "main") { totalCount } }'
        )
    gateway = [s for s in spans if s.name.startswith("graphql ")]
    assert [s.name for s in gateway] == ["graphql query viewer"]
    mine = [s for s in spans if s.context.trace_id == gateway[0].context.trace_id]
    # Three root fields, one operation span; the fields' RPCs hang from it.
    assert [s.name for s in mine if s.parent is None] == ["graphql query viewer"]
    assert "leadrouter.assigner.v1.Assigner/ListGroups" in {s.name for s in mine}
