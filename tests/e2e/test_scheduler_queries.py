"""Duty of a whole team is one RPC and a fixed number of SQL statements (no N+1)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from leadrouter.clients import ServiceClient
from leadrouter.scheduler.v1 import scheduler_pb2
from leadrouter.timestamps import to_ts
from tests.stack import Stack

TOMSK = ZoneInfo("Asia/Tomsk")
MONDAY_10 = datetime(2026, 11, 2, 10, tzinfo=TOMSK)
FEW, MANY = 5, 200

ON_DUTY = """
query($at: DateTime!) {
  onDuty(at: $at, channel: "call") {
    users { userId }
    template { id participants { userId weight onDuty } }
  }
}
"""


def workspace(count: int) -> str:
    """`count` managers on 5/2, every other one on the template twice as heavy."""
    users = [f"m{i:03d}" for i in range(count)]
    week = {day: ["09:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
    return "\n".join(
        [
            "account: {timezone: Asia/Tomsk}",
            "users:",
            "  - {id: head}",
            *(f"  - {{id: {u}}}" for u in users),
            "pipelines:",
            "  - id: sales",
            "    stages: [{id: new}, {id: won, kind: won}, {id: lost, kind: lost}]",
            "schedules:",
            *(
                "  - "
                + json.dumps({"user": u, "weekly": week, "presence": "follow_schedule"})
                for u in users
            ),
            "templates:",
            "  - "
            + json.dumps(
                {
                    "id": "calls",
                    "match": {"channels": ["call"]},
                    "participants": [
                        {"user": u, "weight": 1 + i % 2} for i, u in enumerate(users)
                    ],
                    "algorithm": "weighted",
                }
            ),
        ]
    )


@contextmanager
def watch(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, list[str]]]:
    """The RPCs the gateway makes and the scheduler's SQL statements, as they happen."""
    seen: dict[str, list[str]] = {"rpcs": [], "sql": []}
    send = ServiceClient.unary

    async def unary(
        self: ServiceClient, method: str, request: Any, *rest: Any, **kw: Any
    ) -> Any:
        seen["rpcs"].append(f"{self.service}.{method}")
        return await send(self, method, request, *rest, **kw)

    def on_sql(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # The health watch pings every few seconds, whatever the requests.
        if statement.strip().upper() != "SELECT 1":
            seen["sql"].append(" ".join(statement.split()))

    engine = stack.dbs["scheduler"].engine
    with monkeypatch.context() as patch:
        patch.setattr(ServiceClient, "unary", unary)
        event.listen(engine, "before_cursor_execute", on_sql)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", on_sql)


async def duty_of_team(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, count: int
) -> tuple[Any, dict[str, list[str]]]:
    result = await stack.apply(workspace(count))
    assert result["ok"], result["problems"]
    with watch(stack, monkeypatch) as seen:
        answer = await stack.data(ON_DUTY, {"at": MONDAY_10.isoformat()})
    return answer["onDuty"], seen


async def test_on_duty_costs_the_same_for_5_or_200_managers(
    any_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    few, few_cost = await duty_of_team(any_stack, monkeypatch, FEW)
    many, many_cost = await duty_of_team(any_stack, monkeypatch, MANY)

    assert len(few["users"]) == FEW
    assert len(many["users"]) == MANY
    participants = many["template"]["participants"]
    assert len(participants) == MANY
    assert participants[:2] == [
        {"userId": "m000", "weight": 1, "onDuty": True},
        {"userId": "m001", "weight": 2, "onDuty": True},
    ]
    # One duty RPC and one template RPC, each reading the account once.
    assert few_cost["rpcs"] == ["scheduler.GetDuty", "scheduler.MatchTemplate"]
    assert many_cost == few_cost
    selects = [s for s in many_cost["sql"] if s.upper().startswith("SELECT")]
    assert len(selects) == 2 * 4  # account zone, schedules, presence, templates


async def test_get_duty_answers_for_many_users_in_one_call(stack: Stack) -> None:
    assert (await stack.apply(workspace(MANY)))["ok"]
    wanted = [f"m{i:03d}" for i in range(0, MANY, 3)] + ["stranger"]
    reply = await stack.clients.scheduler.get_duty(
        scheduler_pb2.GetDutyRequest(
            account=stack.account, user_ids=wanted, at=to_ts(MONDAY_10)
        ),
    )
    assert [d.user_id for d in reply.users] == wanted
    assert all(d.on_duty for d in reply.users[:-1])
    stranger = reply.users[-1]
    assert (stranger.working, stranger.online, stranger.on_duty) == (
        False,
        False,
        False,
    )


async def test_working_intervals_for_many_users_in_one_call(stack: Stack) -> None:
    assert (await stack.apply(workspace(MANY)))["ok"]
    request = scheduler_pb2.GetWorkingIntervalsRequest(
        account=stack.account,
        user_ids=[f"m{i:03d}" for i in range(MANY)],
        to=to_ts(datetime(2026, 11, 9, tzinfo=TOMSK)),
    )
    getattr(request, "from").CopyFrom(to_ts(datetime(2026, 11, 2, tzinfo=TOMSK)))
    reply = await stack.clients.scheduler.get_working_intervals(request)
    assert len(reply.users) == MANY
    assert {len(u.intervals) for u in reply.users} == {5}


async def test_the_scheduler_refuses_entries_it_could_not_store_or_read(
    stack: Stack,
) -> None:
    """Even a caller that skips the workspace checks cannot store broken entries."""
    schedule = {"user": "a", "weekly": {"mon": ["09:00-18:00"]}}
    template = {
        "id": "twice",
        "participants": [{"user": "a", "weight": 1}, {"user": "a", "weight": 2}],
    }
    reply = await stack.clients.scheduler.apply_schedules(
        scheduler_pb2.ApplySchedulesRequest(
            account=stack.account,
            timezone="Asia/Tomsk",
            schedules_json=json.dumps([schedule, schedule]),
            templates_json=json.dumps([template, template]),
        ),
    )
    assert [(p.path, p.message) for p in reply.problems] == [
        ("schedules[1].user", "'a' already has a schedule"),
        ("templates[0]", "template twice: a participant is listed twice in ['a', 'a']"),
        ("templates[1].id", "duplicate template 'twice'"),
        ("templates[1]", "template twice: a participant is listed twice in ['a', 'a']"),
    ]
    assert list(reply.changes) == []
    match = await stack.clients.scheduler.match_template(
        scheduler_pb2.MatchTemplateRequest(
            account=stack.account,
            lead=scheduler_pb2.LeadFacts(channel="call"),
            at=to_ts(MONDAY_10),
        ),
    )
    assert match.matched is False
