"""Tenancy: two accounts in one deployment, and nothing crosses between them.

The services key every row by account and the account comes only from the
caller's token (`acc`), never from a request. Account B ("globex") is set up
beside account A ("acme") through the same gateway, with the same ids as A
plus ids only B has: a group, a user with a schedule and presence, leads and
decisions. Every role of A then tries every way to read or change B by those
ids: queries, mutations, subscriptions and CSV exports. Each answer must
show nothing of B, and B must be exactly as it was.
"""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.reports_fixtures import caught_up, live_gateway
from tests.fixtures import lead_created
from tests.security.gateways import (
    amocrm_gateway,
    amocrm_settings,
    client,
    first_message,
    headers_for,
)
from tests.security.operations import error_codes
from tests.security.seed import ADMIN, MANAGER, PARTNER, SECURITY_WORKSPACE, VIEWER
from tests.security.seed import seed as seed_account
from tests.stack import Stack

B = "globex"
B_WORKSPACE = (
    SECURITY_WORKSPACE.replace(
        "  - {id: pool, name: Lead exchange, technical: true}\n",
        "  - {id: pool, name: Lead exchange, technical: true}\n"
        "  - {id: bella, name: Bella}\n",
    )
    + """  - id: gx
    source_stages: [sales/new]
    target_stage: sales/taken
    exchange_users: [pool]
    members:
      - {user: bella}
schedules:
  - user: bella
    weekly: {mon: ["09:00-19:00"]}
    presence: manual
"""
)
FROM, TO = "2026-10-01T00:00:00+07:00", "2026-11-09T00:00:00+07:00"
# Everything B has, as B's admin sees it.
B_VIEW = f"""{{
  groups {{ id members {{ userId enabled limits {{ limit value }} }} }}
  main: pool(groupId: "main") {{ totalCount edges {{ node {{ id responsible }} }} }}
  gx: pool(groupId: "gx") {{ totalCount edges {{ node {{ id responsible }} }} }}
  leads(first: 100) {{ totalCount edges {{ node {{ id stage responsible }} }} }}
  decisions(first: 100) {{ edges {{ node {{ id outcome assignee }} }} }}
  presence {{ userId online onDuty }}
  schedule(userId: "bella", from: "{FROM}", to: "{TO}") {{ start end }}
  distributionReport(from: "2026-10-01", to: "2026-11-09") {{ total }}
  lossReasonsReport(from: "2026-10-01", to: "2026-11-09") {{ total {{ won lost }} }}
}}"""


async def set_up_b(stack: Stack) -> dict[str, Any]:
    admin = stack.token(ADMIN, "admin", B)
    await seed_account(stack, B)
    applied = await stack.data(
        "mutation($y: String!) { applyWorkspace(yaml: $y) { ok problems { path } } }",
        {"y": B_WORKSPACE},
        token=admin,
    )
    assert applied["applyWorkspace"]["ok"], applied
    start = stack.clock.now().replace(hour=0)
    previous, stack.account = stack.account, B
    try:
        await stack.import_history(
            [lead_created(f"BX{i}", start) for i in range(1, 4)]
            + [
                {
                    "type": "stage_changed",
                    "at": start.isoformat(),
                    "lead": "BX3",
                    "to": "lost",
                }
            ]
        )
    finally:
        stack.account = previous
    bella = stack.token("bella", "manager", B)
    claimed = await stack.data(
        'mutation { claimLead(groupId: "gx") { ... on Claimed { lead { id } '
        "decision { id } } } }",
        token=bella,
    )
    await stack.data(
        'mutation { setPresence(userId: "bella", online: true) { online } }',
        token=bella,
    )
    # The reports read B's decisions after they are made: B's view is taken
    # once they have, or a late one would look like A's doing.
    await caught_up(stack.clients, B, timeout=60)
    view = await stack.data(B_VIEW, token=admin)
    return {
        "decision": claimed["claimLead"]["decision"]["id"],
        "claimed": claimed["claimLead"]["lead"]["id"],
        "view": view,
    }


EXPORTS = [
    f"/reports/{name}?from=2026-10-01&to=2026-11-09&{param}"
    for name in ("distribution.csv", "loss-reasons.csv")
    for param in ("groupId=gx", "userId=bella")
]
SUBSCRIPTIONS = [
    'subscription { poolChanged(groupId: "gx") { totalCount } }',
    'subscription { decisionMade(after: "0") { id } }',
]


def attempts(b: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every way into B by B's ids, as queries and mutations."""
    d = b["decision"]
    window = {"from": FROM, "to": TO}
    return [
        ('{ group(id: "gx") { id members { userId } } }', {}),
        ('{ pool(groupId: "gx") { totalCount edges { node { id } } } }', {}),
        ('{ eligibility(groupId: "gx") { userId eligible } }', {}),
        (
            'query($f: DateTime!, $t: DateTime!) { schedule(userId: "bella", '
            "from: $f, to: $t) { start end } }",
            {"f": window["from"], "t": window["to"]},
        ),
        ("query($id: ID!) { decision(id: $id) { id assignee } }", {"id": d}),
        ('{ decisions(groupId: "gx") { edges { node { id } } } }', {}),
        ('{ decisions(userId: "bella") { edges { node { id } } } }', {}),
        ('{ decisions(leadId: "BX1") { edges { node { id } } } }', {}),
        ('{ presence(userIds: ["bella"]) { userId online working } }', {}),
        ('{ leads(responsible: "bella") { totalCount } }', {}),
        ('{ matchingLeadIds(responsible: "bella") }', {}),
        (
            '{ distributionReport(from: "2026-10-01", to: "2026-11-09", '
            'groupIds: ["gx"]) { total rows { userId } } }',
            {},
        ),
        (
            '{ distributionReport(from: "2026-10-01", to: "2026-11-09", '
            'userIds: ["bella"]) { total } }',
            {},
        ),
        (
            '{ lossReasonsReport(from: "2026-10-01", to: "2026-11-09", '
            'groupIds: ["gx"]) { total { won lost } } }',
            {},
        ),
        ('mutation { claimLead(groupId: "gx") { __typename } }', {}),
        (
            'mutation { claimLead(groupId: "gx", userId: "bella") { __typename } }',
            {},
        ),
        ('mutation { reopenLead(leadId: "BX3") { id stage } }', {}),
        ('mutation { distributeLead(leadId: "BX2") { id outcome } }', {}),
        (
            'mutation { assignLeads(leadIds: ["BX2"], userIds: ["ursula"]) '
            "{ dryRun } }",
            {},
        ),
        (
            'mutation { transferLeads(fromUserId: "bella", toUserId: "ursula") '
            "{ dryRun } }",
            {},
        ),
        ('mutation { setPresence(userId: "bella", online: false) { online } }', {}),
        (
            'mutation { updateMemberLimits(groupId: "gx", userId: "bella", '
            "enabled: false, limits: []) { ok } }",
            {},
        ),
    ]


def shows_nothing_of_b(body: dict[str, Any], b: dict[str, Any]) -> bool:
    """An error, or data in which none of B's leads, decisions or facts appear."""
    if body.get("errors"):
        return body.get("data") is None and set(error_codes(body)) <= {
            "NOT_FOUND",
            "FORBIDDEN",
            "BAD_USER_INPUT",
        }
    text = json.dumps(body["data"])
    if any(f'"{x}"' in text for x in ("BX1", "BX2", "BX3", b["decision"])):
        return False
    data = body["data"]
    found = next(iter(data.values()))
    if isinstance(found, dict) and "edges" in found:
        return found["edges"] == []
    if isinstance(found, dict) and "total" in found:
        return found["total"] in (0, {"won": 0, "lost": 0})
    if isinstance(found, dict) and "totalCount" in found:
        return found["totalCount"] == 0
    if isinstance(found, list):  # lead ids, or presence: nobody of B online
        return all(isinstance(x, dict) and not x.get("online") for x in found)
    return found == {"__typename": "Refused"}  # a claim in A's own group


async def test_account_a_sees_and_moves_nothing_of_account_b(
    any_stack: Stack,
) -> None:
    stack = any_stack  # on SQLite files and on PostgreSQL
    await seed_account(stack)  # account A, acme
    b = await set_up_b(stack)
    a_roles = {
        "admin": stack.token(ADMIN, "admin"),
        "manager": stack.token(MANAGER, "manager"),
        "partner": stack.token(PARTNER, "partner"),
        "viewer": stack.token(VIEWER, "viewer"),
    }
    leaks: list[str] = []
    tried = 0
    for role, token in a_roles.items():
        for query, variables in attempts(b):
            body = await stack.gql(query, variables, token=token)
            tried += 1
            if not shows_nothing_of_b(body, b):
                leaks.append(f"{role}: {query} -> {json.dumps(body)[:300]}")
        for export in EXPORTS:
            reply = await stack.http.get(export, headers=headers_for(token))
            tried += 1
            header_only = len(reply.text.strip().splitlines()) == 1
            if not (
                reply.status_code == 403 or (reply.status_code == 200 and header_only)
            ):
                leaks.append(f"{role}: {export} -> {reply.text[:300]}")
        async with live_gateway(stack) as url:
            address = url.removeprefix("ws://").removesuffix("/graphql")
            for query in SUBSCRIPTIONS:
                body = await first_message(address, headers_for(token), query, {})
                tried += 1
                if body.get("errors"):
                    continue
                got = json.dumps(body["data"])
                if f'"{b["decision"]}"' in got or '"totalCount": 1' in got:
                    leaks.append(f"{role}: {query} -> {got[:300]}")
    after = await stack.data(B_VIEW, token=stack.token(ADMIN, "admin", B))
    print(f"\ntenancy: {tried} attempts by 4 roles of account A on account B")
    assert not leaks, "\n".join(leaks)
    assert after == b["view"]  # B is exactly as it was

    # The same reads by B's own admin do find B's things: the ids were real.
    own = stack.token(ADMIN, "admin", B)
    found = [
        q
        for q, v in attempts(b)
        if not q.startswith("mutation")
        and not shows_nothing_of_b(await stack.gql(q, v, token=own), b)
    ]
    assert len(found) >= 10, found
    exported = await stack.http.get(EXPORTS[1], headers=headers_for(own))
    assert "Bella (bella),1" in exported.text


async def test_a_webhook_reaches_the_crm_only_through_its_own_intake_secret(
    stack: Stack,
) -> None:
    """The intake URL's secret names the deployment's one amoCRM account; the
    body cannot choose another. The built-in crm behind this gateway refuses
    amoCRM webhooks, so a 503 shows one was handed over and a 404 that it
    was not."""
    settings = amocrm_settings(stack)
    # The secret another deployment (account B's) would print for its intake.
    b_secret = settings.model_copy(
        update={"secret": "globex-secret-of-at-least-thirty-two-bytes"}
    ).amocrm_hook_secret
    assert b_secret != settings.amocrm_hook_secret
    body = "leads[add][0][id]=1&account[subdomain]=globex&account[id]=999"
    async with amocrm_gateway(stack) as (app, _), client(app) as http:
        for secret in (b_secret, b_secret.upper(), "", "x" * 32):
            reply = await http.post(f"/webhooks/amocrm/{secret}", content=body)
            assert reply.status_code in (404, 405), (secret, reply.text)
        own = await http.post(
            f"/webhooks/amocrm/{settings.amocrm_hook_secret}", content=body
        )
        assert own.status_code == 503  # handed to this deployment's crm, for acme
