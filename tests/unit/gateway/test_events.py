"""`POST /crm/events`: another CRM's changes as JSON Lines, applied whole or refused
with each bad line's number."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast

from starlette.applications import Starlette

from gateway.events import event_routes
from leadrouter.auth import Caller
from leadrouter.clients import Clients
from leadrouter.clock import FixedClock
from leadrouter.config import Settings
from leadrouter.crm.v1 import crm_pb2
from tests.unit.gateway.asgi import call

LINE = (
    '{"id": "e1", "type": "task_completed", "at": "2026-11-02T10:00:00Z", "task": "5"}'
)


@dataclass
class FakeCrm:
    problems: list[tuple[str, str]] = field(default_factory=list)
    asked: list[crm_pb2.ImportHistoryRequest] = field(default_factory=list)

    async def import_history(
        self, request: crm_pb2.ImportHistoryRequest
    ) -> crm_pb2.ImportHistoryResponse:
        self.asked.append(request)
        reply = crm_pb2.ImportHistoryResponse()
        if self.problems:
            for path, message in self.problems:
                reply.problems.add(path=path, message=message)
        else:
            reply.applied, reply.already_recorded = len(request.lines) - 1, 1
        return reply


@dataclass
class FakeClients:
    crm: FakeCrm = field(default_factory=FakeCrm)


def _app(role: str | None) -> tuple[Starlette, FakeCrm]:
    clients = FakeClients()
    caller = Caller("acme", "partner-1", role) if role else None
    routes = event_routes(
        Settings(),
        cast(Clients, clients),
        FixedClock(datetime(2026, 11, 2, tzinfo=UTC)),
        lambda headers: (caller, ""),
    )
    return Starlette(routes=routes), clients.crm


async def test_recorded_and_already_recorded_lines_are_counted() -> None:
    app, crm = _app("partner")
    reply = await call(app, "POST", "/crm/events", content=f"{LINE}\n{LINE}\n")
    assert reply.status_code == 200
    assert reply.json() == {"recorded": 1, "alreadyRecorded": 1}
    assert list(crm.asked[0].lines) == [LINE, LINE]
    assert crm.asked[0].by_event_id


async def test_a_bad_line_is_refused_with_its_number_and_field() -> None:
    app, crm = _app("partner")
    crm.problems = [("line 2: task", "Field required")]
    reply = await call(app, "POST", "/crm/events", content=f"{LINE}\n{{}}\n")
    assert reply.status_code == 400
    body = reply.json()
    assert body["code"] == "BAD_USER_INPUT"
    assert body["problems"] == [
        {"line": 2, "path": "line 2: task", "message": "Field required"}
    ]


async def test_a_body_that_is_not_utf8_is_refused_before_the_crm_is_asked() -> None:
    app, crm = _app("partner")
    reply = await call(app, "POST", "/crm/events", content=b"\xff\xfe{}")
    assert reply.status_code == 400
    assert reply.json()["error"] == (
        "send the events as UTF-8 text, one JSON object a line"
    )
    assert crm.asked == []


async def test_a_manager_may_not_feed_events() -> None:
    app, crm = _app("manager")
    reply = await call(app, "POST", "/crm/events", content=LINE)
    assert reply.status_code == 403
    assert reply.json() == {
        "error": "the manager role may not do this (allowed: admin, partner)",
        "code": "FORBIDDEN",
    }
    assert crm.asked == []
