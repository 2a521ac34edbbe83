"""Issue 23, point 10: loss reasons of a lost stage (seed 002, domain.md section 9).

"Когда менеджер будет переводить сделку в проваленный статус он должен будет
выбрать одну из причин отказа": a lost stage lists its reasons and may
require one; `moveLead` refuses a move into it without one of them. Each
test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.limits_history import History, apply, local
from tests.stack import Stack

LONG_AGO = local("2026-10-01 09:00")

WORKSPACE = """
account: {timezone: Asia/Tomsk}
users:
  - {id: head, name: Head of sales}
  - {id: ursula, name: Ursula}
  - {id: marina, name: Marina}
  - {id: pool, name: Lead exchange, technical: true}
pipelines:
  - id: sales
    stages:
      - {id: new, kind: open}
      - {id: taken, kind: open}
      - {id: won, kind: won}
      - {id: lost, kind: lost, loss_reasons: [Too expensive, Chose a competitor,
         No answer], require_loss_reason: true}
      - {id: spam, kind: lost, loss_reasons: [Duplicate]}
      - {id: gone, kind: lost}
groups:
  - id: main
    source_stages: [sales/new]
    target_stage: sales/taken
    exchange_users: [pool]
    members:
      - {user: ursula}
      - {user: marina}
"""

MOVE = """
mutation($id: ID!, $stage: String!, $reason: String) {
  moveLead(leadId: $id, stage: $stage, lossReason: $reason) {
    id pipeline stage closedAt lossReason
  }
}
"""


async def _account(stack: Stack, tmp_path: Path) -> None:
    await apply(stack, WORKSPACE)
    history = History()
    for lead in ("A", "B", "C", "D"):
        history.lead(lead, LONG_AGO, owner="ursula", stage="taken")
    await history.lead("M", LONG_AGO, owner="marina", stage="taken").load(
        stack, tmp_path
    )


async def _move(
    stack: Stack,
    lead: str,
    stage: str,
    reason: str | None = None,
    *,
    user: str = "head",
    role: str = "admin",
) -> dict[str, Any]:
    return await stack.gql(
        MOVE, {"id": lead, "stage": stage, "reason": reason}, user=user, role=role
    )


def _refusal(body: dict[str, Any]) -> tuple[str, str]:
    (error,) = body["errors"]
    return error["extensions"]["code"], error["message"]


async def _lead(stack: Stack, lead: str) -> dict[str, Any]:
    data = await stack.data(
        "query($id: ID!) { lead(id: $id) { id stage closedAt lossReason } }",
        {"id": lead},
    )
    found: dict[str, Any] = data["lead"]
    return found


async def test_23_10_a_stage_that_requires_a_reason_refuses_a_move_without_one_listed(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await _account(stack, tmp_path)

    code, message = _refusal(await _move(stack, "A", "sales/lost"))
    assert code == "BAD_USER_INPUT"
    assert message == (
        "a lead moved to 'sales/lost' needs one of its loss reasons ('Too "
        "expensive', 'Chose a competitor', 'No answer'); none was given"
    )
    code, message = _refusal(await _move(stack, "A", "lost", "the weather"))
    assert code == "BAD_USER_INPUT"
    assert message.endswith("'the weather' is not one of them")
    # Nothing moved on a refusal.
    assert await _lead(stack, "A") == {
        "id": "A",
        "stage": "taken",
        "closedAt": None,
        "lossReason": None,
    }

    # One of the listed reasons, in any case and spacing, is kept as listed.
    moved = await _move(stack, "A", "sales/lost", "  too   EXPENSIVE ")
    assert moved["data"]["moveLead"] == {
        "id": "A",
        "pipeline": "sales",
        "stage": "lost",
        "closedAt": stack.clock.now().isoformat(),
        "lossReason": "Too expensive",
    }


async def test_23_10_free_text_is_kept_as_other_where_a_reason_is_not_required(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await _account(stack, tmp_path)
    moved = await stack.data(MOVE, {"id": "A", "stage": "spam", "reason": "Bot"})
    assert moved["moveLead"]["lossReason"] == "other: Bot"
    moved = await stack.data(MOVE, {"id": "B", "stage": "spam", "reason": "duplicate"})
    assert moved["moveLead"]["lossReason"] == "Duplicate"
    moved = await stack.data(MOVE, {"id": "C", "stage": "spam"})
    assert moved["moveLead"]["lossReason"] is None
    # A stage without a list keeps what was written as written.
    moved = await stack.data(MOVE, {"id": "D", "stage": "gone", "reason": "Moved"})
    assert moved["moveLead"]["lossReason"] == "Moved"


async def test_23_10_history_from_another_crm_keeps_free_text_as_other(
    any_stack: Stack, tmp_path: Path
) -> None:
    # Events of another CRM are facts: never refused, but counted as ours are.
    stack = any_stack
    await _account(stack, tmp_path)
    at = local("2026-11-01 12:00")
    await (
        History()
        .move("A", at, "lost", loss_reason="no answer")
        .move("B", at, "lost", loss_reason="Went silent")
        .move("C", at, "lost")
        .load(stack, tmp_path)
    )
    assert [(await _lead(stack, x))["lossReason"] for x in "ABC"] == [
        "No answer",
        "other: Went silent",
        None,
    ]


async def test_23_10_a_move_refused_for_what_a_person_can_fix(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await _account(stack, tmp_path)
    await stack.data(MOVE, {"id": "B", "stage": "won"})
    cases = [
        (("A", "won", "Too expensive"), "BAD_USER_INPUT", "'sales/won' is not a lost"),
        (("A", "sales/nowhere"), "BAD_USER_INPUT", "there is no stage 'sales/nowhere'"),
        (("B", "taken"), "BAD_USER_INPUT", "lead 'B' is closed (sales/won); reopen"),
        (("NOPE", "won"), "NOT_FOUND", "there is no lead 'NOPE'"),
    ]
    for args, code, start in cases:
        got_code, message = _refusal(await _move(stack, *args))
        assert (got_code, message[: len(start)]) == (code, start), args
    # A move to where the lead already is (a repeated request) changes nothing.
    again = await stack.data(MOVE, {"id": "A", "stage": "sales/taken"})
    assert again["moveLead"]["stage"] == "taken"
    assert await _lead(stack, "A") == {
        "id": "A",
        "stage": "taken",
        "closedAt": None,
        "lossReason": None,
    }


async def test_23_10_a_manager_moves_only_their_own_leads(
    any_stack: Stack, tmp_path: Path
) -> None:
    stack = any_stack
    await _account(stack, tmp_path)
    moved = await _move(stack, "A", "lost", "No answer", user="ursula", role="manager")
    assert moved["data"]["moveLead"]["stage"] == "lost"
    code, message = _refusal(
        await _move(stack, "M", "lost", "No answer", user="ursula", role="manager")
    )
    assert (code, message) == ("NOT_FOUND", "there is no lead 'M'")
    code, _ = _refusal(await _move(stack, "B", "won", user="ursula", role="viewer"))
    assert code == "FORBIDDEN"
    assert (await _lead(stack, "M"))["stage"] == "taken"


async def test_23_10_a_lost_stage_shows_its_reasons_and_only_a_lost_stage_has_them(
    any_stack: Stack,
) -> None:
    stack = any_stack
    await apply(stack, WORKSPACE)
    data = await stack.data(
        "{ pipelines { stages { id kind lossReasons requireLossReason } } }",
        user="ursula",
        role="manager",
    )
    (pipeline,) = data["pipelines"]
    lost = {s["id"]: s for s in pipeline["stages"]}
    assert lost["sales/lost"]["lossReasons"] == [
        "Too expensive",
        "Chose a competitor",
        "No answer",
    ]
    assert lost["sales/lost"]["requireLossReason"] is True
    assert lost["sales/spam"] == {
        "id": "sales/spam",
        "kind": "lost",
        "lossReasons": ["Duplicate"],
        "requireLossReason": False,
    }
    assert lost["sales/won"]["lossReasons"] == []

    # Applying the same file again changes nothing; a changed list is a change.
    assert (await stack.apply(WORKSPACE))["changes"] == []
    changed = WORKSPACE.replace("[Duplicate]", "[Duplicate, Test lead]")
    assert (await stack.apply(changed))["changes"] == [
        "stage sales/spam: loss_reasons [Duplicate] → [Duplicate, Test lead]"
    ]

    bad = WORKSPACE.replace(
        "{id: won, kind: won}", "{id: won, kind: won, loss_reasons: [Cheap]}"
    ).replace("[Duplicate]", "[Duplicate, duplicate]")
    result = await stack.apply(bad.replace("{id: gone, kind: lost}", GONE_REQUIRED))
    assert result["ok"] is False
    assert result["problems"] == [
        {
            "path": "pipelines[0].stages[2]",
            "message": "stage sales/won: only a lost stage has loss reasons",
        },
        {
            "path": "pipelines[0].stages[4]",
            "message": "stage sales/spam: a loss reason is listed twice",
        },
        {
            "path": "pipelines[0].stages[5]",
            "message": "stage sales/gone: require_loss_reason needs loss_reasons to "
            "choose from",
        },
    ]


GONE_REQUIRED = "{id: gone, kind: lost, require_loss_reason: true}"
