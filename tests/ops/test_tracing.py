"""Traces: one claim is one trace across the gateway and every service it touches."""

from __future__ import annotations

from datetime import timedelta

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from tests.e2e.test_claim import CLAIM
from tests.fixtures import WORKSPACE, lead_created
from tests.ops.spans import captured_spans, service_of, span_tree
from tests.stack import Stack

DECISION = "query($id: ID!) { decision(id: $id) { id traceId } }"


def _statement(span: ReadableSpan) -> str:
    attributes = span.attributes or {}
    return str(attributes.get("db.statement", attributes.get("db.query.text", "")))


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

    operations = [s for s in spans if s.name == "graphql mutation claimLead"]
    assert len(operations) == 1
    trace_id = operations[0].context.trace_id
    claim = [s for s in spans if s.context.trace_id == trace_id]
    others = [s for s in spans if s.context.trace_id != trace_id]
    by_id = {s.context.span_id: s for s in claim}
    # The trace starts at the HTTP request (the ASGI instrumentation's span),
    # and the GraphQL operation is its child.
    roots = [s for s in claim if s.parent is None]
    assert len(roots) == 1 and roots[0].kind == SpanKind.SERVER, span_tree(claim)
    assert (roots[0].attributes or {}).get(
        "http.request.method", (roots[0].attributes or {}).get("http.method")
    ) == "POST"
    assert operations[0].parent.span_id == roots[0].context.span_id  # type: ignore[union-attr]
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
    # gRPC spans are named by the full method, as the instrumentation does.
    names = {s.name.lstrip("/") for s in claim}
    assert "leadrouter.assigner.v1.Assigner/ClaimLead" in names
    assert "leadrouter.limits.v1.Limits/GetGroupLimits" in names
    assert "leadrouter.crm.v1.Crm/GetActivity" in names
    assert any(n.startswith("db assigner.") for n in names)
    # The SQL statements themselves, from the SQLAlchemy instrumentation, in
    # the services that ran them: the take of the lead among the crm's.
    statements = [s for s in claim if _statement(s)]
    by_service = {service_of(s, by_id) for s in statements}
    assert {"assigner", "crm"} <= by_service, span_tree(claim)
    assert any(
        "leads" in _statement(s) and service_of(s, by_id) == "crm" for s in statements
    ), span_tree(claim)
    # A hop's server span is the child of the caller's client span.
    take = [
        s for s in claim if s.name.lstrip("/") == "leadrouter.crm.v1.Crm/TakePoolLead"
    ]
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
    # The gateway's first span, the HTTP request's, is the caller's child.
    request = [
        s
        for s in spans
        if s.kind == SpanKind.SERVER
        and (s.attributes or {}).get("leadrouter.service") == "gateway"
    ]
    assert [format(s.parent.span_id, "016x") for s in request] == ["00f067aa0ba902b7"]  # type: ignore[union-attr]
    assert gateway[0].parent.span_id == request[0].context.span_id  # type: ignore[union-attr]
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
    # Three root fields, one operation span inside the request's; the fields'
    # RPCs hang from it.
    (root,) = [s for s in mine if s.parent is None]
    assert gateway[0].parent.span_id == root.context.span_id  # type: ignore[union-attr]
    assert "leadrouter.assigner.v1.Assigner/ListGroups" in {
        s.name.lstrip("/") for s in mine
    }
