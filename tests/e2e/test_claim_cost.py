"""What one press costs: RPCs and database transactions, counted per press.

A press crosses the services in a straight line (architecture.md, "Paths
that must stay short"): a successful one is at most 3 RPCs and 4
transactions in all, a refused one 2 RPCs. The counts are pinned exactly,
as saleor pins its query counts, so one call or transaction more fails here.
Work is counted by the press's trace, in every service of the stack; what
followers of the event log do after it (their own traces) is not the press's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from opentelemetry.trace import SpanKind
from sqlalchemy import event

from leadrouter.telemetry import current_trace_id
from tests.e2e.test_claim import CLAIM
from tests.fixtures import lead_created
from tests.ops.spans import captured_spans
from tests.stack import Stack

WORKSPACE = """
account: {timezone: Asia/Tomsk}
users:
  - {id: head}
  - {id: ursula}
  - {id: nadezhda}
  - {id: pavel}
  - {id: pool, technical: true}
pipelines:
  - id: sales
    stages:
      - {id: new, kind: open}
      - {id: taken, kind: open}
      - {id: meeting, kind: open}
      - {id: won, kind: won}
      - {id: lost, kind: lost}
groups:
  - id: main
    source_stages: [sales/new]
    target_stage: sales/taken
    key_stage: sales/meeting
    exchange_users: [pool]
    members:
      - user: ursula
        limits: {interval_minutes: 30, max_active: 10, max_new_today: 20,
                 max_overdue_tasks: 5, max_lost_today: 3}
      - {user: nadezhda}
      - {user: pavel, enabled: false}
"""


@dataclass
class Cost:
    rpcs: list[str] = field(default_factory=list)
    transactions: Counter[str] = field(default_factory=Counter)
    trace: str = ""

    @property
    def total_transactions(self) -> int:
        return sum(self.transactions.values())


@contextmanager
def _statements(stack: Stack) -> Iterator[list[tuple[str, str, str]]]:
    """(service, trace id, statement) of every statement run in the stack's
    databases, but for BEGIN (SQLite's BEGIN IMMEDIATE is one)."""
    ran: list[tuple[str, str, str]] = []
    listeners: list[tuple[Any, Any]] = []
    for service, db in stack.dbs.items():

        def on_execute(
            _conn: Any, _cursor: Any, statement: str, *_: Any, service: str = service
        ) -> None:
            if not statement.startswith("BEGIN"):
                ran.append((service, current_trace_id(), statement))

        event.listen(db.engine, "before_cursor_execute", on_execute)
        listeners.append((db.engine, on_execute))
    try:
        yield ran
    finally:
        for engine, listener in listeners:
            event.remove(engine, "before_cursor_execute", listener)


@contextmanager
def _counting(stack: Stack) -> Iterator[list[tuple[str, str]]]:
    """(service, trace id) of every transaction begun in the stack's databases."""
    begun: list[tuple[str, str]] = []
    listeners: list[tuple[Any, Any]] = []
    for service, db in stack.dbs.items():

        def on_begin(_conn: Any, service: str = service) -> None:
            begun.append((service, current_trace_id()))

        event.listen(db.engine, "begin", on_begin)
        listeners.append((db.engine, on_begin))
    try:
        yield begun
    finally:
        for engine, listener in listeners:
            event.remove(engine, "begin", listener)


async def _press(stack: Stack, user: str) -> tuple[str, Cost]:
    with captured_spans() as spans, _counting(stack) as begun:
        data = await stack.data(CLAIM, {"g": "main"}, user=user, role="manager")
    root = next(s for s in spans if s.name == "graphql mutation claimLead")
    trace = root.context.trace_id
    cost = Cost(
        rpcs=[
            s.name.rsplit("/", 1)[-1]
            for s in sorted(spans, key=lambda s: s.start_time or 0)
            if s.context.trace_id == trace
            and s.kind == SpanKind.CLIENT
            and (s.attributes or {}).get("rpc.system") == "grpc"
        ],
        transactions=Counter(
            service for service, t in begun if t == format(trace, "032x")
        ),
        trace=format(trace, "032x"),
    )
    return data["claimLead"]["__typename"], cost


async def _ready(stack: Stack) -> None:
    assert (await stack.apply(WORKSPACE))["ok"]
    start = stack.clock.now() - timedelta(hours=2)
    await stack.import_history(
        [lead_created(f"L{i}", start + timedelta(minutes=i)) for i in range(3)]
    )
    # The assigner loads a group's limit settings at its first press.
    outcome, _ = await _press(stack, "nadezhda")
    assert outcome == "Claimed"


async def test_a_successful_press_is_three_rpcs_and_four_transactions(
    any_stack: Stack,
) -> None:
    await _ready(any_stack)
    outcome, cost = await _press(any_stack, "ursula")
    assert outcome == "Claimed"
    assert cost.rpcs == ["ClaimLead", "GetActivity", "TakePoolLead"]
    # The assigner's press before the crm and its decision after; the crm's
    # figures, then the take with the claim for the interval limit.
    assert cost.transactions == {"assigner": 2, "crm": 2}
    assert cost.total_transactions == 4


async def test_a_refused_press_is_two_rpcs(any_stack: Stack) -> None:
    await _ready(any_stack)
    assert (await _press(any_stack, "ursula"))[0] == "Claimed"
    # Pressed again at once: the interval limit refuses.
    outcome, by_limit = await _press(any_stack, "ursula")
    assert outcome == "Refused"
    assert by_limit.rpcs == ["ClaimLead", "GetActivity"]
    assert by_limit.transactions == {"assigner": 2, "crm": 1}
    # Not an enabled member: the crm only confirms the settings are current.
    outcome, by_membership = await _press(any_stack, "pavel")
    assert outcome == "Refused"
    assert by_membership.rpcs == ["ClaimLead", "GetActivity"]
    assert by_membership.transactions == {"assigner": 2, "crm": 1}


async def test_a_change_of_limits_holds_from_the_next_press(any_stack: Stack) -> None:
    """The assigner judges presses by settings it holds; a change still counts
    at once, though nothing told the assigner: the crm's figures come with
    the stamp of the limits' latest settings."""
    await _ready(any_stack)
    assert (await _press(any_stack, "ursula"))[0] == "Claimed"
    assert (await _press(any_stack, "ursula"))[0] == "Refused"
    without_interval = WORKSPACE.replace("interval_minutes: 30, ", "")
    assert (await any_stack.apply(without_interval))["ok"]
    outcome, cost = await _press(any_stack, "ursula")
    assert outcome == "Claimed"
    # The one press after the change reads the settings again, and measures
    # again under them (ursula's own limits changed).
    assert cost.rpcs == [
        "ClaimLead",
        "GetActivity",
        "GetGroupLimits",
        "GetActivity",
        "TakePoolLead",
    ]
    # Disabled by the head of sales: refused for that at the very next press.
    disabled = WORKSPACE.replace("{user: nadezhda}", "{user: nadezhda, enabled: false}")
    assert (await any_stack.apply(disabled))["ok"]
    assert (await _press(any_stack, "nadezhda"))[0] == "Refused"


async def test_the_crms_part_of_a_press_is_eleven_statements(any_stack: Stack) -> None:
    """The figures in one statement; the take reads the operation, the pool's
    oldest lead, the stages and the new owner, writes the lead's owner and
    stage in one UPDATE, the claim, the operation, reads the lead's parties
    for the answer and logs its two events (under the log's lock on
    PostgreSQL, one INSERT there; two on SQLite)."""
    await _ready(any_stack)
    with _statements(any_stack) as ran:
        outcome, cost = await _press(any_stack, "ursula")
    assert outcome == "Claimed"
    crm = [statement for s, t, statement in ran if s == "crm" and t == cost.trace]
    updates = [x for x in crm if x.startswith("UPDATE")]
    assert len(updates) == 1, updates
    assert len(crm) == 11, "\n".join(crm)
