"""Who may do what: tokens, roles, and a manager's own scope."""

from __future__ import annotations

from datetime import timedelta

import jwt

from leadrouter.auth import issue_token
from tests.e2e.test_claim import CLAIM, _setup
from tests.stack import Stack


def code(body: dict) -> str:
    return str(body["errors"][0]["extensions"]["code"])


async def test_no_token_is_unauthenticated(stack: Stack) -> None:
    body = await stack.gql("{ viewer { role } }", token="")
    assert code(body) == "UNAUTHENTICATED"
    assert "Bearer" in body["errors"][0]["message"]


async def test_expired_token_is_unauthenticated(stack: Stack) -> None:
    old = stack.token("ursula", "manager")
    stack.clock.advance(timedelta(hours=2))
    body = await stack.gql("{ viewer { role } }", token=old)
    assert code(body) == "UNAUTHENTICATED"
    assert "expired" in body["errors"][0]["message"]


async def test_token_signed_with_another_key_is_unauthenticated(stack: Stack) -> None:
    forged = issue_token(
        "another-secret-of-at-least-thirty-two-bytes",
        account=stack.account,
        user_id="head",
        role="admin",
        now=stack.clock.now(),
        ttl=timedelta(hours=1),
    )
    body = await stack.gql("{ viewer { role } }", token=forged)
    assert code(body) == "UNAUTHENTICATED"


async def test_unsigned_token_is_unauthenticated(stack: Stack) -> None:
    claims = {"sub": "head", "acc": stack.account, "role": "admin", "iss": "leadrouter"}
    unsigned = jwt.encode(claims, key="", algorithm="none")
    body = await stack.gql("{ viewer { role } }", token=unsigned)
    assert code(body) == "UNAUTHENTICATED"


async def test_viewer_names_the_caller(stack: Stack) -> None:
    await _setup(stack, pool=0)
    data = await stack.data(
        "{ viewer { user { id name } account { id timezone } role } }",
        user="ursula",
        role="manager",
    )
    assert data["viewer"] == {
        "user": {"id": "ursula", "name": "Ursula"},
        "account": {"id": "acme", "timezone": "Asia/Tomsk"},
        "role": "MANAGER",
    }


async def test_manager_cannot_claim_for_someone_else(stack: Stack) -> None:
    await _setup(stack, pool=1)
    body = await stack.gql(
        CLAIM.replace("idempotencyKey: $k", 'idempotencyKey: $k, userId: "nadezhda"'),
        {"g": "main"},
        user="ursula",
        role="manager",
    )
    assert code(body) == "FORBIDDEN"
    pool = await stack.data('{ pool(groupId: "main") { totalCount } }')
    assert pool["pool"]["totalCount"] == 1


async def test_manager_cannot_read_another_managers_decisions(stack: Stack) -> None:
    await _setup(stack, pool=1)
    claimed = await stack.data(CLAIM, {"g": "main"}, user="ursula", role="manager")
    decision_id = claimed["claimLead"]["decision"]["id"]
    listing = await stack.gql(
        '{ decisions(userId: "ursula") { edges { node { id } } } }',
        user="nadezhda",
        role="manager",
    )
    assert code(listing) == "FORBIDDEN"
    one = await stack.gql(
        "query($id: ID!) { decision(id: $id) { id } }",
        {"id": decision_id},
        user="nadezhda",
        role="manager",
    )
    assert code(one) == "NOT_FOUND"


async def test_only_admins_apply_workspaces(stack: Stack) -> None:
    body = await stack.gql(
        'mutation { applyWorkspace(yaml: "{}") { ok } }', user="ursula", role="manager"
    )
    assert code(body) == "FORBIDDEN"


async def test_nothing_crosses_accounts(stack: Stack) -> None:
    await _setup(stack, pool=2)
    other = stack.token("head", "admin", account="globex")
    body = await stack.gql('{ pool(groupId: "main") { totalCount } }', token=other)
    assert code(body) == "NOT_FOUND"
    claim = await stack.gql(
        CLAIM, {"g": "main"}, token=stack.token("ursula", "manager", "globex")
    )
    assert code(claim) == "NOT_FOUND"
    decisions = await stack.data("{ decisions { edges { node { id } } } }", token=other)
    assert decisions["decisions"]["edges"] == []
