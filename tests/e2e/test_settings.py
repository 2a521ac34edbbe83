"""The settings screens' API: people, pipelines, one member's limits, presence."""

from __future__ import annotations

from tests.fixtures import WORKSPACE
from tests.stack import Stack

UPDATE = """
mutation($g: ID!, $u: ID!, $on: Boolean!, $l: [LimitValueInput!]!) {
  updateMemberLimits(groupId: $g, userId: $u, enabled: $on, limits: $l) {
    ok problems { path message } member { userId enabled limits { limit value } }
  }
}"""

ELIGIBILITY = """
query($u: [ID!]) { eligibility(groupId: "main", userIds: $u) {
  userId eligible limits { limit value threshold passed } } }"""


async def test_users_and_pipelines_name_people_and_stages(stack: Stack) -> None:
    await stack.apply(WORKSPACE)
    data = await stack.data(
        "{ users { id name technical } pipelines { id stages { id name kind } } }"
    )
    assert {"id": "pool", "name": "Lead exchange", "technical": True} in data["users"]
    stages = data["pipelines"][0]["stages"]
    assert stages[0] == {"id": "sales/new", "name": "new", "kind": "open"}
    assert stages[3]["kind"] == "won"


async def test_a_limit_set_in_the_table_gates_the_next_eligibility(
    stack: Stack,
) -> None:
    await stack.apply(WORKSPACE)
    before = await stack.data(ELIGIBILITY, {"u": ["ursula"]})
    assert before["eligibility"][0]["eligible"] is True

    result = await stack.data(
        UPDATE,
        {
            "g": "main",
            "u": "ursula",
            "on": True,
            "l": [{"limit": "max_active", "value": 0}, {"limit": "max_lost_today"}],
        },
    )
    saved = result["updateMemberLimits"]
    assert saved["ok"] is True
    assert saved["member"]["limits"] == [{"limit": "max_active", "value": 0}]

    after = await stack.data(ELIGIBILITY, {"u": ["ursula"]})
    assert after["eligibility"][0]["eligible"] is False
    assert after["eligibility"][0]["limits"] == [
        {"limit": "max_active", "value": 0, "threshold": 0, "passed": False}
    ]
    # The other members and groups are as they were.
    group = await stack.data(
        '{ group(id: "main") { members { userId limits { limit value } } } }'
    )
    marina = next(m for m in group["group"]["members"] if m["userId"] == "marina")
    assert marina["limits"] == [{"limit": "max_active", "value": 2}]


async def test_bad_values_come_back_per_field_and_nothing_is_saved(
    stack: Stack,
) -> None:
    await stack.apply(WORKSPACE)
    result = await stack.data(
        UPDATE,
        {
            "g": "main",
            "u": "ursula",
            "on": True,
            "l": [
                {"limit": "max_active", "value": -1},
                {"limit": "max_pies", "value": 3},
                {"limit": "interval_minutes", "value": 5},
            ],
        },
    )
    saved = result["updateMemberLimits"]
    assert saved["ok"] is False and saved["member"] is None
    paths = {p["path"]: p["message"] for p in saved["problems"]}
    assert set(paths) == {"limits.max_active", "limits.max_pies"}
    assert "from 0" in paths["limits.max_active"]
    group = await stack.data(
        '{ group(id: "main") { members { userId limits { limit } } } }'
    )
    ursula = next(m for m in group["group"]["members"] if m["userId"] == "ursula")
    assert ursula["limits"] == []


async def test_the_exchange_user_cannot_become_a_member(stack: Stack) -> None:
    await stack.apply(WORKSPACE)
    result = await stack.data(UPDATE, {"g": "main", "u": "pool", "on": True, "l": []})
    assert result["updateMemberLimits"]["problems"][0]["path"] == "userId"


async def test_a_manager_may_not_edit_limits(stack: Stack) -> None:
    await stack.apply(WORKSPACE)
    body = await stack.gql(
        UPDATE,
        {"g": "main", "u": "ursula", "on": True, "l": []},
        user="ursula",
        role="manager",
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_web_ui_is_served_at_the_root(stack: Stack) -> None:
    page = await stack.http.get("/")
    assert page.status_code == 200
    assert '<html lang="' in page.text
    assert (await stack.http.get("/app/main.js")).status_code == 200
    assert (await stack.http.get("/healthz")).json() == {"status": "ok"}


async def test_the_widget_trades_its_token_for_a_ui_session(stack: Stack) -> None:
    await stack.apply(WORKSPACE)
    refused = await stack.http.post("/widget/session")
    assert refused.status_code == 401
    reply = await stack.http.post(
        "/widget/session", headers={"X-Auth-Token": stack.token("ursula")}
    )
    assert reply.status_code == 200
    token = reply.json()["token"]
    viewer = await stack.data("{ viewer { user { id } role } }", token=token)
    assert viewer["viewer"] == {"user": {"id": "ursula"}, "role": "MANAGER"}


async def test_a_manager_reads_their_own_presence(stack: Stack) -> None:
    await stack.apply(WORKSPACE)
    await stack.data(
        'mutation { setPresence(userId: "ursula", online: true) { online } }',
        user="ursula",
        role="manager",
    )
    mine = await stack.data(
        "{ presence { userId online } }", user="ursula", role="manager"
    )
    assert mine["presence"] == [{"userId": "ursula", "online": True}]
    body = await stack.gql(
        '{ presence(userIds: ["marina"]) { userId } }', user="ursula", role="manager"
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
