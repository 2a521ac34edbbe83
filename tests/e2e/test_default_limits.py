"""A group's default limits (seed 000 "По-умолчанию лимиты настроены", issue 23.13).

A member without a value of their own takes the group's default; the file
parses, checks, exports, lists and restores them like every other setting.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from leadrouter.limit_rules import RECOMMENDED, RULES
from leadrouter.setup_diff import changes_between
from leadrouter.workspace import parse_workspace
from tests.e2e.limits_history import (
    History,
    apply,
    claim,
    limit,
    refusal,
    verdict,
    workspace,
)
from tests.stack import Stack


def _with_defaults(defaults: dict[str, int], members: dict[str, dict[str, int]]) -> str:
    return workspace(members, counting={"default_limits": defaults})


async def test_a_member_without_a_value_of_their_own_takes_the_groups_default(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    # Ursula has no max_active of her own: the group's 2 holds for her.
    # Nadezhda's own 5 wins over it.
    await apply(
        stack,
        _with_defaults(
            {"max_active": 2}, {"ursula": {}, "nadezhda": {"max_active": 5}}
        ),
    )
    start = stack.clock.now() - timedelta(days=2)
    history = History()
    for owner in ("ursula", "nadezhda"):
        for i in range(2):
            history.lead(f"{owner}{i}", start, owner=owner, stage="taken")
    history.lead("P1", start, owner="pool")
    history.lead("P2", start + timedelta(minutes=1), owner="pool")
    await history.load(stack, tmp_path)

    assert await limit(stack, "ursula", "max_active") == verdict(2, 2, False)
    assert await limit(stack, "nadezhda", "max_active") == verdict(2, 5, True)
    # The press is judged the same way (by the assigner's copy of the settings).
    assert await claim(stack, "ursula") == {
        "__typename": "Refused",
        "reasons": [refusal("max_active", 2, 2)],
    }
    claimed = await claim(stack, "nadezhda")
    assert claimed["__typename"] == "Claimed"

    # The group's default moves to 3: Ursula, 2 open leads, may claim now.
    await apply(
        stack,
        _with_defaults(
            {"max_active": 3}, {"ursula": {}, "nadezhda": {"max_active": 5}}
        ),
    )
    assert await limit(stack, "ursula", "max_active") == verdict(2, 3, True)
    # And so does her press: the assigner's copy follows the new defaults.
    pressed = await claim(stack, "ursula")
    assert pressed["__typename"] == "Claimed", pressed


async def test_default_limits_changes_are_listed_kept_as_versions_and_restored(
    any_stack: Stack,
) -> None:
    stack = any_stack
    members = {"ursula": {"interval_minutes": 10}}
    await apply(
        stack, _with_defaults({"max_active": 50, "interval_minutes": 5}, members)
    )
    changed = await stack.apply(
        _with_defaults({"max_active": 12, "max_lost_month": 10}, members)
    )
    assert changed["ok"], changed["problems"]
    assert changed["changes"] == [
        "group main: default_limits.interval_minutes 5 → off",
        "group main: default_limits.max_active 50 → 12",
        "group main: default_limits.max_lost_month off → 10",
    ]
    versions = (await stack.data("{ workspaceVersions { number changes } }"))[
        "workspaceVersions"
    ]
    assert versions[0]["changes"] == changed["changes"]

    exported = (await stack.data("{ exportWorkspace }"))["exportWorkspace"]
    assert "default_limits: {max_active: 12, max_lost_month: 10}" in exported
    again = await stack.apply(exported)
    assert again["ok"] and again["changes"] == []

    restored = await stack.data(
        "mutation($v: Int!) { restoreWorkspace(version: $v) { ok changes } }",
        {"v": versions[1]["number"]},
    )
    assert restored["restoreWorkspace"]["changes"] == [
        "group main: default_limits.interval_minutes off → 5",
        "group main: default_limits.max_active 12 → 50",
        "group main: default_limits.max_lost_month 10 → off",
    ]
    exported = (await stack.data("{ exportWorkspace }"))["exportWorkspace"]
    assert "default_limits: {interval_minutes: 5, max_active: 50}" in exported


def test_default_limits_are_checked_like_a_members_with_every_problem_at_once() -> None:
    text = _with_defaults(
        {"max_active": 100_001, "interval_minutes": -1, "max_lost_today": 2.5},
        {"ursula": {"max_active": 100_001}},
    )
    ws, problems = parse_workspace(text)
    assert ws is None
    assert sorted((p.path, p.message) for p in problems) == [
        ("groups[0].default_limits.interval_minutes", "must be >= 0"),
        (
            "groups[0].default_limits.max_active",
            "must be a whole number from 0 to 100000",
        ),
        ("groups[0].default_limits.max_lost_today", "must be a whole number"),
        (
            "groups[0].members[0].limits.max_active",
            "must be a whole number from 0 to 100000",
        ),
    ]


async def test_a_days_cap_of_lost_leads_above_the_months_is_refused_where_it_is_set(
    stack: Stack,
) -> None:
    reply = await stack.apply(
        _with_defaults(
            {"max_lost_month": 4},
            {"ursula": {"max_lost_today": 5}, "nadezhda": {"max_lost_today": 3}},
        )
    )
    assert not reply["ok"]
    assert reply["problems"] == [
        {
            "path": "groups[0].members[0].limits.max_lost_today",
            "message": "group main, member Ursula: must not be more than the "
            "month's cap of lost leads (4): "
            "today's losses count in the month's too",
        }
    ]


def test_the_recommended_set_is_within_the_bounds_and_never_judges_results() -> None:
    for rule in RULES:
        if rule.recommended is not None:
            assert rule.low <= rule.recommended <= rule.high, rule.name
    assert RECOMMENDED == {
        "interval_minutes": 5,
        "max_active": 50,
        "max_new_today": 20,
        "max_overdue_tasks": 3,
        "max_overdue_days": 5,
    }


def test_a_members_value_that_goes_says_the_group_default_it_takes_instead() -> None:
    before, _ = parse_workspace(
        _with_defaults({"interval_minutes": 5}, {"ursula": {"interval_minutes": 10}})
    )
    after, _ = parse_workspace(
        _with_defaults({"interval_minutes": 5}, {"ursula": {"max_active": 7}})
    )
    assert before is not None and after is not None
    assert [str(c) for c in changes_between(before, after)] == [
        "group main, member ursula: interval_minutes 10 → group default 5",
        "group main, member ursula: max_active off → 7",
    ]


MEMBER = """mutation($u: ID!, $l: [LimitValueInput!]!, $d: Boolean!) {
  updateMemberLimits(groupId: "main", userId: $u, enabled: true, limits: $l,
                     dryRun: $d) {
    ok changes problems { path message } member { userId limits { limit value } }
  }
}"""

DEFAULTS = """mutation($l: [LimitValueInput!]!, $d: Boolean!) {
  updateDefaultLimits(groupId: "main", limits: $l, dryRun: $d) {
    ok changes problems { path message } defaultLimits { limit value }
  }
}"""


async def test_the_editors_preview_is_the_change_its_save_then_makes(
    stack: Stack,
) -> None:
    await apply(
        stack, _with_defaults({"interval_minutes": 5}, {"ursula": {"max_active": 5}})
    )
    row = {"u": "ursula", "l": [{"limit": "max_active", "value": 12}]}
    preview = (await stack.data(MEMBER, {**row, "d": True}))["updateMemberLimits"]
    assert preview == {
        "ok": True,
        "changes": ["group main, member ursula: max_active 5 → 12"],
        "problems": [],
        "member": None,
    }
    # Nothing was saved by the preview.
    again = (await stack.data(MEMBER, {**row, "d": True}))["updateMemberLimits"]
    assert again["changes"] == preview["changes"]
    saved = (await stack.data(MEMBER, {**row, "d": False}))["updateMemberLimits"]
    assert saved["changes"] == preview["changes"]
    assert saved["member"]["limits"] == [{"limit": "max_active", "value": 12}]

    defaults = {"l": [{"limit": "interval_minutes", "value": 7}]}
    preview = (await stack.data(DEFAULTS, {**defaults, "d": True}))[
        "updateDefaultLimits"
    ]
    assert preview["changes"] == ["group main: default_limits.interval_minutes 5 → 7"]
    saved = (await stack.data(DEFAULTS, {**defaults, "d": False}))[
        "updateDefaultLimits"
    ]
    assert saved["defaultLimits"] == [{"limit": "interval_minutes", "value": 7}]
    group = await stack.data('{ group(id: "main") { defaultLimits { limit value } } }')
    assert group["group"]["defaultLimits"] == [
        {"limit": "interval_minutes", "value": 7}
    ]


async def test_the_editor_hears_the_servers_refusal_at_the_field_and_nothing_is_saved(
    stack: Stack,
) -> None:
    await apply(stack, _with_defaults({"max_lost_month": 4}, {"ursula": {}}))
    row = {"u": "ursula", "l": [{"limit": "max_lost_today", "value": 6}], "d": True}
    refused = (await stack.data(MEMBER, row))["updateMemberLimits"]
    assert refused["ok"] is False and refused["changes"] == []
    assert refused["problems"] == [
        {
            "path": "limits.max_lost_today",
            "message": "must not be more than the month's cap of lost leads (4): "
            "today's losses count in the month's too",
        }
    ]
    big = {"u": "ursula", "l": [{"limit": "max_active", "value": 100_001}], "d": False}
    refused = (await stack.data(MEMBER, big))["updateMemberLimits"]
    assert refused["problems"] == [
        {
            "path": "limits.max_active",
            "message": "must be a whole number from 0 to 100000",
        }
    ]
    # New defaults that contradict a member's own value name the member.
    await apply(
        stack, _with_defaults({"max_lost_month": 4}, {"ursula": {"max_lost_today": 3}})
    )
    # The problem is told at the value that changed.
    own = {
        "u": "ursula",
        "l": [
            {"limit": "max_lost_today", "value": 3},
            {"limit": "max_lost_month", "value": 2},
        ],
        "d": True,
    }
    refused = (await stack.data(MEMBER, own))["updateMemberLimits"]
    assert refused["problems"] == [
        {
            "path": "limits.max_lost_month",
            "message": "must not be less than the day's cap of lost leads (3): "
            "today's losses count in the month's too",
        }
    ]
    lower = {"l": [{"limit": "max_lost_month", "value": 2}], "d": True}
    refused = (await stack.data(DEFAULTS, lower))["updateDefaultLimits"]
    assert [p["path"] for p in refused["problems"]] == [
        "members.ursula.limits.max_lost_today"
    ]
    versions = (await stack.data("{ workspaceVersions { number } }"))[
        "workspaceVersions"
    ]
    assert len(versions) == 2  # the two files; no refused edit left a version


async def test_the_limit_rules_are_served_for_the_editor(stack: Stack) -> None:
    rules = (await stack.data("{ limitRules { limit unit min max recommended } }"))[
        "limitRules"
    ]
    assert [r["limit"] for r in rules] == [r.name for r in RULES]
    assert rules[1] == {
        "limit": "max_active",
        "unit": "leads",
        "min": 0,
        "max": 100_000,
        "recommended": 50,
    }


async def test_a_file_that_names_a_group_without_default_limits_keeps_them(
    stack: Stack,
) -> None:
    await apply(stack, _with_defaults({"max_active": 50}, {"ursula": {}}))
    again = await stack.apply(workspace({"ursula": {"max_active": 7}}))
    assert again["ok"] and again["changes"] == [
        "group main, member ursula: max_active group default 50 → 7"
    ]
    exported = (await stack.data("{ exportWorkspace }"))["exportWorkspace"]
    assert "default_limits: {max_active: 50}" in exported
