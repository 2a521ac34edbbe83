"""Malformed workspace files and history: every problem named by path or line,
and a refused file changes nothing.

Hypothesis mutates a valid workspace (a key dropped, a value swapped for one
of the wrong kind or an unknown reference, an unknown key added, the YAML
text broken) and a valid history (a field dropped or spoiled, a line cut or
made not JSON). Each answer must be one of two: applied, or refused with
problems that each say where; and after a refusal everything reads as
before.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from typing import Any

import yaml
from hypothesis import strategies as st

from leadrouter.crm.v1 import crm_pb2
from tests.fixtures import WORKSPACE, lead_created
from tests.security.operations import collect
from tests.stack import Stack

WORKSPACE_EXAMPLES = 60
HISTORY_EXAMPLES = 40
BASE = (
    WORKSPACE
    + """schedules:
  - user: ursula
    weekly: {mon: ["09:00-19:00"], tue: ["09:00-19:00"]}
    exceptions: [{from: 2026-12-01, to: 2026-12-14, reason: vacation}]
templates:
  - id: calls
    match: {channels: [call]}
    days: [mon, tue]
    window: "09:00-18:00"
    participants: [{user: ursula, weight: 1}, {user: nadezhda, weight: 2}]
    algorithm: weighted
    when_nobody: hold
"""
)
BASE_TREE: dict[str, Any] = yaml.safe_load(BASE)
EVERYTHING = """{
  viewer { account { timezone } }
  users { id name technical active }
  pipelines { id name archived stages { id name kind } }
  groups { id name sourceStages targetStage exchangeUsers cascade excludedStages
           keyStage saleStages lossStages
           members { userId enabled limits { limit value } } }
  schedule(userId: "ursula", from: "2026-11-01T00:00:00Z",
           to: "2026-12-31T00:00:00Z") { start end }
  onDuty(at: "2026-11-02T05:00:00Z", channel: "call") {
    users { userId working } template { id algorithm participants { userId weight } }
  }
  leads(first: 200) { totalCount edges { node { id stage responsible closedAt } } }
}"""
JUNK = st.one_of(
    st.none(),
    st.integers(-5, 10**12),
    st.sampled_from(["", "nobody", "sales/nowhere", "25:00-26:00", "2026-13-45"]),
    st.lists(st.sampled_from(["x", 1, None]), max_size=2),
    st.fixed_dictionaries({"unknown": st.just(1)}),
    st.text(max_size=12),
)
BREAKS = [":", "- ", "{", "]", "\t", "'", "&a ", "*b ", "\n  - oops", "\x00", "%"]


def paths(node: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at] if at else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*at, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += paths(value, (*at, i))
    return found


@st.composite
def broken_workspaces(draw: st.DrawFn) -> str:
    how = draw(st.sampled_from(["drop", "replace", "add key", "text"]))
    if how == "text":
        where = draw(st.integers(0, len(BASE)))
        cut = draw(st.booleans())
        return (
            BASE[:where]
            if cut
            else BASE[:where] + draw(st.sampled_from(BREAKS)) + BASE[where:]
        )
    tree = copy.deepcopy(BASE_TREE)
    path = draw(st.sampled_from(paths(tree)))
    parent = tree
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if how == "drop":
        del parent[last]
    elif how == "replace":
        parent[last] = draw(JUNK)
    else:
        target = parent[last] if isinstance(parent[last], dict) else parent
        if isinstance(target, dict):
            target[draw(st.sampled_from(["colour", "max_everything", "id2"]))] = 1
        else:
            parent[last] = draw(JUNK)
    return yaml.safe_dump(tree, sort_keys=False, allow_unicode=True)


def base_history(tag: str) -> list[dict[str, Any]]:
    at = "2026-11-01T09:00:00+07:00"
    created = lead_created(f"H{tag}", datetime.fromisoformat(at))
    return [
        created,
        {
            "type": "stage_changed",
            "at": "2026-11-01T10:00:00+07:00",
            "lead": f"H{tag}",
            "to": "taken",
        },
        {
            "type": "responsible_changed",
            "at": "2026-11-01T10:00:00+07:00",
            "lead": f"H{tag}",
            "to": "ursula",
        },
    ]


@st.composite
def broken_histories(draw: st.DrawFn) -> list[str]:
    events = base_history("{tag}")
    lines = [json.dumps(e) for e in events]
    line = draw(st.integers(0, len(lines) - 1))
    how = draw(st.sampled_from(["drop", "replace", "cut", "not json", "add"]))
    event = dict(events[line])
    if how in ("drop", "replace"):
        key = draw(st.sampled_from(sorted(event)))
        if how == "drop":
            del event[key]
        else:
            event[key] = draw(JUNK)
        lines[line] = json.dumps(event)
    elif how == "cut":
        lines[line] = lines[line][: draw(st.integers(0, len(lines[line]) - 1))]
    elif how == "not json":
        lines[line] = draw(st.sampled_from(["", "[]", "null", "{", "lead_created"]))
    else:
        event[draw(st.sampled_from(["colour", "lead2"]))] = 1
        lines[line] = json.dumps(event)
    return lines


async def test_broken_workspaces_are_applied_whole_or_refused_with_paths(
    stack: Stack,
) -> None:
    assert (await stack.apply(BASE))["ok"]
    before = await stack.data(EVERYTHING)
    refused = applied = 0
    for text in collect(broken_workspaces(), WORKSPACE_EXAMPLES):
        result = await stack.apply(text)
        if result["ok"]:
            applied += 1
            assert result["problems"] == []
            restored = await stack.apply(BASE)
            assert restored["ok"], restored
            before = await stack.data(EVERYTHING)
            continue
        refused += 1
        assert result["changes"] == [], text
        assert result["problems"], text
        for problem in result["problems"]:
            assert problem["message"], (text, problem)
            # Not valid YAML: the whole file, by its line (`line` in the answer).
            whole_file = any(
                w in problem["message"] for w in ("workspace", "file", "YAML")
            )
            assert problem["path"] or whole_file, (text, problem)
        assert await stack.data(EVERYTHING) == before, text
    print(f"\nworkspace files: {refused} refused, {applied} applied")
    assert refused > WORKSPACE_EXAMPLES // 2


async def test_broken_histories_are_imported_whole_or_refused_by_line(
    stack: Stack,
) -> None:
    assert (await stack.apply(BASE))["ok"]
    before = await stack.data(EVERYTHING)
    refused = applied = 0
    for n, lines in enumerate(collect(broken_histories(), HISTORY_EXAMPLES)):
        lines = [x.replace("{tag}", str(n)) for x in lines]
        reply = await stack.clients.crm.import_history(
            crm_pb2.ImportHistoryRequest(account=stack.account, lines=lines),
        )
        if not reply.problems:
            applied += 1
            assert reply.applied == len([x for x in lines if x.strip()]), lines
            before = await stack.data(EVERYTHING)
            continue
        refused += 1
        assert reply.applied == 0, lines
        for problem in reply.problems:
            assert problem.path.startswith("line "), (lines, problem)
            assert problem.message, (lines, problem)
        assert await stack.data(EVERYTHING) == before, lines
    print(f"\nhistory files: {refused} refused, {applied} applied")
    assert refused > HISTORY_EXAMPLES // 2
