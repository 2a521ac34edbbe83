"""The loss-reasons report of seed 002 through GraphQL: over all time when no dates
are given, by pipeline ("sales plan"), group, manager or nothing, and every count
opens the leads list filtered to exactly the leads it counts.

Seed 002: "Можно задать конкретный период для отчета или же не указывать его
вовсе. В таком случае в отчет попадут данные за все время." and "фактически в
один клик можно перейти из отчета прямо в выбранные проваленные сделки".
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.reports_fixtures import settled
from tests.e2e.test_reports import History, build_history, last_closings
from tests.stack import Stack

REPORT = """
query($from: Date, $to: Date, $by: LossGrouping) {
  lossReasonsReport(from: $from, to: $to, groupBy: $by) {
    from to
    rows { key name won lost reasons { reason count } }
    total { won lost reasons { reason count } }
  }
}
"""

LEADS = """
query($cell: LossReasonsCell!) {
  leads(closing: $cell, first: 200) { totalCount edges { node { id } } }
  matchingLeadIds(closing: $cell)
}
"""


def closed(history: History, by: str) -> dict[str, tuple[str | None, str, str]]:
    """Each closed lead: its row key under `by`, won or lost, its reason."""
    group = {c.lead: c.group for c in history.claims}
    out: dict[str, tuple[str | None, str, str]] = {}
    for lead, (_, outcome, reason, who) in last_closings(history).items():
        key = {
            "PIPELINE": "sales",
            "GROUP": group.get(lead),
            "MANAGER": who,
            "NONE": None,
        }[by]
        out[lead] = (key, outcome, reason)
    return out


async def leads_of(stack: Stack, cell: dict[str, Any], **who: str) -> set[str]:
    data = await stack.data(LEADS, {"cell": cell}, **who)
    page = {e["node"]["id"] for e in data["leads"]["edges"]}
    assert data["leads"]["totalCount"] == len(page)
    assert set(data["matchingLeadIds"]) == page
    return page


async def test_the_loss_report_covers_all_time_when_no_dates_are_given(
    stack: Stack,
) -> None:
    history = await build_history(stack)
    report = (await stack.data(REPORT, {"by": "NONE"}))["lossReasonsReport"]
    assert (report["from"], report["to"]) == (None, None)
    # November's 2 won and 5 lost, and lead 9 won on 1 December.
    assert (report["total"]["won"], report["total"]["lost"]) == (3, 5)
    everything = closed(history, "NONE")
    assert await leads_of(stack, {"total": True}) == set(everything)
    november = (
        await stack.data(
            REPORT, {"by": "NONE", "from": "2026-11-01", "to": "2026-11-30"}
        )
    )["lossReasonsReport"]["total"]
    assert (november["won"], november["lost"]) == (2, 5)
    assert await leads_of(
        stack, {"from": "2026-12-01", "outcome": "WON", "total": True}
    ) == {history.lead(9)}


async def test_the_loss_report_names_its_pipeline_rows(stack: Stack) -> None:
    await build_history(stack)
    report = (await stack.data(REPORT, {"by": "PIPELINE"}))["lossReasonsReport"]
    assert [(r["key"], r["name"], r["won"], r["lost"]) for r in report["rows"]] == [
        ("sales", "sales", 3, 5)
    ]


@pytest.mark.parametrize("by", ["PIPELINE", "GROUP", "MANAGER", "NONE"])
async def test_every_count_of_the_loss_report_opens_exactly_its_leads(
    any_stack: Stack, by: str
) -> None:
    history = await build_history(any_stack)
    truth = closed(history, by)
    report = (await any_stack.data(REPORT, {"by": by}))["lossReasonsReport"]
    rows = [(r, {"key": r["key"]}) for r in report["rows"]]
    rows.append((report["total"], {"total": True}))
    for row, at in rows:
        cell = {"groupBy": by, **at}
        mine = {
            lead
            for lead, (key, _, _) in truth.items()
            if at.get("total") or key == row.get("key")
        }
        won = {x for x in mine if truth[x][1] == "won"}
        assert await leads_of(any_stack, {**cell, "outcome": "WON"}) == won
        assert await leads_of(any_stack, {**cell, "outcome": "LOST"}) == mine - won
        assert len(won) == row["won"] and len(mine - won) == row["lost"]
        for x in row["reasons"]:
            reason = (
                {"noLossReason": True}
                if x["reason"] is None
                else {"lossReason": x["reason"]}
            )
            want = {
                lead for lead in mine - won if truth[lead][2] == (x["reason"] or "")
            }
            assert len(want) == x["count"]
            assert await leads_of(any_stack, {**cell, **reason}) == want


async def test_a_manager_opens_only_their_own_leads_from_a_count(
    stack: Stack,
) -> None:
    history = await build_history(stack)
    theirs = {
        lead
        for lead, (_, outcome, _, who) in last_closings(history).items()
        if who == "nadezhda" and outcome == "lost"
    }
    assert len(theirs) == 3
    cell = {"groupBy": "NONE", "outcome": "LOST"}
    assert await leads_of(stack, cell, user="nadezhda", role="manager") == theirs


async def test_a_count_with_no_leads_opens_an_empty_list(stack: Stack) -> None:
    await build_history(stack)
    cell = {"groupBy": "MANAGER", "key": "head", "outcome": "LOST"}
    assert await leads_of(stack, cell) == set()
    body = await stack.gql(LEADS, {"cell": {"lossReason": "x", "noLossReason": True}})
    assert "not both" in body["errors"][0]["message"]


async def test_the_demo_shows_loss_reasons_from_its_lost_stages_list(
    stack: Stack,
) -> None:
    """Seed 002: "Когда менеджер будет переводить сделку в проваленный статус он
    должен будет выбрать одну из причин отказа"."""
    from leadrouter.demo import WORKSPACE
    from leadrouter.demo.history import record_demo

    yaml = WORKSPACE.read_text()
    assert (await stack.apply(yaml))["ok"]
    assert (
        await record_demo(stack.clients, stack.account, yaml, stack.clock.now()) == []
    )
    await settled(stack, timeout=60)
    report = (await stack.data(REPORT, {"by": "MANAGER"}))["lossReasonsReport"]
    listed = {"too expensive", "no answer", "competitor"}
    seen = {x["reason"] for x in report["total"]["reasons"]}
    assert seen and seen <= listed, seen
    assert report["total"]["lost"] == sum(
        x["count"] for x in report["total"]["reasons"]
    )
    # The list is required: the built-in CRM refuses a loss without a reason.
    open_lead = (
        await stack.data(
            '{ pool(groupId: "main", first: 1) { edges { node { id } } } }'
        )
    )["pool"]["edges"][0]["node"]["id"]
    body = await stack.gql(
        'mutation($id: ID!) { moveLead(leadId: $id, stage: "sales/lost") { id } }',
        {"id": open_lead},
    )
    assert "needs one of its loss reasons" in body["errors"][0]["message"]
