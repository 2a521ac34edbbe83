"""Export, versions and restore (issue 19 point 3).

An export applies back with no change; every applied change is kept as a
numbered version with who, when and what; a restore brings a setup back
through the same change, with its own preview.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from leadrouter import cli_setup
from leadrouter.demo import WORKSPACE as DEMO_FILE
from leadrouter.setup_diff import canonical
from leadrouter.setup_services import read_setup
from leadrouter.workspace import Workspace, parse_workspace
from tests.stack import Stack

DEMO = DEMO_FILE.read_text(encoding="utf-8")
RESULT = "ok applied changes kept version problems { path message }"

# Every key of the workspace file (contract.md section 3), each set to
# something other than its default.
EVERY_KEY = """
account: {id: acme, timezone: Europe/Moscow}
users:
  - {id: olga, name: Olga}
  - {id: ivan, name: Ivan, active: false}
  - {id: boris, name: Boris}
  - {id: exchange, name: Exchange, technical: true}
pipelines:
  - id: b2b
    name: Business
    archived: false
    stages:
      - {id: new, name: New, kind: open}
      - {id: talk, name: Talking, kind: open}
      - {id: demo, name: Demo given, kind: open}
      - {id: won, name: Won, kind: won}
      - {id: paid, name: Paid, kind: won}
      - {id: lost, name: Lost, kind: lost, loss_reasons: [price, silence],
         require_loss_reason: true}
      - {id: spam, name: Spam, kind: lost}
  - id: old
    name: Old pipeline
    archived: true
    stages: [{id: inbox}]
groups:
  - id: floor
    name: The floor
    source_stages: [b2b/new]
    target_stage: b2b/talk
    excluded_stages: [b2b/spam]
    key_stage: b2b/demo
    sale_stages: [b2b/paid]
    loss_stages: [b2b/lost]
    exchange_users: [exchange]
    cascade: true
    default_limits: {interval_minutes: 5, max_active: 40, max_lost_month: 20}
    members:
      - user: olga
        enabled: true
        limits: {interval_minutes: 10, max_active: 50, max_new_today: 20,
                 max_overdue_tasks: 3, max_overdue_days: 5,
                 days_without_sales: 14, max_lost_today: 5,
                 max_lost_month: 10, min_sales_last_month: 2,
                 min_key_stage_last_week: 5}
      - {user: boris, enabled: false}
schedules:
  - user: olga
    weekly: {mon: ["09:00-13:00", "14:00-18:00"], sat: ["10:00-14:00"]}
    dates: [{date: 2026-11-29, window: "10:00-14:00"}]
    exceptions: [{from: 2026-12-01, to: 2026-12-14, reason: vacation}]
    presence: follow_schedule
  - user: boris
    cycle: {on: 2, off: 2, anchor: 2026-11-02, window: "20:00-08:00"}
  - user: ivan
    free: true
templates:
  - id: calls
    match: {channels: [call], pipelines: [b2b], tags: [vip]}
    days: [mon, tue]
    window: "16:00-09:00"
    participants: [{user: olga, weight: 2}, {user: boris, weight: 1}]
    algorithm: linked
    fallback_algorithm: least_loaded
    respect_limits: true
    target_stage: b2b/talk
    when_nobody: {user: olga}
    reassign_after_minutes: 30
  - id: written
    match: {channels_except: [call]}
    participants: [{user: boris}]
    algorithm: random
"""


async def _apply(
    stack: Stack, text: str, *, dry_run: bool = False, prune: bool = False
) -> dict[str, Any]:
    data = await stack.data(
        "mutation($y: String!, $d: Boolean!, $p: Boolean!) { applyWorkspace("
        f"yaml: $y, dryRun: $d, allowRemovals: $p) {{ {RESULT} }} }}",
        {"y": text, "d": dry_run, "p": prune},
    )
    result: dict[str, Any] = data["applyWorkspace"]
    assert result["ok"], result["problems"]
    return result


async def _restore(
    stack: Stack, version: int, *, dry_run: bool = False, prune: bool = False
) -> dict[str, Any]:
    data = await stack.data(
        "mutation($v: Int!, $d: Boolean!, $p: Boolean!) { restoreWorkspace("
        f"version: $v, dryRun: $d, allowRemovals: $p) {{ {RESULT} }} }}",
        {"v": version, "d": dry_run, "p": prune},
    )
    result: dict[str, Any] = data["restoreWorkspace"]
    return result


async def _export(stack: Stack) -> str:
    text: str = (await stack.data("{ exportWorkspace }"))["exportWorkspace"]
    return text


async def _setup(stack: Stack) -> Workspace:
    return canonical(await read_setup(stack.clients, stack.account))


@pytest.mark.parametrize("source", ["demo", "every-key"])
async def test_an_export_applies_back_with_no_change(
    any_stack: Stack, source: str
) -> None:
    text = DEMO if source == "demo" else EVERY_KEY
    await _apply(any_stack, text)
    exported = await _export(any_stack)
    assert exported.startswith("# The setup of account 'acme' as it stands")
    again = await _apply(any_stack, exported, dry_run=True, prune=True)
    assert again["changes"] == [] and again["kept"] == []
    assert (await _apply(any_stack, exported, prune=True))["changes"] == []
    # The export says everything the file said: read as a file, it is the same
    # (users come in the order of their ids; the crm keeps no order of them).
    written, _ = parse_workspace(text)
    read_back, _ = parse_workspace(exported)
    assert written is not None and read_back is not None
    people = sorted(written.users, key=lambda u: u.id)
    assert canonical(read_back) == canonical(
        written.model_copy(update={"account": read_back.account, "users": people})
    )


async def test_every_applied_change_is_a_version_with_who_when_and_what(
    stack: Stack,
) -> None:
    await _apply(stack, DEMO)
    await stack.data(
        """mutation { updateMemberLimits(groupId: "main", userId: "marina",
             enabled: true, limits: [{limit: "max_active", value: 7}]) { ok } }""",
        user="helga",
    )
    assert (await _apply(stack, DEMO, dry_run=True))["version"] is None
    versions = (
        await stack.data("{ workspaceVersions { number at author source changes } }")
    )["workspaceVersions"]
    assert [(v["number"], v["author"], v["source"]) for v in versions] == [
        (2, "helga", "updateMemberLimits"),
        (1, "head", "applyWorkspace"),
    ]
    assert versions[0]["changes"] == [
        "group main, member marina: max_active 5 → 7",
        "group main, member marina: max_overdue_tasks 1 → off",
        "group main, member marina: max_lost_today 3 → off",
    ]
    assert versions[0]["at"] == stack.clock.now().isoformat()
    assert "template calls-day: added" in versions[1]["changes"]


async def test_restore_brings_the_setup_back_after_a_destructive_prune(
    any_stack: Stack,
) -> None:
    await _apply(any_stack, DEMO)
    before = await _setup(any_stack)
    only = "groups: []\nschedules: []\ntemplates:\n" + DEMO.split("templates:\n")[1]
    only = only[: only.index("  - id: written-saturday")]
    wiped = await _apply(any_stack, only, prune=True)
    assert wiped["changes"][:3] == [
        "group main: removed",
        "schedule of ursula: removed",
        "schedule of nadezhda: removed",
    ]
    assert wiped["version"] == 2
    assert (await _setup(any_stack)).groups == []

    preview = await _restore(any_stack, 1, dry_run=True)
    assert preview["ok"] and not preview["applied"]
    assert preview["changes"][:2] == ["group main: added", "schedule of ursula: added"]
    assert (await _setup(any_stack)).groups == []  # a preview writes nothing
    restored = await _restore(any_stack, 1)
    assert restored["changes"] == preview["changes"]
    assert restored["version"] == 3
    assert await _setup(any_stack) == before
    assert (await _restore(any_stack, 1, dry_run=True, prune=True))["changes"] == []


async def test_a_restore_keeps_what_was_added_since_unless_told(stack: Stack) -> None:
    await _apply(stack, DEMO)
    night = """
templates:
  - id: night
    match: {channels: [call]}
    days: [sun]
    participants: [{user: marina}]
"""
    assert (await _apply(stack, night))["changes"] == ["template night: added"]
    kept = await _restore(stack, 1)
    assert kept["changes"] == [] and kept["kept"] == ["template night"]
    gone = await _restore(stack, 1, prune=True)
    assert gone["changes"] == ["template night: removed"]
    missing = await stack.gql("mutation { restoreWorkspace(version: 9) { ok } }")
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert "leadrouter history" in missing["errors"][0]["message"]


async def test_a_first_change_keeps_the_setup_that_was_there_before(
    stack: Stack,
) -> None:
    # A setup made before versions were kept (or by an older release): its
    # first kept change keeps it too, so it can come back.
    from leadrouter.setup_services import write_setup

    ws, _ = parse_workspace(DEMO)
    assert ws is not None
    assert not await write_setup(
        stack.clients, ws, stack.account, dry_run=False, directory=True
    )
    before = await _setup(stack)
    changed = await _apply(stack, "groups: []\n", prune=True)
    assert changed["version"] == 2
    assert "group main: removed" in changed["changes"]
    back = await _restore(stack, 1)
    assert "group main: added" in back["changes"]
    assert await _setup(stack) == before


async def test_the_command_line_exports_lists_and_restores(
    stack: Stack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(cli_setup.Clients, "from_settings", lambda _s: stack.clients)
    monkeypatch.setattr(cli_setup, "_login", lambda: "helga")
    await _apply(stack, DEMO)
    exported = tmp_path / "setup.yaml"
    assert await cli_setup.export(stack.settings, str(exported), "acme") == 0
    assert capsys.readouterr().out == (
        f"the setup of account 'acme' is written to {exported}\n"
    )
    edited = exported.read_text().replace("cascade: true", "cascade: false")
    exported.write_text(edited)
    assert (
        await cli_setup.apply(stack.settings, str(exported), "acme", False, True) == 0
    )
    capsys.readouterr()
    assert await cli_setup.history(stack.settings, "acme") == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[:3] == [
        "version 2  2026-11-02 03:00 UTC by helga  leadrouter apply setup.yaml",
        "  group main: cascade true → false",
        "version 1  2026-11-02 03:00 UTC by head  applyWorkspace",
    ]
    assert await cli_setup.restore(stack.settings, 1, "acme", True, False) == 0
    assert capsys.readouterr().out == (
        "version 1: would change (dry run, nothing written):\n"
        "  group main: cascade false → true\n"
    )
    assert await cli_setup.restore(stack.settings, 1, "acme", False, False) == 0
    assert capsys.readouterr().out == (
        "version 1: changed (version 3):\n  group main: cascade false → true\n"
    )
    assert await cli_setup.export(stack.settings, None, "acme") == 0
    assert "(version 3)" in capsys.readouterr().out.splitlines()[0]
