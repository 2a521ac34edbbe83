"""Manual mode end to end: a head of sales assigns and transfers leads by hand."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from leadrouter.crm.v1 import crm_pb2
from tests.e2e.reports_fixtures import settled
from tests.fixtures import WORKSPACE, lead_created
from tests.stack import Stack

ASSIGN = """
mutation($leads: [ID!]!, $users: [ID!]!, $cascade: Boolean!, $key: String,
         $dry: Boolean!) {
  assignLeads(leadIds: $leads, userIds: $users, cascade: $cascade,
              idempotencyKey: $key, dryRun: $dry) {
    dryRun batchId leads tasks contacts companies leadIds skippedLeadIds batches
    decisions { kind outcome actor leadId assignee groupId details }
  }
}
"""

TRANSFER = """
mutation($from: ID!, $to: ID!, $filter: LeadFilter, $cascade: Boolean!,
         $key: String, $dry: Boolean!) {
  transferLeads(fromUserId: $from, toUserId: $to, filter: $filter,
                cascade: $cascade, idempotencyKey: $key, dryRun: $dry) {
    dryRun batchId leads tasks contacts companies leadIds skippedLeadIds batches
    decisions { kind outcome actor leadId assignee details }
  }
}
"""

LEADS = "query($id: ID!) { decisions(leadId: $id) { edges { node { kind actor } } } }"

COUNTS = ("leads", "tasks", "contacts", "companies")


def _event(kind: str, at: datetime, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "at": at.isoformat(), **fields}


async def _setup(stack: Stack, workspace: str = WORKSPACE) -> datetime:
    """Pool leads P1..P6; ursula owns U1..U4 with contacts, a company and tasks."""
    result = await stack.apply(workspace)
    assert result["ok"], result["problems"]
    start = stack.clock.now() - timedelta(days=3)
    events = [
        lead_created(f"P{i}", start + timedelta(minutes=i), contacts=[f"PC{i}"])
        for i in range(1, 7)
    ]
    events += [
        lead_created("U1", start, responsible="ursula", contacts=["C1", "C2"]),
        lead_created("U2", start + timedelta(days=1), responsible="ursula"),
        lead_created(
            "U3", start + timedelta(days=2), responsible="ursula", stage="meeting"
        ),
        lead_created("U4", start + timedelta(days=2, hours=1), responsible="ursula"),
    ]
    events[-4]["companies"] = ["CO1"]
    deadline = (stack.clock.now() + timedelta(days=1)).isoformat()
    events += [
        _event(
            "task_created",
            start,
            task="T1",
            lead="U1",
            responsible="ursula",
            deadline=deadline,
        ),
        _event(
            "task_created",
            start,
            task="T2",
            lead="U1",
            responsible="ursula",
            deadline=deadline,
        ),
        _event(
            "task_created",
            start,
            task="T3",
            lead="U2",
            responsible="ursula",
            deadline=deadline,
        ),
        _event("task_completed", start + timedelta(hours=1), task="T3"),
        _event(
            "task_created",
            start,
            task="T4",
            lead="U3",
            responsible="ursula",
            deadline=deadline,
        ),
    ]
    await stack.import_history(events)
    return start


async def marinas_leads(stack: Stack, prefix: str, n: int) -> list[str]:
    """The test workspace, and n leads of marina's, oldest first."""
    result = await stack.apply(WORKSPACE)
    assert result["ok"], result["problems"]
    start = stack.clock.now() - timedelta(days=1)
    leads = [f"{prefix}{i:03d}" for i in range(n)]
    await stack.import_history(
        [
            lead_created(x, start + timedelta(seconds=i), responsible="marina")
            for i, x in enumerate(leads)
        ]
    )
    return leads


async def _leads(stack: Stack, ids: list[str]) -> dict[str, crm_pb2.Lead]:
    found = await stack.clients.crm.get_leads(
        crm_pb2.GetLeadsRequest(account=stack.account, ids=ids)
    )
    return {x.id: x for x in found.leads}


async def _item_owners(stack: Stack, lead_ids: list[str]) -> dict[str, str]:
    """Who owns each open task, contact and company of the leads, as 'kind:id'."""
    found = await stack.clients.crm.find_leads(
        crm_pb2.FindLeadsRequest(
            account=stack.account, filter=crm_pb2.LeadFilter(lead_ids=lead_ids)
        ),
    )
    return {f"{i.kind}:{i.id}": i.responsible for x in found.leads for i in x.items}


async def _responsible_changes(stack: Stack) -> Counter[str]:
    """How many times each lead changed hands in the CRM's event log."""
    seen: Counter[str] = Counter()
    call = stack.clients.crm.stream_events(
        crm_pb2.StreamEventsRequest(after_offset=0, follow=False)
    )
    async for e in call:
        if e.type == "responsible_changed":
            seen[e.lead_id] += 1
    return seen


def _counts(result: dict[str, Any]) -> dict[str, int]:
    return {k: result[k] for k in COUNTS}


async def test_one_lead_to_one_user_takes_the_group_target_stage_and_is_journaled(
    any_stack: Stack,
) -> None:
    stack = any_stack
    await _setup(stack)
    data = await stack.data(
        ASSIGN, {"leads": ["P1"], "users": ["nadezhda"], "cascade": True, "dry": False}
    )
    result = data["assignLeads"]
    assert _counts(result) == {"leads": 1, "tasks": 0, "contacts": 1, "companies": 0}
    assert result["leadIds"] == ["P1"]
    (decision,) = result["decisions"]
    assert decision["kind"] == "manual"
    assert decision["outcome"] == "assigned"
    assert decision["actor"] == "head"
    assert decision["assignee"] == "nadezhda"
    assert decision["groupId"] == "main"
    assert decision["details"]["from"] == "pool"
    assert decision["details"]["to"] == "nadezhda"
    lead = (await _leads(stack, ["P1"]))["P1"]
    assert (lead.responsible, lead.stage) == ("nadezhda", "taken")
    journal = await stack.data(LEADS, {"id": "P1"})
    assert [e["node"] for e in journal["decisions"]["edges"]] == [
        {"kind": "manual", "actor": "head"}
    ]


async def test_many_leads_spread_round_robin_in_the_order_given(stack: Stack) -> None:
    await _setup(stack)
    leads = ["P1", "P2", "P3", "P4", "P5"]
    data = await stack.data(
        ASSIGN,
        {"leads": leads, "users": ["marina", "ursula"], "cascade": False, "dry": False},
    )
    assert data["assignLeads"]["leads"] == 5
    owners = {k: v.responsible for k, v in (await _leads(stack, leads)).items()}
    assert owners == {
        "P1": "marina",
        "P2": "ursula",
        "P3": "marina",
        "P4": "ursula",
        "P5": "marina",
    }
    # Without cascade the leads' contacts stay with the exchange user.
    assert data["assignLeads"]["contacts"] == 0


async def test_transfer_all_with_cascade_moves_open_tasks_contacts_and_companies(
    any_stack: Stack,
) -> None:
    stack = any_stack
    await _setup(stack)
    variables = {"from": "ursula", "to": "nadezhda", "cascade": True}
    preview = (await stack.data(TRANSFER, {**variables, "dry": True}))["transferLeads"]
    expected = {"leads": 4, "tasks": 3, "contacts": 2, "companies": 1}
    assert preview["dryRun"] is True
    assert _counts(preview) == expected
    assert preview["decisions"] == []
    assert {x.responsible for x in (await _leads(stack, ["U1"])).values()} == {"ursula"}

    moved = (await stack.data(TRANSFER, {**variables, "dry": False}))["transferLeads"]
    assert _counts(moved) == expected
    assert moved["leadIds"] == ["U1", "U2", "U3", "U4"]  # oldest first
    owners = {
        k: v.responsible for k, v in (await _leads(stack, moved["leadIds"])).items()
    }
    assert set(owners.values()) == {"nadezhda"}
    for d in moved["decisions"]:
        assert (d["kind"], d["actor"], d["assignee"]) == ("manual", "head", "nadezhda")
        assert d["details"]["from"] == "ursula"
        assert d["details"]["mode"] == "transfer"
    # U3 is in no group's source stage: it stays where it was.
    assert (await _leads(stack, ["U3"]))["U3"].stage == "meeting"
    # Their open tasks, contacts and company went along.
    assert await _item_owners(stack, moved["leadIds"]) == {
        "task:T1": "nadezhda",
        "task:T2": "nadezhda",
        "task:T4": "nadezhda",
        "contact:C1": "nadezhda",
        "contact:C2": "nadezhda",
        "company:CO1": "nadezhda",
    }


async def test_transfer_without_cascade_moves_only_the_leads(stack: Stack) -> None:
    await _setup(stack)
    variables = {"from": "ursula", "to": "marina", "cascade": False}
    preview = (await stack.data(TRANSFER, {**variables, "dry": True}))["transferLeads"]
    moved = (await stack.data(TRANSFER, {**variables, "dry": False}))["transferLeads"]
    expected = {"leads": 4, "tasks": 0, "contacts": 0, "companies": 0}
    assert _counts(preview) == _counts(moved) == expected
    # Ursula keeps her open tasks, contacts and company.
    assert set((await _item_owners(stack, ["U1", "U2", "U3", "U4"])).values()) == {
        "ursula"
    }
    # A second transfer with cascade finds no lead of hers to move.
    again = await stack.data(TRANSFER, {**variables, "cascade": True, "dry": True})
    assert again["transferLeads"]["leads"] == 0


async def test_filtered_transfer_takes_only_the_matching_leads(stack: Stack) -> None:
    start = await _setup(stack)
    base = {"from": "ursula", "to": "nadezhda", "cascade": True, "dry": True}

    async def chosen(lead_filter: dict[str, Any]) -> list[str]:
        data = await stack.data(TRANSFER, {**base, "filter": lead_filter})
        ids: list[str] = data["transferLeads"]["leadIds"]
        return ids

    assert await chosen({"stages": ["sales/meeting"]}) == ["U3"]
    assert await chosen({"pipeline": "sales", "stages": ["new"]}) == ["U1", "U2", "U4"]
    assert await chosen({"noOpenTask": True}) == ["U2", "U4"]
    assert await chosen(
        {
            "createdFrom": (start + timedelta(days=1)).isoformat(),
            "createdTo": (start + timedelta(days=2, minutes=30)).isoformat(),
        }
    ) == ["U2", "U3"]
    assert await chosen({"pipeline": "nope"}) == []

    moved = await stack.data(
        TRANSFER, {**base, "dry": False, "filter": {"noOpenTask": True}}
    )
    assert _counts(moved["transferLeads"]) == {
        "leads": 2,
        "tasks": 0,  # U2's only task is done, and done tasks stay
        "contacts": 0,
        "companies": 0,
    }
    owners = {
        k: v.responsible
        for k, v in (await _leads(stack, ["U1", "U2", "U3", "U4"])).items()
    }
    assert owners == {
        "U1": "ursula",
        "U2": "nadezhda",
        "U3": "ursula",
        "U4": "nadezhda",
    }


async def test_bulk_transfer_runs_in_batches_of_fifty(any_stack: Stack) -> None:
    stack = any_stack
    await marinas_leads(stack, "B", 120)
    variables = {"from": "marina", "to": "ursula", "cascade": True}
    preview = (await stack.data(TRANSFER, {**variables, "dry": True}))["transferLeads"]
    assert (preview["leads"], preview["batches"]) == (120, 3)
    moved = (await stack.data(TRANSFER, {**variables, "dry": False}))["transferLeads"]
    assert (moved["leads"], moved["batches"]) == (120, 3)
    assert len(moved["decisions"]) == 120
    changes = await _responsible_changes(stack)
    assert all(changes[f"B{i:03d}"] == 1 for i in range(120))


async def test_an_interrupted_transfer_run_again_moves_nothing_twice(
    any_stack: Stack,
) -> None:
    stack = any_stack
    await marinas_leads(stack, "R", 75)
    # The first batch reached the CRM, then the assigner went down before
    # journaling it: the CRM has these 50 operations, the journal nothing.
    first = await stack.clients.crm.assign_leads(
        crm_pb2.AssignLeadsRequest(
            account=stack.account,
            cascade=True,
            assignments=[
                crm_pb2.ManualAssignment(
                    operation_id=f"manual:leaving-marina:R{i:03d}",
                    lead_id=f"R{i:03d}",
                    user_id="nadezhda",
                    expected_responsible="marina",
                )
                for i in range(50)
            ],
        ),
    )
    assert all(o.assigned for o in first.outcomes)

    variables = {
        "from": "marina",
        "to": "nadezhda",
        "cascade": True,
        "key": "leaving-marina",
        "dry": False,
    }
    done = (await stack.data(TRANSFER, variables))["transferLeads"]
    assert done["batchId"] == "leaving-marina"
    assert done["leads"] == 75
    assert done["leadIds"] == [f"R{i:03d}" for i in range(75)]
    assert len(done["decisions"]) == 75
    again = (await stack.data(TRANSFER, variables))["transferLeads"]
    assert _counts(again) == _counts(done)
    assert again["decisions"] == done["decisions"]

    changes = await _responsible_changes(stack)
    assert all(changes[f"R{i:03d}"] == 1 for i in range(75))
    journal = await stack.data(
        "query($u: ID!) "
        "{ decisions(userId: $u, first: 500) { edges { node { id } } } }",
        {"u": "nadezhda"},
    )
    assert len(journal["decisions"]["edges"]) == 75


async def test_a_repeated_assignment_with_the_same_key_changes_nothing_more(
    stack: Stack,
) -> None:
    await _setup(stack)
    variables = {
        "leads": ["P1", "P2"],
        "users": ["ursula"],
        "cascade": True,
        "key": "hand-1",
        "dry": False,
    }
    first = (await stack.data(ASSIGN, variables))["assignLeads"]
    again = (await stack.data(ASSIGN, variables))["assignLeads"]
    assert again == first
    changes = await _responsible_changes(stack)
    assert (changes["P1"], changes["P2"]) == (1, 1)


async def test_manual_assignments_count_in_the_report_and_in_max_new_today(
    stack: Stack,
) -> None:
    workspace = WORKSPACE.replace(
        "- {user: nadezhda}", "- {user: nadezhda, limits: {max_new_today: 2}}"
    )
    await _setup(stack, workspace)
    await stack.data(
        ASSIGN,
        {"leads": ["P1", "P2"], "users": ["nadezhda"], "cascade": False, "dry": False},
    )
    await stack.data(
        TRANSFER,
        {
            "from": "ursula",
            "to": "marina",
            "filter": {"noOpenTask": True},
            "cascade": False,
            "dry": False,
        },
    )
    eligibility = await stack.data(
        'query { eligibility(groupId: "main") '
        "{ eligible limits { limit value threshold passed } } }",
        user="nadezhda",
        role="manager",
    )
    (me,) = eligibility["eligibility"]
    assert me["eligible"] is False
    assert {
        "limit": "max_new_today",
        "value": 2,
        "threshold": 2,
        "passed": False,
    } in me["limits"]

    await settled(stack)
    today = stack.clock.now().date().isoformat()
    report = await stack.data(
        "query($d: Date!) { distributionReport(from: $d, to: $d, bucket: DAY) "
        "{ manual total rows { userId claimed pushed manual total } } }",
        {"d": today},
    )
    figures = report["distributionReport"]
    assert (figures["manual"], figures["total"]) == (4, 4)
    rows = {r["userId"]: r for r in figures["rows"]}
    assert rows["nadezhda"] == {
        "userId": "nadezhda",
        "claimed": 0,
        "pushed": 0,
        "manual": 2,
        "total": 2,
    }
    assert rows["marina"]["manual"] == 2


async def test_managers_may_not_assign_or_transfer(stack: Stack) -> None:
    await _setup(stack)
    for query, variables in (
        (
            ASSIGN,
            {"leads": ["P1"], "users": ["ursula"], "cascade": False, "dry": False},
        ),
        (
            TRANSFER,
            {"from": "ursula", "to": "marina", "cascade": False, "dry": True},
        ),
    ):
        body = await stack.gql(query, variables, user="ursula", role="manager")
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await _leads(stack, ["P1"]))["P1"].responsible == "pool"


async def test_unknown_or_unfit_ids_are_refused_and_move_nothing(stack: Stack) -> None:
    await _setup(stack)

    async def code(query: str, variables: dict[str, Any]) -> str:
        body = await stack.gql(query, variables)
        assert body.get("errors"), json.dumps(body)
        return str(body["errors"][0]["extensions"]["code"])

    plain = {"cascade": False, "dry": False}
    assert await code(
        ASSIGN, {**plain, "leads": ["P1", "NOPE"], "users": ["ursula"]}
    ) == ("NOT_FOUND")
    assert (
        await code(ASSIGN, {**plain, "leads": ["P1"], "users": ["ghost"]})
        == "NOT_FOUND"
    )
    assert await code(ASSIGN, {**plain, "leads": ["P1"], "users": ["pool"]}) == (
        "BAD_USER_INPUT"
    )
    assert await code(ASSIGN, {**plain, "leads": [], "users": ["ursula"]}) == (
        "BAD_USER_INPUT"
    )
    assert (
        await code(TRANSFER, {**plain, "from": "ghost", "to": "ursula"}) == "NOT_FOUND"
    )
    assert (
        await code(TRANSFER, {**plain, "from": "ursula", "to": "ghost"}) == "NOT_FOUND"
    )
    assert await code(TRANSFER, {**plain, "from": "ursula", "to": "ursula"}) == (
        "BAD_USER_INPUT"
    )
    assert (await _leads(stack, ["P1"]))["P1"].responsible == "pool"
