"""Applying a workspace and importing history: all or nothing, problems named."""

from __future__ import annotations

import json

from leadrouter.crm.v1 import crm_pb2
from tests.fixtures import WORKSPACE, lead_created
from tests.stack import Stack


async def test_applying_the_same_workspace_twice_changes_nothing(
    any_stack: Stack,
) -> None:
    first = await any_stack.apply(WORKSPACE)
    assert first["ok"]
    assert "user ursula: added" in first["changes"]
    assert "group main: added" in first["changes"]
    assert "pipeline sales: added" in first["changes"]
    second = await any_stack.apply(WORKSPACE)
    assert second == {"ok": True, "changes": [], "problems": []}


async def test_every_problem_is_reported_with_its_path_and_nothing_applied(
    stack: Stack,
) -> None:
    bad = WORKSPACE.replace(
        "{user: marina, limits: {max_active: 2}}",
        "{user: marina, limits: {max_active: -1, max_nonsense: 3}}",
    )
    bad = bad.replace("source_stages: [sales/new]", "source_stages: [sales/nowhere]")
    bad = bad.replace("exchange_users: [pool]", "exchange_users: [ghost]")
    result = await stack.apply(bad)
    assert not result["ok"]
    assert result["changes"] == []
    problems = {(p["path"], p["message"]) for p in result["problems"]}
    # The shape and the references at once: one answer tells every mistake.
    member = "group main, member Marina: "
    assert problems == {
        ("groups[0].members[2].limits.max_active", member + "must be >= 0"),
        ("groups[0].members[2].limits.max_nonsense", member + "unknown field"),
        ("groups[0].source_stages[0]", "group main: unknown stage 'sales/nowhere'"),
        ("groups[0].exchange_users[0]", "group main: unknown user 'ghost'"),
    }
    groups = await stack.data("{ groups { id } }")
    assert groups["groups"] == []
    directory = await stack.gql("{ viewer { account { timezone } } }")
    assert directory["data"]["viewer"]["account"]["timezone"] == "UTC"  # no CRM data


async def test_a_bad_yaml_file_is_reported_by_line(stack: Stack) -> None:
    result = await stack.apply("groups: [\n  - id: x\n")
    assert not result["ok"]
    (problem,) = result["problems"]
    assert problem["path"] == ""
    assert problem["message"].startswith("not valid YAML")


async def test_members_limits_and_settings_are_readable(stack: Stack) -> None:
    await stack.apply(WORKSPACE)
    data = await stack.data(
        """{ group(id: "main") { id sourceStages targetStage keyStage cascade
           exchangeUsers members { userId enabled limits { limit value } } } }"""
    )
    group = data["group"]
    assert group["sourceStages"] == ["sales/new"]
    assert group["targetStage"] == "sales/taken"
    assert group["keyStage"] == "sales/meeting"
    assert group["exchangeUsers"] == ["pool"]
    assert {m["userId"]: (m["enabled"], m["limits"]) for m in group["members"]} == {
        "ursula": (True, []),
        "nadezhda": (True, []),
        "marina": (True, [{"limit": "max_active", "value": 2}]),
        "pavel": (False, []),
    }


async def test_history_with_a_bad_line_is_refused_whole(stack: Stack) -> None:
    await stack.apply(WORKSPACE)
    at = stack.clock.now()
    lines = [
        json.dumps(lead_created("A1", at)),
        '{"type": "lead_created", "at": "2026-11-02T09:00:00", "lead": "A2"}',
        json.dumps(
            {"type": "stage_changed", "at": at.isoformat(), "lead": "Z9", "to": "won"}
        ),
        "not json",
    ]
    reply = await stack.clients.crm.import_history(
        crm_pb2.ImportHistoryRequest(account=stack.account, lines=lines),
    )
    found = [(p.path, p.message) for p in reply.problems]
    assert ("line 2: at", "needs a UTC offset, e.g. 2026-11-02T09:00:00+07:00") in found
    assert ("line 3", "unknown lead 'Z9'") in found
    assert ("line 4", "not valid JSON (Expecting value)") in found
    assert reply.applied == 0
    pool = await stack.data('{ pool(groupId: "main") { totalCount } }')
    assert pool["pool"]["totalCount"] == 0  # A1 was not applied either
