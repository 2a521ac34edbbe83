"""The decision journal: newest first, page by page, each with its full explanation."""

from __future__ import annotations

from typing import Any

from tests.e2e.reports_fixtures import WORKSPACE, claim, pool_lead, tomsk
from tests.stack import Stack

PAGE = """
query($first: Int!, $after: String, $lead: ID, $user: ID, $from: DateTime,
      $to: DateTime) {
  decisions(first: $first, after: $after, leadId: $lead, userId: $user,
            from: $from, to: $to) {
    edges { node { id leadId assignee at } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

ONE = """
query($id: ID!) {
  decision(id: $id) {
    id kind outcome groupId actor assignee leadId at
    reasons { code }
    details templateId algorithm traceId
  }
}
"""


async def _journal(stack: Stack, claims: int) -> list[Any]:
    result = await stack.apply(WORKSPACE)
    assert result["ok"], result["problems"]
    await stack.import_history(
        [pool_lead(f"L{i}", tomsk(2026, 10, 1, 9, i)) for i in range(claims - 1)]
    )
    users = ["ursula", "nadezhda", "marina"]
    made = [
        await claim(stack, users[i % 3], "main", tomsk(2026, 11, 2, 9, i))
        for i in range(claims - 1)
    ]
    return made


async def test_pages_come_newest_first_and_meet_without_overlap(stack: Stack) -> None:
    made = await _journal(stack, claims=8)
    seen: list[str] = []
    after = None
    while True:
        data = await stack.data(PAGE, {"first": 3, "after": after})
        page = data["decisions"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [c.decision_id for c in reversed(made)]


async def test_the_journal_filters_by_lead_user_and_time(stack: Stack) -> None:
    made = await _journal(stack, claims=7)
    by_lead = await stack.data(PAGE, {"first": 10, "lead": made[2].lead})
    assert [e["node"]["id"] for e in by_lead["decisions"]["edges"]] == [
        made[2].decision_id
    ]
    by_user = await stack.data(PAGE, {"first": 10, "user": "marina"})
    assert [e["node"]["id"] for e in by_user["decisions"]["edges"]] == [
        c.decision_id for c in reversed(made) if c.user == "marina"
    ]
    window = await stack.data(
        PAGE,
        {
            "first": 10,
            "from": tomsk(2026, 11, 2, 9, 1).isoformat(),
            "to": tomsk(2026, 11, 2, 9, 3).isoformat(),
        },
    )
    assert [e["node"]["id"] for e in window["decisions"]["edges"]] == [
        made[2].decision_id,
        made[1].decision_id,
    ]


async def test_a_decision_carries_its_full_explanation(stack: Stack) -> None:
    made = await _journal(stack, claims=2)
    data = await stack.data(ONE, {"id": made[0].decision_id})
    d = data["decision"]
    assert d["kind"] == "claim"
    assert d["outcome"] == "claimed"
    assert (d["actor"], d["assignee"], d["groupId"]) == ("ursula", "ursula", "main")
    assert d["leadId"] == made[0].lead
    assert d["reasons"] == []
    assert d["details"]["pool"] == {
        "source_stages": ["sales/new"],
        "exchange_users": ["pool"],
    }
    assert d["details"]["target_stage"] == "sales/taken"
    assert "limits" in d["details"]
    assert "traceId" in d


async def test_a_refusal_is_journaled_with_its_reasons(stack: Stack) -> None:
    await _journal(stack, claims=1)  # an empty pool
    stack.clock.set(tomsk(2026, 11, 2, 10))
    refused = await stack.data(
        'mutation { claimLead(groupId: "main") { ... on Refused { decision { id } } }}',
        user="ursula",
        role="manager",
    )
    decision_id = refused["claimLead"]["decision"]["id"]
    data = await stack.data(ONE, {"id": decision_id})
    assert data["decision"]["outcome"] == "refused"
    assert data["decision"]["reasons"] == [{"code": "pool_empty"}]
    assert data["decision"]["assignee"] is None


async def test_a_manager_cannot_read_someone_elses_decision(stack: Stack) -> None:
    made = await _journal(stack, claims=2)
    body = await stack.gql(
        ONE, {"id": made[0].decision_id}, user="marina", role="manager"
    )
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
