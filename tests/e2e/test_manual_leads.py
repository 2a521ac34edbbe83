"""The leads list a head of sales selects from, and transfers of a selection."""

from __future__ import annotations

from typing import Any

from tests.e2e.test_manual import ASSIGN, TRANSFER, _leads, _setup
from tests.stack import Stack

LEADS = """
query($filter: LeadFilter, $responsible: ID, $first: Int!, $after: String) {
  leads(filter: $filter, responsible: $responsible, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id responsible stage } }
  }
}
"""
MATCHING = """
query($filter: LeadFilter, $responsible: ID) {
  matchingLeadIds(filter: $filter, responsible: $responsible)
}
"""


async def test_the_leads_list_pages_through_what_the_filter_selects(
    stack: Stack,
) -> None:
    await _setup(stack)

    async def page(first: int, after: str | None = None, **kw: Any) -> Any:
        data = await stack.data(LEADS, {"first": first, "after": after, **kw})
        return data["leads"]

    first = await page(4)
    assert first["totalCount"] == 10
    assert [e["node"]["id"] for e in first["edges"]] == ["U1", "P1", "P2", "P3"]
    assert first["pageInfo"] == {
        "hasNextPage": True,
        "endCursor": first["edges"][-1]["cursor"],
    }
    rest = await page(10, first["pageInfo"]["endCursor"])
    assert [e["node"]["id"] for e in rest["edges"]] == [
        "P4", "P5", "P6", "U2", "U3", "U4"
    ]  # fmt: skip
    assert rest["pageInfo"]["hasNextPage"] is False

    ursulas = await page(2, responsible="ursula", filter={"stages": ["sales/new"]})
    assert ursulas["totalCount"] == 3
    assert {e["node"]["responsible"] for e in ursulas["edges"]} == {"ursula"}
    matching = await stack.data(
        MATCHING, {"responsible": "ursula", "filter": {"noOpenTask": True}}
    )
    assert matching["matchingLeadIds"] == ["U2", "U4"]


async def test_a_manager_lists_only_their_own_leads(stack: Stack) -> None:
    await _setup(stack)
    mine = await stack.data(LEADS, {"first": 50}, user="ursula", role="manager")
    assert [e["node"]["id"] for e in mine["leads"]["edges"]] == ["U1", "U2", "U3", "U4"]
    body = await stack.gql(
        LEADS, {"first": 50, "responsible": "marina"}, user="ursula", role="manager"
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    for role in ("partner", "viewer"):
        body = await stack.gql(MATCHING, {}, user="ursula", role=role)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_partners_and_viewers_may_not_assign_or_transfer(stack: Stack) -> None:
    await _setup(stack)
    for role in ("partner", "viewer"):
        for query, variables in (
            (ASSIGN, {"leads": ["P1"], "users": ["ursula"], "cascade": False}),
            (TRANSFER, {"from": "ursula", "to": "marina", "cascade": False}),
        ):
            body = await stack.gql(
                query, {**variables, "dry": False}, user="ext", role=role
            )
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    owners = {k: v.responsible for k, v in (await _leads(stack, ["P1", "U1"])).items()}
    assert owners == {"P1": "pool", "U1": "ursula"}


async def test_a_selection_transfers_only_its_leads_still_with_their_owner(
    stack: Stack,
) -> None:
    await _setup(stack)
    selection = {"leadIds": ["U1", "U3", "P1"]}  # P1 is not ursula's: it stays
    variables = {"from": "ursula", "to": "marina", "cascade": False, "dry": False}
    moved = await stack.data(TRANSFER, {**variables, "filter": selection})
    assert moved["transferLeads"]["leadIds"] == ["U1", "U3"]
    owners = {
        k: v.responsible
        for k, v in (await _leads(stack, ["U1", "U2", "U3", "P1"])).items()
    }
    assert owners == {"U1": "marina", "U2": "ursula", "U3": "marina", "P1": "pool"}
