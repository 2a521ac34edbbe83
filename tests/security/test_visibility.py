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

import asyncio
import csv
import io
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from tests.e2e.reports_fixtures import live_gateway, settled
from tests.security.operations import OPERATIONS, error_codes
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


async def _graphql(world: World, token: str, query: str, **variables: Any) -> Any:
    body = await world.stack.gql(query, variables, token=token)
    if body.get("errors"):
        return error_codes(body)[0]
    return body["data"]


def _decisions(nodes: list[dict[str, Any]]) -> Items:
    return [{n["actor"], n["assignee"] or n["actor"]} for n in nodes]


def journal(**args: str) -> Probe:
    async def probe(world: World, token: str) -> Items | str:
        names = "".join(f", {k}: ${k}" for k in args)
        defs = ", ".join(f"${k}: ID" for k in args)
        data = await _graphql(
            world,
            token,
            f"query{f'({defs})' if defs else ''} {{ decisions(first: 500{names}) "
            "{ edges { node { actor assignee } } } }",
            **{k: world.ids.get(v, v) for k, v in args.items()},
        )
        if isinstance(data, str):
            return data
        return _decisions([e["node"] for e in data["decisions"]["edges"]])

    return probe


def one_decision(which: str) -> Probe:
    async def probe(world: World, token: str) -> Items | str:
        data = await _graphql(
            world,
            token,
            "query($id: ID!) { decision(id: $id) { actor assignee } }",
            id=world.ids[which],
        )
        return data if isinstance(data, str) else _decisions([data["decision"]])

    return probe


def live_journal(group: str | None) -> Probe:
    """The live journal replayed from its start up to the sentinel decision."""

    async def probe(world: World, token: str) -> Items | str:
        # The newest decision this caller's journal shows ends the replay.
        newest = await _graphql(
            world, token, "{ decisions(first: 1) { edges { node { id } } } }"
        )
        last = newest["decisions"]["edges"][0]["node"]["id"]
        query = (
            "subscription($g: ID, $after: ID) { decisionMade(groupId: $g, "
            "after: $after) { id actor assignee } }"
        )
        seen: list[dict[str, Any]] = []
        async with connect(
            world.ws, subprotocols=[Subprotocol("graphql-transport-ws")]
        ) as ws:
            payload = {"Authorization": f"Bearer {token}"}
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            ack = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            assert ack["type"] == "connection_ack", ack
            variables = {"g": group, "after": "0"}
            await ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": query, "variables": variables},
                    }
                )
            )
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
                payload = message.get("payload")
                if message["type"] == "error" or payload.get("errors"):
                    errors = (
                        payload if message["type"] == "error" else payload["errors"]
                    )
                    return str(errors[0]["extensions"]["code"])
                d = payload["data"]["decisionMade"]
                seen.append(d)
                if d["id"] == last:
                    return _decisions(seen)

    return probe


def live_pool(world: World, token: str) -> Awaitable[Items | str]:
    async def probe() -> Items | str:
        async with connect(
            world.ws, subprotocols=[Subprotocol("graphql-transport-ws")]
        ) as ws:
            payload = {"Authorization": f"Bearer {token}"}
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            query = 'subscription { poolChanged(groupId: "main") { totalCount } }'
            await ws.send(
                json.dumps(
                    {"id": "1", "type": "subscribe", "payload": {"query": query}}
                )
            )
            message = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            payload = message["payload"]
            if message["type"] == "error" or payload.get("errors"):
                errors = payload if message["type"] == "error" else payload["errors"]
                return str(errors[0]["extensions"]["code"])
            return [{"pool"}]  # a pool's leads belong to the exchange, to nobody

    return probe()


def users_of(field: str, query: str, key: str = "userId") -> Probe:
    async def probe(world: World, token: str) -> Items | str:
        data = await _graphql(world, token, query)
        if isinstance(data, str):
            return data
        rows = data[field]
        if isinstance(rows, dict):  # a report's rows, or the users on duty
            rows = rows.get("rows", rows.get("users"))
        return [{r[key]} for r in rows if r[key]]

    return probe


def asking_for_a_colleague(query: str) -> Probe:
    async def probe(world: World, token: str) -> Items | str:
        data = await _graphql(world, token, query, u=OTHER_MANAGER)
        return data if isinstance(data, str) else [{OTHER_MANAGER}]

    return probe


async def leads(world: World, token: str) -> Items | str:
    data = await _graphql(
        world, token, "{ leads(first: 200) { edges { node { responsible } } } }"
    )
    if isinstance(data, str):
        return data
    return [{e["node"]["responsible"]} for e in data["leads"]["edges"]]


def one_lead(which: str) -> Probe:
    async def probe(world: World, token: str) -> Items | str:
        data = await _graphql(
            world,
            token,
            "query($id: ID!) { lead(id: $id) { responsible } }",
            id=world.ids[which],
        )
        return data if isinstance(data, str) else [{data["lead"]["responsible"]}]

    return probe


def lead_history(which: str) -> Probe:
    async def probe(world: World, token: str) -> Items | str:
        data = await _graphql(
            world,
            token,
            "query($id: ID!) { leadHistory(leadId: $id) { lead { responsible } } }",
            id=world.ids[which],
        )
        if isinstance(data, str):
            return data
        return [{data["leadHistory"]["lead"]["responsible"]}]

    return probe


async def lead_ids(world: World, token: str) -> Items | str:
    data = await _graphql(world, token, "{ matchingLeadIds }")
    if isinstance(data, str):
        return data
    return [{world.owners[x]} for x in data["matchingLeadIds"]]


async def pool(world: World, token: str) -> Items | str:
    data = await _graphql(
        world, token, '{ pool(groupId: "main") { edges { node { responsible } } } }'
    )
    if isinstance(data, str):
        return data
    return [{"pool"}]


async def waiting(world: World, token: str) -> Items | str:
    data = await _graphql(
        world, token, "{ waitingLeads { total stuckPools { leads } } }"
    )
    if isinstance(data, str):
        return data
    return [{"pool"}]  # held and stuck leads wait for somebody: they are nobody's


def _id_of(cell: str) -> str:
    """The id of "Ursula (ursula)", as an export writes a person."""
    found = re.search(r"\(([^()]*)\)$", cell)
    return found.group(1) if found else cell


def export(path: str, column: str, total: str = "") -> Probe:
    async def probe(world: World, token: str) -> Items | str:
        reply = await world.stack.http.get(
            path, headers={"Authorization": f"Bearer {token}"}
        )
        if reply.status_code != 200:
            return str(reply.json()["code"])
        rows = list(csv.DictReader(io.StringIO(reply.text)))
        return [{_id_of(r[column])} for r in rows if r[column] not in ("", total)]

    return probe


A = ACCOUNT
# One row per read path: (name, probe, what each role gets).
TABLE: list[tuple[str, Probe, dict[str, str]]] = [
    (
        "decisions",
        journal(),
        {"admin": A, "viewer": A, "partner": A, "manager": OWN, "outsider": OWN},
    ),
    (
        "decisions(groupId)",
        journal(groupId="main"),
        {"admin": A, "viewer": A, "partner": A, "manager": OWN, "outsider": OWN},
    ),
    (
        "decisions(leadId) of a colleague's lead",
        journal(leadId="other_managers_lead"),
        {"admin": A, "viewer": A, "partner": A, "manager": NONE, "outsider": NONE},
    ),
    (
        "decisions(userId) of a colleague",
        journal(userId=OTHER_MANAGER),
        {
            "admin": A,
            "viewer": A,
            "partner": A,
            "manager": FORBIDDEN,
            "outsider": FORBIDDEN,
        },
    ),
    (
        "decision: the manager's own claim",
        one_decision("claim_decision"),
        {"admin": A, "viewer": A, "partner": A, "manager": OWN},
    ),
    (
        "decision: a colleague's claim",
        one_decision("other_managers_decision"),
        {"admin": A, "viewer": A, "partner": A, "manager": NOT_FOUND},
    ),
    (
        "decision: a colleague's refusal",
        one_decision("refusal_decision"),
        {"admin": A, "viewer": A, "partner": A, "manager": NOT_FOUND},
    ),
    (
        "decision: a manual assignment to a colleague",
        one_decision("manual_decision"),
        {"admin": A, "viewer": A, "partner": A, "manager": NOT_FOUND},
    ),
    (
        "subscription decisionMade",
        live_journal(None),
        {"admin": A, "viewer": A, "partner": A, "manager": OWN, "outsider": OWN},
    ),
    (
        "subscription decisionMade(groupId)",
        live_journal("main"),
        {"admin": A, "viewer": A, "partner": A, "manager": OWN, "outsider": OWN},
    ),
    (
        "leads",
        leads,
        {
            "admin": A,
            "viewer": FORBIDDEN,
            "partner": FORBIDDEN,
            "manager": OWN,
            "outsider": NONE,
        },
    ),
    (
        "leads(responsible) of a colleague",
        asking_for_a_colleague(
            "query($u: ID) { leads(responsible: $u) { totalCount } }"
        ),
        {
            "admin": A,
            "viewer": FORBIDDEN,
            "partner": FORBIDDEN,
            "manager": FORBIDDEN,
            "outsider": FORBIDDEN,
        },
    ),
    (
        "lead: the manager's own",
        one_lead("claimed_lead"),
        {
            "admin": A,
            "viewer": FORBIDDEN,
            "partner": FORBIDDEN,
            "manager": OWN,
            "outsider": NOT_FOUND,
        },
    ),
    (
        "lead: a colleague's",
        one_lead("other_managers_lead"),
        {
            "admin": A,
            "viewer": FORBIDDEN,
            "partner": FORBIDDEN,
            "manager": NOT_FOUND,
            "outsider": NOT_FOUND,
        },
    ),
    (
        "leadHistory: the manager's own lead",
        lead_history("claimed_lead"),
        {
            "admin": A,
            "viewer": FORBIDDEN,
            "partner": FORBIDDEN,
            "manager": OWN,
            "outsider": NOT_FOUND,
        },
    ),
    (
        "leadHistory: a colleague's lead",
        lead_history("other_managers_lead"),
        {
            "admin": A,
            "viewer": FORBIDDEN,
            "partner": FORBIDDEN,
            "manager": NOT_FOUND,
            "outsider": NOT_FOUND,
        },
    ),
    (
        "matchingLeadIds",
        lead_ids,
        {
            "admin": A,
            "viewer": FORBIDDEN,
            "partner": FORBIDDEN,
            "manager": OWN,
            "outsider": NONE,
        },
    ),
    (
        "eligibility",
        users_of("eligibility", '{ eligibility(groupId: "main") { userId } }'),
        {
            "admin": A,
            "viewer": A,
            "partner": FORBIDDEN,
            "manager": OWN,
            "outsider": OWN,
        },
    ),
    (
        "eligibility of a colleague",
        asking_for_a_colleague(
            'query($u: ID!) { eligibility(groupId: "main", userIds: [$u]) { userId } }'
        ),
        {
            "admin": A,
            "viewer": A,
            "partner": FORBIDDEN,
            "manager": FORBIDDEN,
            "outsider": FORBIDDEN,
        },
    ),
    (
        "schedule of a colleague",
        asking_for_a_colleague(
            'query($u: ID!) { schedule(userId: $u, from: "2026-11-02T00:00:00Z", '
            'to: "2026-11-03T00:00:00Z") { start } }'
        ),
        {
            "admin": A,
            "viewer": A,
            "partner": FORBIDDEN,
            "manager": FORBIDDEN,
            "outsider": FORBIDDEN,
        },
    ),
    (
        "presence",
        users_of("presence", "{ presence { userId } }"),
        {
            "admin": A,
            "viewer": A,
            "partner": FORBIDDEN,
            "manager": OWN,
            "outsider": OWN,
        },
    ),
    (
        "onDuty",
        users_of("onDuty", "{ onDuty { users { userId } } }", "userId"),
        {"admin": A, "viewer": A, "partner": A, "manager": OWN, "outsider": NONE},
    ),
    (
        "pool",
        pool,
        {
            "admin": A,
            "viewer": A,
            "partner": FORBIDDEN,
            "manager": A,
            "outsider": FORBIDDEN,
        },
    ),
    (
        "subscription poolChanged",
        live_pool,
        {
            "admin": A,
            "viewer": A,
            "partner": FORBIDDEN,
            "manager": A,
            "outsider": FORBIDDEN,
        },
    ),
    (
        "waitingLeads",
        waiting,
        {
            "admin": A,
            "viewer": A,
            "partner": FORBIDDEN,
            "manager": FORBIDDEN,
            "outsider": FORBIDDEN,
        },
    ),
    (
        "distributionReport",
        users_of(
            "distributionReport",
            '{ distributionReport(from: "2026-10-01", to: "2026-11-30") '
            "{ rows { userId } } }",
        ),
        {
            "admin": A,
            "viewer": A,
            "partner": FORBIDDEN,
            "manager": OWN,
            "outsider": NONE,
        },
    ),
    (
        "distributionReport of a colleague",
        asking_for_a_colleague(
            'query($u: ID!) { distributionReport(from: "2026-10-01", '
            'to: "2026-11-30", userIds: [$u]) { total } }'
        ),
        {
            "admin": A,
            "viewer": A,
            "partner": FORBIDDEN,
            "manager": FORBIDDEN,
            "outsider": FORBIDDEN,
        },
    ),
    (
        "lossReasonsReport by manager",
        users_of(
            "lossReasonsReport",
            '{ lossReasonsReport(from: "2026-10-01", to: "2026-11-30", '
            "groupBy: MANAGER) { rows { key } } }",
            "key",
        ),
        {
            "admin": A,
            "viewer": A,
            "partner": FORBIDDEN,
            "manager": OWN,
            "outsider": NONE,
        },
    ),
    (
        "distribution.csv",
        export("/reports/distribution.csv?from=2026-10-01&to=2026-11-30", "Manager"),
        {
            "admin": A,
            "viewer": A,
            "partner": FORBIDDEN,
            "manager": OWN,
            "outsider": NONE,
        },
    ),
    (
        "loss-reasons.csv by manager",
        export(
            "/reports/loss-reasons.csv?from=2026-10-01&to=2026-11-30&groupBy=manager",
            "Manager",
            total="All leads",
        ),
        {
            "admin": A,
            "viewer": A,
            "partner": FORBIDDEN,
            "manager": OWN,
            "outsider": NONE,
        },
    ),
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


def verdict(expected: str, got: Items | str, me: str) -> bool:
    if isinstance(got, str) or expected in (FORBIDDEN, NOT_FOUND):
        return got == expected
    if expected == NONE:
        return got == []
    if expected == OWN:
        return bool(got) and all(me in owners for owners in got)
    return any(owners - {me} for owners in got)  # ACCOUNT: others' items too


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


async def _world(stack: Stack, ws: str) -> World:
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


async def test_every_read_path_shows_each_role_what_the_rule_allows(
    stack: Stack,
) -> None:
    wrong = []
    cells = 0
    async with live_gateway(stack) as ws:
        world = await _world(stack, ws)
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
