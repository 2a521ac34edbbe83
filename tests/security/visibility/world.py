"""The account every visibility cell is asked of, the roles, and the verdict."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tests.e2e.reports_fixtures import settled
from tests.security.operations import error_codes
from tests.security.seed import (
    ADMIN,
    MANAGER,
    OTHER_MANAGER,
    PARTNER,
    SECURITY_WORKSPACE,
    VIEWER,
    seed,
)
from tests.stack import Stack

WAIT = 10.0
OUTSIDER = "marina-outside"  # a manager of the account in no group at all
WORKSPACE = SECURITY_WORKSPACE.replace(
    "  - {id: pool, name: Lead exchange, technical: true}\n",
    "  - {id: pool, name: Lead exchange, technical: true}\n"
    f"  - {{id: {OUTSIDER}, name: Outside}}\n",
) + (
    "schedules:\n"
    f"  - {{user: {MANAGER}, free: true, presence: manual}}\n"
    f"  - {{user: {OTHER_MANAGER}, free: true, presence: manual}}\n"
)
# What a caller may get on one read path.
ACCOUNT = "account"  # items about others too
OWN = "own"  # some items, every one the caller's own
NONE = "none"  # no item at all
FORBIDDEN, NOT_FOUND = "FORBIDDEN", "NOT_FOUND"
A = ACCOUNT
ROLES = {
    "admin": (ADMIN, "admin"),
    "viewer": (VIEWER, "viewer"),
    "partner": (PARTNER, "partner"),
    "manager": (MANAGER, "manager"),
    "outsider": (OUTSIDER, "manager"),
}
# Whose an item is: the users it is about. An item is the caller's own when
# the caller is one of them (a decision's actor or assignee).
Items = list[set[str]]


@dataclass
class World:
    stack: Stack
    ids: dict[str, str]
    owners: dict[str, str]  # lead id -> its responsible user
    ws: str  # the gateway's ws:// address, for subscriptions


Probe = Callable[[World, str], Awaitable["Items | str"]]


async def graphql(world: World, token: str, query: str, **variables: Any) -> Any:
    body = await world.stack.gql(query, variables, token=token)
    if body.get("errors"):
        return error_codes(body)[0]
    return body["data"]


def decisions_of(nodes: list[dict[str, Any]]) -> Items:
    return [{n["actor"], n["assignee"] or n["actor"]} for n in nodes]


def verdict(expected: str, got: Items | str, me: str) -> bool:
    if isinstance(got, str) or expected in (FORBIDDEN, NOT_FOUND):
        return got == expected
    if expected == NONE:
        return got == []
    if expected == OWN:
        return bool(got) and all(me in owners for owners in got)
    return any(owners - {me} for owners in got)  # ACCOUNT: others' items too


async def build_world(stack: Stack, ws: str) -> World:
    ids = await seed(stack)
    admin = stack.token(ADMIN, "admin")
    applied = await stack.data(
        "mutation($y: String!) { applyWorkspace(yaml: $y) { ok problems { path } } }",
        {"y": WORKSPACE},
        token=admin,
    )
    assert applied["applyWorkspace"]["ok"], applied
    for user in (MANAGER, OTHER_MANAGER):
        await stack.data(
            "mutation($u: ID!) { setPresence(userId: $u, online: true) { online } }",
            {"u": user},
            token=admin,
        )
    manual = await stack.data(
        'mutation($l: ID!) { assignLeads(leadIds: [$l], userIds: ["nadezhda"]) '
        "{ decisions { id } } }",
        {"l": ids["pool_lead"]},
        token=admin,
    )
    ids["manual_decision"] = manual["assignLeads"]["decisions"][0]["id"]
    # One lead of each manager closes: the loss report has a row for each.
    at = stack.clock.now().isoformat()
    await stack.import_history(
        [
            {
                "type": "stage_changed",
                "at": at,
                "lead": ids["claimed_lead"],
                "to": "won",
            },
            {
                "type": "stage_changed",
                "at": at,
                "lead": ids["other_managers_lead"],
                "to": "lost",
            },
        ]
    )
    for user in (MANAGER, OUTSIDER):  # the newest decisions, one each
        await stack.data(
            'mutation { claimLead(groupId: "main") { __typename } }',
            token=stack.token(user, "manager"),
        )
    everything = await stack.data(
        "{ leads(first: 200) { edges { node { id responsible } } } }", token=admin
    )
    owners = {
        e["node"]["id"]: e["node"]["responsible"] for e in everything["leads"]["edges"]
    }
    await settled(stack)
    return World(stack, ids, owners, ws)
