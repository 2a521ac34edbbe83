"""Visibility: one rule over every read path, for every role (contract.md, section 2).

A manager sees their own leads, decisions (as actor or assignee), refusals,
journal entries, eligibility, presence and schedule, and nobody else's; an
admin, a viewer and a partner see the account. The table below names, for
each read path (query, single item, subscription, report, CSV export), what
each caller must get: the account's items, only their own, none, or an
error code. Every cell is asked of the running product; a read path added
to the schema without a row fails `test_every_read_path_has_a_row`.
"""

from __future__ import annotations

from tests.e2e.reports_fixtures import live_gateway
from tests.security.operations import OPERATIONS
from tests.security.visibility import drilldowns, exports, queries, subscriptions
from tests.security.visibility.world import ROLES, Probe, build_world, verdict
from tests.stack import Stack

# Every read path, by family: (name, probe, what each role gets).
TABLE: list[tuple[str, Probe, dict[str, str]]] = [
    *queries.ROWS,
    *drilldowns.ROWS,
    *subscriptions.ROWS,
    *exports.ROWS,
]

# Root fields that read no one's figures: the caller, the setup and the
# directory, a proposal's replay (admins only), how the CRM is reached, the
# limits' bounds, and mutations.
NOT_PERSONAL = {
    "query.viewer",
    "query.crmConnection",
    "query.groups",
    "query.group",
    "query.users",
    "query.pipelines",
    "query.simulate",
    "query.exportWorkspace",
    "query.workspaceVersions",
    "query.limitRules",
}


def test_every_read_path_has_a_row() -> None:
    reads = {o.key for o in OPERATIONS if o.kind != "mutation"} - NOT_PERSONAL
    covered = {
        f"query.{name.split()[0].split('(')[0].split(':')[0]}" for name, _, _ in TABLE
    }
    covered |= {
        f"subscription.{name.split()[1].split('(')[0]}"
        for name, _, _ in TABLE
        if name.startswith("subscription")
    }
    assert reads <= covered, f"read paths with no row: {sorted(reads - covered)}"


async def test_every_read_path_shows_each_role_what_the_rule_allows(
    stack: Stack,
) -> None:
    wrong = []
    cells = 0
    async with live_gateway(stack) as ws:
        world = await build_world(stack, ws)
        for role, (user, kind) in ROLES.items():
            token = stack.token(user, kind)
            for name, probe, expected in TABLE:
                if role not in expected:
                    continue
                cells += 1
                got = await probe(world, token)
                if not verdict(expected[role], got, user):
                    wrong.append(
                        f"{name} as {role}: expected {expected[role]}, got {got}"
                    )
    print(f"\nvisibility: {cells} cells ({len(TABLE)} read paths x {len(ROLES)} roles)")
    assert not wrong, "\n".join(wrong)
