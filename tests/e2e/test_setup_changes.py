"""Changing the setup of the demo account without fear (issue 19 points 1 and 2).

A preview is what the apply then does; a file changes only what it names;
nothing is removed without leave; a file that sets nothing, or is meant
for another account, is refused and changes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from leadrouter import cli_setup
from leadrouter.demo import WORKSPACE as DEMO_FILE
from leadrouter.setup_diff import canonical
from leadrouter.setup_services import read_setup
from leadrouter.workspace import Workspace
from tests.stack import Stack

DEMO = DEMO_FILE.read_text(encoding="utf-8")
APPLY = """mutation($y: String!, $dry: Boolean!, $prune: Boolean!) {
  applyWorkspace(yaml: $y, dryRun: $dry, allowRemovals: $prune) {
    ok applied changes problems { path message }
    changeList { kind what field from to removal }
  }
}"""

ONE_GROUP = """
groups:
  - id: main
    name: Sales floor
    source_stages: [sales/new]
    target_stage: sales/taken
    key_stage: sales/meeting
    exchange_users: [pool]
    cascade: true
    members:
      - user: marina
        limits: {max_active: 12, max_overdue_tasks: 1, max_lost_today: 3}
"""


async def _apply(
    stack: Stack, text: str, *, dry_run: bool = False, prune: bool = False
) -> dict[str, Any]:
    data = await stack.data(APPLY, {"y": text, "dry": dry_run, "prune": prune})
    result: dict[str, Any] = data["applyWorkspace"]
    return result


async def _setup(stack: Stack) -> Workspace:
    return canonical(await read_setup(stack.clients, stack.account))


@pytest.fixture
async def demo(any_stack: Stack) -> Stack:
    loaded = await _apply(any_stack, DEMO)
    assert loaded["ok"] and loaded["applied"], loaded["problems"]
    return any_stack


async def test_a_dry_run_lists_exactly_what_the_apply_then_does(demo: Stack) -> None:
    edited = (
        DEMO.replace("max_active: 5, max_overdue_tasks: 1", "max_active: 12")
        .replace("    cascade: true\n", "    cascade: false\n")
        .replace('window: "09:00-16:00"', 'window: "09:00-15:00"')
        + """  - id: night
    match: {channels: [call]}
    days: [sat, sun]
    participants: [{user: marina}]
"""
    )
    before = await _setup(demo)
    preview = await _apply(demo, edited, dry_run=True)
    assert preview["ok"] and not preview["applied"]
    assert await _setup(demo) == before  # the preview wrote nothing
    assert preview["changes"] == [
        "group main: cascade true → false",
        "group main, member marina: max_active 5 → 12",
        "group main, member marina: max_overdue_tasks 1 → off",
        "template calls-day: window 09:00-16:00 → 09:00-15:00",
        "template night: added",
    ]
    applied = await _apply(demo, edited)
    assert applied["applied"]
    assert applied["changes"] == preview["changes"]
    assert applied["changeList"] == preview["changeList"]
    assert applied["changeList"][1] == {
        "kind": "changed",
        "what": "group main, member marina",
        "field": "max_active",
        "from": "5",
        "to": "12",
        "removal": False,
    }
    again = await _apply(demo, edited, dry_run=True)
    assert again["changes"] == []


async def test_a_pruning_preview_lists_the_removals_first_and_is_what_happens(
    demo: Stack,
) -> None:
    pruned = DEMO.replace("      - user: pavel\n        enabled: false\n", "")
    pruned = pruned[: pruned.index("  - id: calls-saturday")]
    pruned = pruned.replace('window: "09:00-16:00"', 'window: "09:00-15:00"')
    preview = await _apply(demo, pruned, dry_run=True, prune=True)
    assert preview["changes"] == [
        "group main, member pavel: removed",
        "template calls-saturday: removed",
        "template calls-day: window 09:00-16:00 → 09:00-15:00",
    ]
    assert [c["removal"] for c in preview["changeList"]] == [True, True, False]
    applied = await _apply(demo, pruned, prune=True)
    assert applied["changes"] == preview["changes"]
    setup = await _setup(demo)
    assert [t.id for t in setup.templates][-1] == "calls-night"
    assert "pavel" not in [m.user for m in setup.groups[0].members]


@pytest.mark.parametrize(
    "text",
    ["", "\n\n", "# the setup of the sales floor\n# (to be written)\n", "{}\n"],
    ids=["empty", "blank", "comments", "empty-mapping"],
)
async def test_a_file_that_sets_nothing_is_refused_and_changes_nothing(
    demo: Stack, text: str
) -> None:
    before = await _setup(demo)
    for prune in (False, True):
        result = await _apply(demo, text, prune=prune)
        assert not result["ok"] and not result["applied"]
        assert result["changes"] == []
        (problem,) = result["problems"]
        assert "sets nothing" in problem["message"]
        assert "leadrouter export" in problem["message"]
    assert await _setup(demo) == before


async def test_a_file_for_another_account_is_refused_and_changes_nothing(
    demo: Stack,
) -> None:
    before = await _setup(demo)
    other = "account: {id: globex, timezone: UTC}\n" + ONE_GROUP
    result = await _apply(demo, other, prune=True)
    assert not result["ok"]
    assert result["problems"] == [
        {
            "path": "account.id",
            "message": "this file is for account 'globex', not 'acme'; "
            "nothing was changed",
        }
    ]
    assert await _setup(demo) == before


async def test_a_one_group_file_changes_that_group_and_removes_nothing(
    demo: Stack,
) -> None:
    before = await _setup(demo)
    result = await _apply(demo, ONE_GROUP)
    assert result["changes"] == ["group main, member marina: max_active 5 → 12"]
    after = await _setup(demo)
    assert after.templates == before.templates
    assert after.schedules == before.schedules
    assert after.users == before.users
    assert after.account.timezone == "Asia/Tomsk"  # the file has no account block
    assert [m.user for m in after.groups[0].members] == [
        "ursula",
        "nadezhda",
        "marina",
        "pavel",
    ]


async def test_a_file_without_users_or_one_schedule_deactivates_nobody(
    demo: Stack,
) -> None:
    only_marina = """
schedules:
  - user: marina
    weekly: {sat: ["09:00-17:00"]}
    presence: follow_schedule
"""
    result = await _apply(demo, only_marina)
    assert result["changes"] == [
        "schedule of marina: weekly.mon ['00:00-09:00', '16:00-23:59'] → none",
        "schedule of marina: weekly.tue ['00:00-09:00', '16:00-23:59'] → none",
        "schedule of marina: weekly.wed ['00:00-09:00', '16:00-23:59'] → none",
        "schedule of marina: weekly.thu ['00:00-09:00', '16:00-23:59'] → none",
        "schedule of marina: weekly.fri ['00:00-09:00', '16:00-23:59'] → none",
    ]
    setup = await _setup(demo)
    assert all(u.active for u in setup.users)
    assert [s.user for s in setup.schedules] == ["ursula", "nadezhda", "marina"]


async def test_the_limits_editor_changes_the_setup_through_the_same_function(
    demo: Stack,
) -> None:
    saved = await demo.data(
        """mutation { updateMemberLimits(groupId: "main", userId: "marina",
             enabled: true, limits: [{limit: "max_active", value: 7}]) { ok } }"""
    )
    assert saved["updateMemberLimits"]["ok"]
    preview = await _apply(demo, DEMO, dry_run=True)
    assert preview["changes"] == [
        "group main, member marina: max_active 7 → 5",
        "group main, member marina: max_overdue_tasks off → 1",
        "group main, member marina: max_lost_today off → 3",
    ]


async def test_the_command_line_previews_and_applies_the_same_list(
    demo: Stack,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(cli_setup.Clients, "from_settings", lambda _s: demo.clients)
    path = tmp_path / "team.yaml"
    path.write_text(ONE_GROUP)
    assert await cli_setup.apply(demo.settings, str(path), "acme", True, False) == 0
    preview = capsys.readouterr().out
    assert await cli_setup.apply(demo.settings, str(path), "acme", False, False) == 0
    applied = capsys.readouterr().out
    line = "  group main, member marina: max_active 5 → 12\n"
    kept = "not in the file, 12 left as they are (--prune would remove them):\n"
    assert preview.startswith(
        f"{path}: would change (dry run, nothing written):\n{line}{kept}"
        "  group main, member ursula; group main, member nadezhda;"
    )
    assert applied.startswith(f"{path}: changed (version 2):\n{line}{kept}")
    path.write_text("# nothing yet\n")
    assert await cli_setup.apply(demo.settings, str(path), "acme", False, True) == 1
    assert "sets nothing" in capsys.readouterr().out
