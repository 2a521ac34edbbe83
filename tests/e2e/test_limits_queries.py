"""Eligibility of a whole group runs a fixed number of SQL statements (no N+1)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from leadrouter.clients import ServiceClient
from services.crm.store import CrmStore
from tests.e2e.limits_history import ELIGIBILITY, PIPELINES, History, apply, local
from tests.stack import Stack

MONDAY = local("2026-11-02 10:00")
MANY = 200
FEW = 10
USERS = [f"m{i:03d}" for i in range(MANY)]


def _limits(i: int) -> dict[str, int]:
    # Different days_without_sales values give different window starts.
    return {
        "interval_minutes": 5,
        "max_active": 10,
        "max_new_today": 10,
        "max_overdue_tasks": 5,
        "max_overdue_days": 3,
        "days_without_sales": 20 + i % 40,
        "max_lost_today": 5,
        "max_lost_month": 10,
        "min_sales_last_month": 1,
        "min_key_stage_last_week": 1,
    }


def _workspace() -> str:
    users = "".join(f"  - {{id: {u}}}\n" for u in USERS)

    def group(group_id: str, members: list[str]) -> str:
        lines = "".join(
            f"      - {json.dumps({'user': u, 'limits': _limits(i)})}\n"
            for i, u in enumerate(members)
        )
        return (
            f"  - id: {group_id}\n"
            "    source_stages: [sales/new]\n"
            "    target_stage: sales/taken\n"
            "    key_stage: sales/meeting\n"
            "    excluded_stages: [sales/parked]\n"
            "    exchange_users: [pool]\n"
            "    members:\n"
            f"{lines}"
        )

    return (
        "account: {timezone: Asia/Tomsk}\n"
        "users:\n"
        "  - {id: pool, technical: true}\n"
        f"{users}"
        f"{PIPELINES}"
        "groups:\n"
        f"{group('few', USERS[:FEW])}"
        f"{group('many', USERS)}"
    )


async def _load_history(stack: Stack, directory: Path) -> None:
    """For every user: an open lead, a loss today, a sale last month, a key
    stage move last week, an overdue task; in files of a few hundred events."""
    long_ago = local("2026-09-01 09:00")
    for first in range(0, MANY, 25):
        history = History()
        for u in USERS[first : first + 25]:
            history.lead(
                f"{u}-open", MONDAY - timedelta(hours=1), owner=u, stage="taken"
            )
            history.lead(f"{u}-lost", long_ago, owner=u, stage="taken")
            history.move(f"{u}-lost", MONDAY - timedelta(minutes=30), "lost")
            history.lead(f"{u}-won", long_ago, owner=u, stage="taken")
            history.move(f"{u}-won", local("2026-10-27 12:00"), "meeting")
            history.move(f"{u}-won", local("2026-10-28 12:00"), "won")
            history.task(
                f"{u}-task",
                long_ago,
                owner=u,
                lead=f"{u}-open",
                deadline=MONDAY - timedelta(days=1),
            )
        await history.load(stack, directory)


@dataclass
class Work:
    """What one request made the services do."""

    rpcs: list[str] = field(default_factory=list)
    crm: list[str] = field(default_factory=list)
    limits: list[str] = field(default_factory=list)

    def queries(self) -> dict[str, int]:
        # BEGIN is how the SQLite engine opens a transaction; PostgreSQL's
        # driver does it without a statement. Counting queries only keeps the
        # figures the same on both databases.
        return {
            name: len([s for s in statements if not s.startswith("BEGIN")])
            for name, statements in (("crm", self.crm), ("limits", self.limits))
        }


@contextmanager
def _watch(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Work]]:
    """Records RPC calls and SQL statements into the last Work of the list."""
    log = [Work()]
    in_activity = threading.local()
    measure_activity = CrmStore.activity

    def activity(self: CrmStore, **kwargs: Any) -> Any:
        in_activity.on = True
        try:
            return measure_activity(self, **kwargs)
        finally:
            in_activity.on = False

    monkeypatch.setattr(CrmStore, "activity", activity)
    send = ServiceClient.unary

    async def unary(
        self: ServiceClient, method: str, request: Any, *rest: Any, **kw: Any
    ) -> Any:
        log[-1].rpcs.append(f"{self.service}.{method}")
        return await send(self, method, request, *rest, **kw)

    monkeypatch.setattr(ServiceClient, "unary", unary)

    def on_crm(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # The crm also serves readers in the background (the reports service
        # follows its event stream); only the use case that measures activity
        # for the limits runs on behalf of an eligibility request.
        if getattr(in_activity, "on", False):
            log[-1].crm.append(statement)

    def on_limits(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # The health watch pings every few seconds, whatever the requests.
        if statement.strip().upper() != "SELECT 1":
            log[-1].limits.append(statement)

    listeners = [
        (stack.dbs["crm"].engine, on_crm),
        (stack.dbs["limits"].engine, on_limits),
    ]
    for engine, listener in listeners:
        event.listen(engine, "before_cursor_execute", listener)
    try:
        yield log
    finally:
        for engine, listener in listeners:
            event.remove(engine, "before_cursor_execute", listener)


async def test_group_eligibility_runs_the_same_statements_for_10_or_200_members(
    any_stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = any_stack
    await apply(stack, _workspace())
    await _load_history(stack, tmp_path)

    with _watch(stack, monkeypatch) as log:
        few_rows = (await stack.data(ELIGIBILITY, {"g": "few"}))["eligibility"]
        log.append(Work())
        many_rows = (await stack.data(ELIGIBILITY, {"g": "many"}))["eligibility"]
    few, many = log

    assert len(few_rows) == FEW
    assert len(many_rows) == MANY
    # Every member was measured, not skipped.
    expected = {
        "interval_minutes": None,
        "max_active": 1,
        "max_new_today": 1,
        "max_overdue_tasks": 1,
        "max_overdue_days": 1,
        "days_without_sales": 1,
        "max_lost_today": 1,
        "max_lost_month": 1,
        "min_sales_last_month": 1,
        "min_key_stage_last_week": 1,
    }
    for row in few_rows + many_rows:
        assert row["eligible"], row
        assert {v["limit"]: v["value"] for v in row["limits"]} == expected, row

    # crm: one statement (the counted stages, then open leads, new leads,
    # overdue tasks, sales, losses and key stage moves as parts of one
    # UNION ALL, with the last claims). limits: the group, its members,
    # the account's zone.
    for work in (few, many):
        assert work.rpcs.count("limits.GetEligibility") == 1
        assert work.rpcs.count("crm.GetActivity") == 1
    pinned = {"crm": 1, "limits": 3}
    assert (few.queries(), many.queries()) == (pinned, pinned)
