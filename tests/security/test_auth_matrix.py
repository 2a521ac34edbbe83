"""Auth matrix: every query, mutation and subscription of schema.graphql × every caller.

The callers are the four roles of the service's own tokens, an amoCRM widget
user (a manager), and seven that must be turned away: no token, an expired
token, a token signed with another key, and widget tokens for another
audience, of another amoCRM account, past their 30 minutes or not valid
yet. An allowed cell must answer without any error; a refused one with the
expected code and no data. A field added to the schema without a row here
fails the test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from leadrouter.auth import issue_token
from tests.security.gateways import (
    AMO_ACCOUNT,
    TTL,
    amocrm_gateway,
    client,
    first_message,
    headers_for,
    widget_token,
)
from tests.security.operations import OPERATIONS, Operation, error_codes
from tests.security.seed import (
    ADMIN,
    MANAGER,
    OTHER_MANAGER,
    PARTNER,
    SECURITY_WORKSPACE,
    VIEWER,
    WIDGET_MANAGER,
    seed,
)
from tests.stack import Stack

EVERYONE = {"admin", "manager", "partner", "viewer", "widget"}
MANAGERS = {"manager", "widget"}  # an amoCRM widget user acts as a manager
STAFF = {"admin", "viewer", *MANAGERS}
# Who may call each root field (contract.md, section 2: roles).
ALLOWED: dict[str, set[str]] = {
    "query.viewer": EVERYONE,
    "query.groups": STAFF,
    "query.group": STAFF,
    "query.eligibility": STAFF,
    "query.pool": STAFF,
    "query.leads": {"admin", *MANAGERS},
    "query.lead": {"admin", *MANAGERS},
    "query.leadHistory": {"admin", *MANAGERS},
    "query.matchingLeadIds": {"admin", *MANAGERS},
    "query.schedule": STAFF,
    "query.onDuty": EVERYONE,
    "query.decisions": EVERYONE,
    "query.decision": EVERYONE,
    "query.distributionReport": STAFF,
    "query.lossReasonsReport": STAFF,
    "query.users": STAFF,
    "query.pipelines": STAFF,
    "query.presence": STAFF,
    "query.simulate": {"admin"},
    "query.waitingLeads": {"admin", "viewer"},
    "query.crmConnection": EVERYONE,
    "mutation.claimLead": {"admin", *MANAGERS},
    "mutation.submitLead": {"admin", "partner"},
    "mutation.recordEvents": {"admin", "partner"},
    "mutation.reopenLead": {"admin"},
    "mutation.moveLead": {"admin", "partner", *MANAGERS},
    "mutation.distributeLead": {"admin", "partner"},
    "mutation.assignLeads": {"admin"},
    "mutation.transferLeads": {"admin"},
    "mutation.setPresence": {"admin", *MANAGERS},
    "mutation.applyWorkspace": {"admin"},
    "mutation.updateMemberLimits": {"admin"},
    "mutation.updateDefaultLimits": {"admin"},
    "query.limitRules": STAFF,
    "query.exportWorkspace": {"admin"},
    "query.workspaceVersions": {"admin"},
    "mutation.restoreWorkspace": {"admin"},
    "subscription.decisionMade": EVERYONE,
    "subscription.poolChanged": STAFF,
}
FROM, TO = "2026-10-01T00:00:00+07:00", "2026-11-03T00:00:00+07:00"
# Arguments that succeed for an allowed caller; "{self}" is the caller's user
# id, "{own_decision}" a decision about the caller and "{own_lead}" the lead
# the caller claimed (ursula's for non-managers).
ARGS: dict[str, dict[str, Any]] = {
    "query.group": {"id": "main"},
    "query.eligibility": {"groupId": "main"},
    "query.pool": {"groupId": "main"},
    "query.schedule": {"userId": "{self}", "from": FROM, "to": TO},
    "query.decision": {"id": "{own_decision}"},
    "query.distributionReport": {"from": "2026-10-01", "to": "2026-11-02"},
    "query.lossReasonsReport": {"from": "2026-10-01", "to": "2026-11-02"},
    "query.simulate": {"workspaceYaml": SECURITY_WORKSPACE, "from": FROM, "to": TO},
    "mutation.claimLead": {"groupId": "main"},
    "mutation.submitLead": {
        "input": {
            "name": "Website request",
            "channel": "form",
            "pipeline": "sales",
            "stage": "new",
            "responsible": "pool",
        }
    },
    # The same event for each caller: the second one finds it recorded.
    "mutation.recordEvents": {
        "events": [
            {
                "id": "matrix-1",
                "type": "contact_created",
                "at": FROM,
                "contact": "C-matrix",
                "responsible": "pool",
            }
        ]
    },
    "mutation.reopenLead": {"leadId": "L03"},
    # Where the caller's lead already is: every allowed caller gets it back.
    "mutation.moveLead": {"leadId": "{own_lead}", "stage": "sales/taken"},
    "query.lead": {"id": "{own_lead}"},
    "query.leadHistory": {"leadId": "{own_lead}"},
    "mutation.distributeLead": {"leadId": "L06"},
    "mutation.assignLeads": {"leadIds": ["L04"], "userIds": [MANAGER], "dryRun": True},
    "mutation.transferLeads": {
        "fromUserId": MANAGER,
        "toUserId": OTHER_MANAGER,
        "dryRun": True,
    },
    "mutation.setPresence": {"userId": "{self}", "online": True},
    "mutation.applyWorkspace": {"yaml": SECURITY_WORKSPACE, "dryRun": True},
    "mutation.restoreWorkspace": {"version": 1, "dryRun": True},
    "mutation.updateMemberLimits": {
        "groupId": "main",
        "userId": MANAGER,
        "enabled": True,
        "limits": [],
    },
    "mutation.updateDefaultLimits": {"groupId": "main", "limits": [], "dryRun": True},
    "subscription.decisionMade": {"after": "0"},
    "subscription.poolChanged": {"groupId": "main"},
}


@dataclass(frozen=True)
class Caller:
    name: str
    user: str
    headers: dict[str, str]
    refused_with: str = ""  # the code every operation answers, if turned away


def callers(stack: Stack) -> list[Caller]:
    now = stack.clock.now()

    def own(user: str, role: str, secret: str | None = None, **kw: Any) -> str:
        return issue_token(
            secret or stack.settings.signing_secret,
            account=stack.account,
            user_id=user,
            role=role,
            now=kw.get("now", now),
            ttl=TTL,
        )

    def widget(token: str) -> dict[str, str]:
        return headers_for(token, widget=True)

    bearer = headers_for
    return [
        Caller("admin", ADMIN, bearer(own(ADMIN, "admin"))),
        Caller("manager", MANAGER, bearer(own(MANAGER, "manager"))),
        Caller("partner", PARTNER, bearer(own(PARTNER, "partner"))),
        Caller("viewer", VIEWER, bearer(own(VIEWER, "viewer"))),
        Caller("widget", WIDGET_MANAGER, widget(widget_token(now))),
        Caller("no token", "", {}, "UNAUTHENTICATED"),
        Caller(
            "expired token",
            ADMIN,
            bearer(own(ADMIN, "admin", now=now - 2 * TTL)),
            "UNAUTHENTICATED",
        ),
        Caller(
            "token signed with a wrong key",
            ADMIN,
            bearer(own(ADMIN, "admin", "another-secret-of-at-least-thirty-two-b")),
            "UNAUTHENTICATED",
        ),
        Caller(
            "widget token for another audience",
            WIDGET_MANAGER,
            widget(widget_token(now, audience="https://elsewhere.example")),
            "UNAUTHENTICATED",
        ),
        Caller(
            "widget token past its time window",
            WIDGET_MANAGER,
            widget(widget_token(now - timedelta(minutes=31))),
            "UNAUTHENTICATED",
        ),
        Caller(
            "widget token of another amoCRM account",
            WIDGET_MANAGER,
            widget(widget_token(now, account_id=AMO_ACCOUNT + 1)),
            "UNAUTHENTICATED",
        ),
        Caller(
            "widget token before its time window",
            WIDGET_MANAGER,
            widget(widget_token(now + timedelta(minutes=5))),
            "UNAUTHENTICATED",
        ),
    ]


def variables(op: Operation, caller: Caller, ids: dict[str, str]) -> dict[str, Any]:
    own = {
        MANAGER: ids["claim_decision"],
        WIDGET_MANAGER: ids["widget_decision"],
    }.get(caller.user, ids["claim_decision"])
    own_lead = {WIDGET_MANAGER: ids["widget_lead"]}.get(
        caller.user, ids["claimed_lead"]
    )
    out: dict[str, Any] = {}
    for name, value in ARGS.get(op.key, {}).items():
        if value == "{self}":
            value = caller.user or ADMIN
        elif value == "{own_decision}":
            value = own
        elif value == "{own_lead}":
            value = own_lead
        out[name] = value
    return out


def test_every_operation_has_a_row() -> None:
    keys = {o.key for o in OPERATIONS}
    assert keys == set(ALLOWED), (
        f"no matrix row for {sorted(keys - set(ALLOWED))}; "
        f"rows for fields not in the schema: {sorted(set(ALLOWED) - keys)}"
    )


async def test_every_operation_for_every_caller(stack: Stack) -> None:
    ids = await seed(stack)
    wrong: list[str] = []
    cells = 0
    async with amocrm_gateway(stack) as (app, address), client(app) as http:
        for op in OPERATIONS:
            for caller in callers(stack):
                cells += 1
                sent = variables(op, caller, ids)
                query = op.document(list(sent))
                if op.kind == "subscription":
                    body = await first_message(address, caller.headers, query, sent)
                else:
                    reply = await http.post(
                        "/graphql",
                        json={"query": query, "variables": sent},
                        headers=caller.headers,
                    )
                    assert reply.status_code == 200, reply.text
                    body = reply.json()
                codes = error_codes(body)
                data = (body.get("data") or {}).get(op.name)
                if caller.refused_with:
                    expected = [caller.refused_with]
                elif caller.name in ALLOWED[op.key]:
                    expected = []
                else:
                    expected = ["FORBIDDEN"]
                if codes != expected or (expected and data is not None):
                    wrong.append(f"{op.key} as {caller.name}: {codes} {body}"[:400])
                elif not expected:
                    assert data is not None, (op.key, caller.name, body)
    print(f"\nauth matrix: {cells} cells ({len(OPERATIONS)} operations)")
    assert not wrong, "\n".join(wrong)


# A manager's own scope: each way to act for, or read about, another manager.
FOR_SOMEONE_ELSE: list[tuple[str, str, dict[str, Any]]] = [
    (
        "claimLead",
        'mutation($u: ID) { claimLead(groupId: "main", userId: $u) { __typename } }',
        {"u": OTHER_MANAGER},
    ),
    (
        "decisions",
        "query($u: ID) { decisions(userId: $u) { edges { node { id } } } }",
        {"u": OTHER_MANAGER},
    ),
    (
        "schedule",
        f'query($u: ID!) {{ schedule(userId: $u, from: "{FROM}", to: "{TO}") '
        "{ start } }",
        {"u": OTHER_MANAGER},
    ),
    (
        "setPresence",
        "mutation($u: ID!) { setPresence(userId: $u, online: false) { userId } }",
        {"u": OTHER_MANAGER},
    ),
    (
        "eligibility",
        'query($u: ID!) { eligibility(groupId: "main", userIds: [$u]) { userId } }',
        {"u": OTHER_MANAGER},
    ),
    (
        "presence",
        "query($u: ID!) { presence(userIds: [$u]) { userId } }",
        {"u": OTHER_MANAGER},
    ),
    (
        "leads",
        "query($u: ID) { leads(responsible: $u) { totalCount } }",
        {"u": OTHER_MANAGER},
    ),
    (
        "matchingLeadIds",
        "query($u: ID) { matchingLeadIds(responsible: $u) }",
        {"u": OTHER_MANAGER},
    ),
    (
        "distributionReport",
        'query($u: ID!) { distributionReport(from: "2026-10-01", '
        'to: "2026-11-02", userIds: [$u]) { total } }',
        {"u": OTHER_MANAGER},
    ),
    (
        "lossReasonsReport",
        'query($u: ID!) { lossReasonsReport(from: "2026-10-01", '
        'to: "2026-11-02", userIds: [$u]) { total { lost } } }',
        {"u": OTHER_MANAGER},
    ),
]


async def test_a_manager_acts_and_reads_only_for_themselves(stack: Stack) -> None:
    ids = await seed(stack)
    managers = [c for c in callers(stack) if c.name in MANAGERS]

    def headers(caller: Caller) -> dict[str, str]:
        """Fresh headers per request: a widget token opens one session only."""
        return next(c for c in callers(stack) if c.name == caller.name).headers

    checked = 0
    async with amocrm_gateway(stack) as (app, _), client(app) as http:
        for caller in managers:
            for name, query, sent in FOR_SOMEONE_ELSE:
                body = (
                    await http.post(
                        "/graphql",
                        json={"query": query, "variables": sent},
                        headers=headers(caller),
                    )
                ).json()
                assert error_codes(body) == ["FORBIDDEN"], (caller.name, name, body)
                assert body["data"] is None, (caller.name, name, body)
                checked += 1
            # Another manager's decision reads as missing: nothing is learnt of it.
            other = await http.post(
                "/graphql",
                json={
                    "query": "query($id: ID!) { decision(id: $id) { id } }",
                    "variables": {"id": ids["other_managers_decision"]},
                },
                headers=headers(caller),
            )
            assert error_codes(other.json()) == ["NOT_FOUND"], other.json()
            # The journal of their own shows none of another manager's decisions.
            journal = await http.post(
                "/graphql",
                json={
                    "query": "{ decisions { edges { node { id actor assignee } } } }"
                },
                headers=headers(caller),
            )
            nodes = [e["node"] for e in journal.json()["data"]["decisions"]["edges"]]
            assert nodes and all(
                caller.user in (n["actor"], n["assignee"]) for n in nodes
            )
            checked += 2
        # The refused claims moved nothing: the other manager keeps their lead.
        lead = await stack.data(
            "query($id: ID!) { decision(id: $id) { assignee } }",
            {"id": ids["other_managers_decision"]},
        )
        assert lead["decision"]["assignee"] == OTHER_MANAGER
    print(f"\nmanager scope: {checked} cells")
