"""New leads are pushed a batch at a time: the reads are the batch's, not each lead's.

A batch of the crm's events with twelve new leads is handed to the assigner's
follower, as the event stream delivers it. What the push asks of the other
services and of its own database is counted by the batch's trace, as
test_claim_cost.py counts a press: the lead, its owner and the template in
force are one call each for the whole batch, and each lead costs one call
(the crm's assignment under the attempt's operation id) and two transactions
(the reservation with the rotation's turn, the record with its decision).
Before, a lead cost four calls and six transactions.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from opentelemetry import trace
from opentelemetry.trace import SpanKind

from leadrouter.crm.v1 import crm_pb2
from services.assigner.background import CrmFollower
from services.assigner.push import PushDistribution
from services.assigner.push_store import PushStore
from services.assigner.store import AssignerStore
from tests.e2e.push_support import owners, tomsk
from tests.e2e.test_claim_cost import _counting
from tests.e2e.test_push import WORKSPACE
from tests.fixtures import lead_created
from tests.ops.spans import captured_spans
from tests.stack import Stack

LEADS = 12


async def test_a_batch_of_new_leads_costs_one_call_a_lead(any_stack: Stack) -> None:
    stack = any_stack
    assert (await stack.apply(WORKSPACE))["ok"]
    # The assigner's own follower would push them first; this one is counted.
    await stack.runners["assigner"].stop(grace=0)
    ids = [f"B{i:02d}" for i in range(LEADS)]
    start = stack.clock.now() - timedelta(minutes=LEADS)
    await stack.import_history(
        [
            {**lead_created(x, start + timedelta(minutes=i)), "channel": "call"}
            for i, x in enumerate(ids)
        ]
    )
    events = [
        e
        async for e in stack.clients.crm.stream_events(
            crm_pb2.StreamEventsRequest(account=stack.account)
        )
        if e.type == "lead_created"
    ]
    assert [e.lead_id for e in events] == ids

    db = stack.dbs["assigner"]
    push = PushDistribution(
        AssignerStore(db), PushStore(db), stack.clients, stack.clock
    )
    follower = CrmFollower(push, stack.clients)
    tracer = trace.get_tracer(__name__)
    with (
        captured_spans() as spans,
        _counting(stack) as begun,
        tracer.start_as_current_span("batch") as batch,
    ):
        await follower.handle_batch(events)
    ours = batch.get_span_context().trace_id
    rpcs = Counter(
        s.name.rsplit("/", 1)[-1]
        for s in spans
        if s.context.trace_id == ours
        and s.kind == SpanKind.CLIENT
        and (s.attributes or {}).get("rpc.system") == "grpc"
    )
    transactions = Counter(svc for svc, t in begun if t == format(ours, "032x"))

    assert Counter((await owners(stack, *ids)).values()) == {
        "ursula": LEADS // 3,
        "nadezhda": 2 * LEADS // 3,
    }
    assert rpcs == {
        "GetLeads": 1,
        "GetDirectory": 1,
        "MatchTemplate": 1,
        "AssignLead": LEADS,
    }
    assert sum(rpcs.values()) <= 1.25 * LEADS
    # Which are push's, the groups, the rows; then each lead's reservation
    # and record.
    # The crm's: the leads, the owners, then each assignment.
    assert transactions == {"assigner": 3 + 2 * LEADS, "crm": 2 + LEADS, "scheduler": 1}


async def test_a_tick_reads_the_template_once_for_its_waiting_leads(
    any_stack: Stack,
) -> None:
    """Leads held overnight go out at the morning's first tick: the template in
    force and the groups are read once for the round, not once per lead."""
    stack = any_stack
    assert (await stack.apply(WORKSPACE))["ok"]
    await stack.runners["assigner"].stop(grace=0)
    stack.clock.set(tomsk("2026-11-02T20:00"))  # nobody on duty
    ids = [f"N{i}" for i in range(6)]
    start = stack.clock.now() - timedelta(minutes=len(ids))
    await stack.import_history(
        [
            {**lead_created(x, start + timedelta(minutes=i)), "channel": "call"}
            for i, x in enumerate(ids)
        ]
    )
    events = [
        e
        async for e in stack.clients.crm.stream(
            "StreamEvents", crm_pb2.StreamEventsRequest(account=stack.account)
        )
        if e.type == "lead_created"
    ]
    db = stack.dbs["assigner"]
    push = PushDistribution(
        AssignerStore(db), PushStore(db), stack.clients, stack.clock
    )
    held = await push.arrived_many(stack.account, [e.lead_id for e in events])
    assert [d.outcome for d in held] == ["held"] * len(ids)

    stack.clock.set(tomsk("2026-11-03T09:00"))
    tracer = trace.get_tracer(__name__)
    with captured_spans() as spans, tracer.start_as_current_span("tick") as ticked:
        made = await push.tick(stack.account)
    assert [d.assignee for d in made] == ["ursula", "nadezhda", "nadezhda"] * 2
    ours = ticked.get_span_context().trace_id
    rpcs = Counter(
        s.name.rsplit("/", 1)[-1]
        for s in spans
        if s.context.trace_id == ours
        and s.kind == SpanKind.CLIENT
        and (s.attributes or {}).get("rpc.system") == "grpc"
    )
    # The waiting leads, the template once, each assignment; then the
    # handover round asks whether their new owners are on duty.
    assert rpcs == {
        "GetLeads": 1,
        "MatchTemplate": 1,
        "AssignLead": len(ids),
        "GetDuty": 1,
    }
