"""The product as a client sees it over HTTP, for tests that break its parts."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.test_claim_concurrency import CONCURRENT_WORKSPACE, MANAGERS, token
from tests.fixtures import lead_created
from tests.processes import ProcessStack

__all__ = ["MANAGERS", "token"]

# Five managers with no limits of their own, so only faults can refuse them.
OPEN_WORKSPACE = CONCURRENT_WORKSPACE
CLAIM = """
mutation($k: String) {
  claimLead(groupId: "main", idempotencyKey: $k) {
    __typename
    ... on Claimed { lead { id responsible } decision { id } }
    ... on Refused { reasons { code } }
  }
}
"""
# A stack trace or an internal detail in an answer would show one of these.
INTERNALS = ("Traceback", 'File "', "grpc", "sqlalchemy", "psycopg", "sqlite")


def apply_open_workspace(stack: ProcessStack, tmp: Path) -> None:
    workspace = tmp / "workspace.yaml"
    workspace.write_text(OPEN_WORKSPACE)
    assert "group main: added" in stack.cli("apply", str(workspace))


# Lead n was created n minutes after this, so the oldest has the lowest id.
FIRST_CREATED = datetime.now(UTC) - timedelta(days=1)


def add_leads(stack: ProcessStack, tmp: Path, first: int, count: int) -> list[str]:
    """Pool leads L<first> … L<first+count-1>, oldest first; their ids."""
    ids = [f"L{n:04d}" for n in range(first, first + count)]
    history = tmp / f"history-{first}.jsonl"
    history.write_text(
        "\n".join(
            json.dumps(lead_created(lead, FIRST_CREATED + timedelta(minutes=n)))
            for n, lead in zip(range(first, first + count), ids, strict=True)
        )
    )
    assert f"imported {count} events" in stack.cli("import", str(history))
    return ids


def post(http: httpx.Client, query: str, tok: str, **variables: Any) -> dict[str, Any]:
    reply = http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {tok}"},
    )
    assert reply.status_code == 200, reply.text
    assert not any(word in reply.text for word in INTERNALS), reply.text
    body: dict[str, Any] = reply.json()
    return body


def claim(http: httpx.Client, user: str, key: str | None = None) -> dict[str, Any]:
    """The whole answer to one press: data, or errors."""
    return post(http, CLAIM, token(user), k=key)


def unavailable(body: dict[str, Any]) -> str:
    """The message of an UNAVAILABLE answer (and that it is one)."""
    errors = body.get("errors") or []
    assert [e["extensions"]["code"] for e in errors] == ["UNAVAILABLE"], body
    message: str = errors[0]["message"]
    return message


def admin_data(http: httpx.Client, query: str) -> Any:
    body = post(http, query, token("head", "admin"))
    assert not body.get("errors"), body
    return body["data"]


def owners(http: httpx.Client) -> dict[str, str]:
    """Every lead and who is responsible for it, as the CRM says."""
    data = admin_data(
        http, "{ leads(first: 200) { edges { node { id responsible } } } }"
    )
    return {e["node"]["id"]: e["node"]["responsible"] for e in data["leads"]["edges"]}


def claimed_decisions(http: httpx.Client) -> list[dict[str, Any]]:
    """The journal's claimed decisions, every page."""
    found: list[dict[str, Any]] = []
    after = None
    while True:
        data = admin_data(
            http,
            "{ decisions(first: 500"
            + (f', after: "{after}"' if after else "")
            + ") { edges { node { kind outcome leadId assignee actor } } "
            "pageInfo { hasNextPage endCursor } } }",
        )
        page = data["decisions"]
        found += [e["node"] for e in page["edges"] if e["node"]["outcome"] == "claimed"]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def journal_disagreements(http: httpx.Client) -> list[str]:
    """Where the journal and the CRM tell different stories; [] when they agree.

    Each lead the CRM shows taken from the pool has exactly one claimed
    decision, for the user now responsible; no claimed decision names a lead
    still in the pool or one given to someone else.
    """
    crm = owners(http)
    decisions = claimed_decisions(http)
    per_lead = Counter(d["leadId"] for d in decisions)
    problems = [f"{lead} journaled {n} times" for lead, n in per_lead.items() if n > 1]
    for d in decisions:
        if crm.get(d["leadId"]) != d["assignee"]:
            problems.append(
                f"{d['leadId']} journaled for {d['assignee']}, "
                f"the CRM says {crm.get(d['leadId'])}"
            )
    for lead, owner in crm.items():
        if owner != "pool" and per_lead[lead] == 0:
            problems.append(f"{lead} is {owner}'s in the CRM and not in the journal")
    return problems
