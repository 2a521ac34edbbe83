"""Issue 24, point 4: a partner hands in a lead simply (contract.md section 2).

`submitLead(input: {name, channel})`, or a contact instead of a name, is
enough: pipeline, stage and responsible default to the account's intake,
its first group's first source stage and exchange user, and push
distribution takes the lead from there. A mistake names the field and
creates nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from leadrouter.crm.v1 import crm_pb2
from tests.e2e.push_support import decided
from tests.readme import graphql_payload
from tests.stack import Stack

DEMO = Path(__file__).resolve().parents[2] / "leadrouter/demo/workspace.yaml"
SUBMIT = """
mutation($input: LeadInput!) {
  submitLead(input: $input) { id name pipeline stage responsible channel contacts }
}
"""


async def _partner(stack: Stack, body: dict[str, Any]) -> dict[str, Any]:
    token = stack.token("site", "partner")
    reply = await stack.http.post(
        "/graphql", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert reply.status_code == 200, reply.text
    answer: dict[str, Any] = reply.json()
    return answer


async def _submit(stack: Stack, lead: dict[str, Any]) -> dict[str, Any]:
    return await _partner(stack, {"query": SUBMIT, "variables": {"input": lead}})


async def _lead_count(stack: Stack) -> int:
    found = await stack.clients.crm.find_leads(
        crm_pb2.FindLeadsRequest(account=stack.account, ids_only=True),
    )
    return len(found.leads)


def _problems(body: dict[str, Any]) -> list[tuple[str, str]]:
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    listed = [(p["path"], p["message"]) for p in error["extensions"]["problems"]]
    # The message says the same, field by field, for a client that shows only it.
    assert error["message"] == "; ".join(f"{p}: {m}" for p, m in listed)
    return listed


async def test_the_readme_example_lands_in_the_intake_and_is_pushed(
    stack: Stack,
) -> None:
    await stack.apply(DEMO.read_text(encoding="utf-8"))
    body = await _partner(stack, graphql_payload("submitLead"))
    assert not body.get("errors"), body
    lead = body["data"]["submitLead"]
    assert (lead["pipeline"], lead["stage"], lead["responsible"]) == (
        "sales",
        "new",
        "pool",
    )
    # Monday 10:00 in Tomsk: the weekday template for written requests.
    (decision,) = await decided(stack, lead["id"])
    assert decision["outcome"] == "assigned", decision
    assert decision["templateId"] == "written-weekdays"
    assert decision["assignee"] in {"ursula", "nadezhda"}


async def test_a_contact_instead_of_a_name_is_enough(stack: Stack) -> None:
    await stack.apply(DEMO.read_text(encoding="utf-8"))
    body = await _submit(stack, {"contacts": ["C-77"], "channel": "call"})
    assert not body.get("errors"), body
    lead = body["data"]["submitLead"]
    assert lead["contacts"] == ["C-77"]
    assert (lead["stage"], lead["responsible"]) == ("new", "pool")


async def test_a_stage_as_pipeline_slash_stage_and_an_owner_of_ones_own(
    stack: Stack,
) -> None:
    await stack.apply(DEMO.read_text(encoding="utf-8"))
    body = await _submit(
        stack,
        {
            "name": "Partner's own",
            "channel": "email",
            "stage": "sales/taken",
            "responsible": "marina",
        },
    )
    assert not body.get("errors"), body
    lead = body["data"]["submitLead"]
    assert (lead["pipeline"], lead["stage"], lead["responsible"]) == (
        "sales",
        "taken",
        "marina",
    )


@pytest.mark.parametrize(
    ("lead", "expected"),
    [
        (
            {},
            [
                ("input.name", "give the lead a name, or a contact in 'contacts'"),
                (
                    "input.channel",
                    "say where the lead came from: call, form, email, chat or "
                    "your own word",
                ),
            ],
        ),
        (
            {"name": "X", "channel": "form", "budget": -5, "tags": ["a,b"]},
            [
                ("input.budget", "a budget is zero or more"),
                (
                    "input.tags[0]",
                    "a tag holds no comma: give each tag as its own item",
                ),
            ],
        ),
        (
            {"name": "X", "channel": "form", "stage": "nowhere"},
            [("input.stage", "pipeline 'sales' has no stage 'nowhere'")],
        ),
        (
            # A pipeline the account does not have is the mistake, not its stage.
            {"name": "X", "channel": "form", "pipeline": "rentals"},
            [("input.pipeline", "the account has no pipeline 'rentals'")],
        ),
        (
            {"name": "X", "channel": "form", "pipeline": "rentals", "stage": "new"},
            [("input.pipeline", "the account has no pipeline 'rentals'")],
        ),
        (
            {"name": "X", "channel": "form", "responsible": "olga"},
            [("input.responsible", "the account has no user 'olga'")],
        ),
    ],
)
async def test_a_mistake_names_the_field_and_creates_nothing(
    stack: Stack, lead: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    await stack.apply(DEMO.read_text(encoding="utf-8"))
    before = await _lead_count(stack)
    body = await _submit(stack, lead)
    assert _problems(body) == expected
    assert body["data"] is None
    assert await _lead_count(stack) == before


async def test_a_lead_id_already_taken_names_the_id(stack: Stack) -> None:
    await stack.apply(DEMO.read_text(encoding="utf-8"))
    lead = {"id": "W-1", "name": "Twice", "channel": "form"}
    assert not (await _submit(stack, lead)).get("errors")
    assert _problems(await _submit(stack, lead)) == [
        ("input.id", "lead 'W-1' already exists")
    ]


async def test_without_a_group_the_partner_is_told_to_say_where(
    stack: Stack,
) -> None:
    await stack.apply(
        """
account: {timezone: Asia/Tomsk}
users:
  - {id: ursula, name: Ursula}
pipelines:
  - id: sales
    stages:
      - {id: new, kind: open}
      - {id: won, kind: won}
      - {id: lost, kind: lost}
"""
    )
    assert _problems(await _submit(stack, {"name": "X", "channel": "form"})) == [
        (
            "input.pipeline",
            "the account has no distribution group with a source stage and an "
            "exchange user to take new leads, so say pipeline, stage and "
            "responsible",
        )
    ]
    body = await _submit(
        stack,
        {
            "name": "X",
            "channel": "form",
            "pipeline": "sales",
            "stage": "new",
            "responsible": "ursula",
        },
    )
    assert not body.get("errors"), body
