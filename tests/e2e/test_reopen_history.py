"""Reopening as seed 002 has it: the stage a lead will return to is known before
an admin confirms, and the reopening is in the lead's history and the decision
journal with who did it and when.

Seed 002: "информация о том, кто и когда отменил сделку, будет записана в
журнале действия. В карточке сделки появилось новое действие "Отозвать сделку"."
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests.e2e.limits_history import History, apply, local, workspace
from tests.e2e.test_limits_reopen import REOPEN
from tests.stack import Stack

HISTORY = """
query($id: ID!) {
  leadHistory(leadId: $id) {
    lead { id stage closedAt }
    reopensTo
    entries { at type by stage responsible lossReason }
  }
}
"""

JOURNAL = """
query($id: ID!) {
  decisions(leadId: $id) { edges { node { kind outcome actor leadId at details } } }
}
"""


async def _leads(stack: Stack, tmp_path: Path) -> None:
    await apply(stack, workspace({"ursula": {}}))
    long_ago = local("2026-10-01 09:00")
    await (
        History()
        .lead("L1", long_ago, owner="ursula", stage="taken")
        .move("L1", local("2026-11-02 09:00"), "meeting")
        .move("L1", local("2026-11-02 09:30"), "lost", loss_reason="price")
        .lead("W1", long_ago, owner="ursula", stage="taken")
        .move("W1", local("2026-10-21 12:00"), "won")
        .lead("O1", long_ago, owner="ursula", stage="taken")
        .load(stack, tmp_path)
    )


async def history(stack: Stack, lead: str, **who: str) -> dict[str, Any]:
    data: dict[str, Any] = (await stack.data(HISTORY, {"id": lead}, **who))[
        "leadHistory"
    ]
    return data


async def test_the_stage_a_closed_lead_returns_to_is_known_before_reopening(
    any_stack: Stack, tmp_path: Path
) -> None:
    await _leads(any_stack, tmp_path)
    # From lost: the stage it was lost from.
    assert (await history(any_stack, "L1"))["reopensTo"] == "sales/meeting"
    # From won: the last open stage before the won stage in the pipeline.
    assert (await history(any_stack, "W1"))["reopensTo"] == "sales/parked"
    assert (await history(any_stack, "O1"))["reopensTo"] is None
    reopened = await any_stack.data(REOPEN, {"id": "W1"})
    assert reopened["reopenLead"]["stage"] == "parked"


async def test_a_reopening_is_in_the_leads_history_with_who_and_when(
    any_stack: Stack, tmp_path: Path
) -> None:
    await _leads(any_stack, tmp_path)
    any_stack.clock.advance(timedelta(hours=3))
    when = any_stack.clock.now()
    await any_stack.data(REOPEN, {"id": "L1"}, user="head", role="admin")
    seen = await history(any_stack, "L1")
    assert seen["lead"] == {"id": "L1", "stage": "meeting", "closedAt": None}
    assert seen["reopensTo"] is None
    assert [(e["type"], e["stage"]) for e in seen["entries"]] == [
        ("lead_created", "sales/taken"),
        ("stage_changed", "sales/meeting"),
        ("stage_changed", "sales/lost"),
        ("lead_reopened", "sales/meeting"),
    ]
    assert seen["entries"][2]["lossReason"] == "price"
    last = seen["entries"][-1]
    assert (last["by"], last["responsible"]) == ("head", "ursula")
    assert datetime.fromisoformat(last["at"]) == when
    # The lead's owner reads the same history; another manager cannot.
    assert await history(any_stack, "L1", user="ursula", role="manager") == seen
    body = await any_stack.gql(HISTORY, {"id": "L1"}, user="marina", role="manager")
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_reopening_is_journaled_with_who_when_and_both_stages(
    any_stack: Stack, tmp_path: Path
) -> None:
    await _leads(any_stack, tmp_path)
    await any_stack.data(REOPEN, {"id": "L1"}, user="head", role="admin")
    journal = await any_stack.data(JOURNAL, {"id": "L1"})
    (entry,) = [e["node"] for e in journal["decisions"]["edges"]]
    assert {k: entry[k] for k in ("kind", "outcome", "actor", "leadId")} == {
        "kind": "reopen",
        "outcome": "reopened",
        "actor": "head",
        "leadId": "L1",
    }
    assert entry["details"] == {
        "from": "sales/lost",
        "to": "sales/meeting",
        "responsible": "ursula",
        "loss_reason": "price",
    }
    history_at = (await history(any_stack, "L1"))["entries"][-1]["at"]
    assert entry["at"] == history_at
    # A refused reopening (the lead is open now) journals nothing more.
    body = await any_stack.gql(REOPEN, {"id": "L1"})
    assert "not closed" in body["errors"][0]["message"]
    journal = await any_stack.data(JOURNAL, {"id": "L1"})
    assert len(journal["decisions"]["edges"]) == 1
