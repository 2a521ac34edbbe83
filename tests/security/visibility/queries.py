"""Visibility of the lists and reports: the journal, leads, eligibility,
presence and schedules, the pool, waiting leads, and the reports."""

from __future__ import annotations

from tests.security.seed import OTHER_MANAGER
from tests.security.visibility.world import (
    FORBIDDEN,
    NONE,
    OWN,
    A,
    Items,
    Probe,
    World,
    decisions_of,
    graphql,
)


def journal(**args: str) -> Probe:
    async def probe(world: World, token: str) -> Items | str:
        names = "".join(f", {k}: ${k}" for k in args)
        defs = ", ".join(f"${k}: ID" for k in args)
        data = await graphql(
            world,
            token,
            f"query{f'({defs})' if defs else ''} {{ decisions(first: 500{names}) "
            "{ edges { node { actor assignee } } } }",
            **{k: world.ids.get(v, v) for k, v in args.items()},
        )
        if isinstance(data, str):
            return data
        return decisions_of([e["node"] for e in data["decisions"]["edges"]])

    return probe


def users_of(field: str, query: str, key: str = "userId") -> Probe:
    async def probe(world: World, token: str) -> Items | str:
        data = await graphql(world, token, query)
        if isinstance(data, str):
            return data
        rows = data[field]
        if isinstance(rows, dict):  # a report's rows, or the users on duty
            rows = rows.get("rows", rows.get("users"))
        return [{r[key]} for r in rows if r[key]]

    return probe


def asking_for_a_colleague(query: str) -> Probe:
    async def probe(world: World, token: str) -> Items | str:
        data = await graphql(world, token, query, u=OTHER_MANAGER)
        return data if isinstance(data, str) else [{OTHER_MANAGER}]

    return probe


async def leads(world: World, token: str) -> Items | str:
    data = await graphql(
        world, token, "{ leads(first: 200) { edges { node { responsible } } } }"
    )
    if isinstance(data, str):
        return data
    return [{e["node"]["responsible"]} for e in data["leads"]["edges"]]


async def lead_ids(world: World, token: str) -> Items | str:
    data = await graphql(world, token, "{ matchingLeadIds }")
    if isinstance(data, str):
        return data
    return [{world.owners[x]} for x in data["matchingLeadIds"]]


async def pool(world: World, token: str) -> Items | str:
    data = await graphql(
        world, token, '{ pool(groupId: "main") { edges { node { responsible } } } }'
    )
    if isinstance(data, str):
        return data
    return [{"pool"}]


async def waiting(world: World, token: str) -> Items | str:
    data = await graphql(
        world, token, "{ waitingLeads { total stuckPools { leads } } }"
    )
    if isinstance(data, str):
        return data
    return [{"pool"}]  # held and stuck leads wait for somebody: they are nobody's


# One row per list or report: (name, probe, what each role gets).
ROWS: list[tuple[str, Probe, dict[str, str]]] = [
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
]
