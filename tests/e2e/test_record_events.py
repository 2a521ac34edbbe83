"""Issue 24, point 5: any CRM can feed events (contract.md sections 2 and 4).

`POST /crm/events` (JSON Lines) and the mutation `recordEvents` take stage,
owner and task changes as they happen, each event with an id of the
sender's: sent again, an event is not applied twice. A bad event is refused
with its line number or index, and then nothing of the batch is applied.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from leadrouter.crm.v1 import crm_pb2
from tests.readme import graphql_payload, heredoc
from tests.stack import Stack

DEMO = Path(__file__).resolve().parents[2] / "leadrouter/demo/workspace.yaml"
RECORD = """
mutation($events: [JSON!]!) {
  recordEvents(events: $events) { recorded alreadyRecorded }
}
"""
ELIGIBILITY = """
query { eligibility(groupId: "main", userIds: ["nadezhda"]) {
  limits { limit value threshold passed } } }
"""


def _auth(stack: Stack, role: str = "partner", user: str = "site") -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.token(user, role)}"}


async def _post_lines(
    stack: Stack, text: str, role: str = "partner"
) -> tuple[int, dict[str, Any]]:
    reply = await stack.http.post(
        "/crm/events", content=text.encode(), headers=_auth(stack, role)
    )
    return reply.status_code, reply.json()


async def _graphql(stack: Stack, body: dict[str, Any]) -> dict[str, Any]:
    reply = await stack.http.post("/graphql", json=body, headers=_auth(stack))
    assert reply.status_code == 200, reply.text
    answer: dict[str, Any] = reply.json()
    return answer


async def _record(stack: Stack, events: list[dict[str, Any]]) -> dict[str, Any]:
    return await _graphql(stack, {"query": RECORD, "variables": {"events": events}})


async def _lead(stack: Stack, lead: str) -> crm_pb2.Lead | None:
    found = await stack.clients.crm.get_leads(
        crm_pb2.GetLeadsRequest(account=stack.account, ids=[lead])
    )
    return found.leads[0] if found.leads else None


def _overdue(data: dict[str, Any]) -> list[dict[str, Any]]:
    limits = data["eligibility"][0]["limits"]
    return [v for v in limits if v["limit"] == "max_overdue_tasks"]


def _event(n: int, **fields: Any) -> dict[str, Any]:
    return {"id": f"e{n}", "at": "2026-11-02T09:00:00+07:00", **fields}


def _created(n: int, lead: str, owner: str = "ursula") -> dict[str, Any]:
    return _event(
        n,
        type="lead_created",
        lead=lead,
        pipeline="sales",
        stage="taken",
        responsible=owner,
        channel="call",
    )


async def test_the_readme_examples_feed_a_lead_its_stage_owner_and_tasks(
    stack: Stack,
) -> None:
    await stack.apply(DEMO.read_text(encoding="utf-8"))
    lines = heredoc("/crm/events")
    assert await _post_lines(stack, lines) == (
        200,
        {"recorded": 4, "alreadyRecorded": 0},
    )
    lead = await _lead(stack, "X-1")
    assert lead is not None
    assert (lead.stage, lead.responsible) == ("meeting", "nadezhda")
    assert await _post_lines(stack, lines) == (
        200,
        {"recorded": 0, "alreadyRecorded": 4},
    )
    body = await _graphql(stack, graphql_payload("recordEvents"))
    assert body == {"data": {"recordEvents": {"recorded": 1, "alreadyRecorded": 0}}}
    body = await _graphql(stack, graphql_payload("recordEvents"))
    assert body == {"data": {"recordEvents": {"recorded": 0, "alreadyRecorded": 1}}}


async def test_a_task_fed_by_another_crm_counts_in_the_limits(stack: Stack) -> None:
    await stack.apply(DEMO.read_text(encoding="utf-8"))
    overdue = _overdue(await stack.data(ELIGIBILITY))
    assert overdue == [
        {"limit": "max_overdue_tasks", "value": 0, "threshold": 3, "passed": True}
    ]
    tasks = [
        _event(
            10 + n,
            type="task_created",
            task=f"T{n}",
            lead="A",
            responsible="nadezhda",
            deadline="2026-11-01T12:00:00+07:00",
        )
        for n in range(4)
    ]
    body = await _record(stack, [_created(1, "A", "nadezhda"), *tasks])
    assert body["data"]["recordEvents"] == {"recorded": 5, "alreadyRecorded": 0}
    overdue = _overdue(await stack.data(ELIGIBILITY))
    assert overdue == [
        {"limit": "max_overdue_tasks", "value": 4, "threshold": 3, "passed": False}
    ]


async def test_a_bad_line_is_refused_by_its_number_and_nothing_is_applied(
    stack: Stack,
) -> None:
    await stack.apply(DEMO.read_text(encoding="utf-8"))
    lines = [
        _created(1, "B"),
        _event(2, type="stage_changed", lead="B", to="meeting"),
        _event(3, type="stage_changed", lead="B", to="nowhere"),
        _event(4, type="responsible_changed", lead="B", to="marina"),
    ]
    text = "\n".join(json.dumps(x) for x in lines) + "\n"
    status, body = await _post_lines(stack, text)
    assert status == 400, body
    assert body["code"] == "BAD_USER_INPUT"
    assert body["problems"] == [
        {"line": 3, "path": "line 3", "message": "unknown stage 'sales/nowhere'"}
    ]
    assert await _lead(stack, "B") is None
    # Put right, the batch goes in whole; its first lines were not kept.
    lines[2] = _event(3, type="stage_changed", lead="B", to="offer")
    text = "\n".join(json.dumps(x) for x in lines) + "\n"
    assert await _post_lines(stack, text) == (
        200,
        {"recorded": 4, "alreadyRecorded": 0},
    )
    lead = await _lead(stack, "B")
    assert lead is not None
    assert (lead.stage, lead.responsible) == ("offer", "marina")


async def test_graphql_names_a_bad_event_by_its_index(stack: Stack) -> None:
    await stack.apply(DEMO.read_text(encoding="utf-8"))
    body = await _record(
        stack,
        [
            _created(1, "C"),
            {"type": "stage_changed", "at": "2026-11-02T09:00:00+07:00", "lead": "C"},
            _event(3, type="stage_changed", lead="C"),
            "not an object",
        ],
    )
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert [(p["path"], p["message"]) for p in error["extensions"]["problems"]] == [
        (
            "events[1].id",
            "each event needs an 'id' of your own (text, 1 to 200 characters), so "
            "that sending it again records it once",
        ),
        ("events[1].to", "Field required"),
        ("events[2].to", "Field required"),
        ("events[3]", "must be a JSON object"),
    ]
    assert body["data"] is None
    assert await _lead(stack, "C") is None


async def test_an_id_sent_again_with_other_content_is_refused(stack: Stack) -> None:
    await stack.apply(DEMO.read_text(encoding="utf-8"))
    first = await _record(stack, [_created(1, "D")])
    assert first["data"]["recordEvents"] == {"recorded": 1, "alreadyRecorded": 0}
    body = await _record(
        stack,
        [
            _event(2, type="stage_changed", lead="D", to="offer"),
            _created(1, "E"),
        ],
    )
    (error,) = body["errors"]
    assert [(p["path"], p["message"]) for p in error["extensions"]["problems"]] == [
        (
            "events[1].id",
            "an event with id 'e1' was recorded before and said something else; "
            "give a new event a new id",
        )
    ]
    lead = await _lead(stack, "D")
    assert lead is not None and lead.stage == "taken"


async def test_partners_and_admins_feed_events_managers_do_not(stack: Stack) -> None:
    await stack.apply(DEMO.read_text(encoding="utf-8"))
    text = json.dumps(_created(1, "F")) + "\n"
    status, body = await _post_lines(stack, text, role="manager")
    assert status == 403, body
    assert body["code"] == "FORBIDDEN"
    reply = await stack.http.post("/crm/events", content=text.encode())
    assert reply.status_code == 401, reply.text
    assert await _lead(stack, "F") is None
    assert await _post_lines(stack, text, role="admin") == (
        200,
        {"recorded": 1, "alreadyRecorded": 0},
    )


async def test_an_empty_or_undecodable_body_says_what_to_send(stack: Stack) -> None:
    await stack.apply(DEMO.read_text(encoding="utf-8"))
    assert await _post_lines(stack, "") == (
        400,
        {"error": "send at least one event", "code": "BAD_USER_INPUT"},
    )
    reply = await stack.http.post(
        "/crm/events", content=b"\xff\xfe{}", headers=_auth(stack)
    )
    assert reply.status_code == 400
    assert reply.json()["error"] == (
        "send the events as UTF-8 text, one JSON object a line"
    )
