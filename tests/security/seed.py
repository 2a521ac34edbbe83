"""One account with a group, a pool, closed leads and decisions: ids worth guessing."""

from __future__ import annotations

from datetime import timedelta

from tests.fixtures import WORKSPACE, lead_created
from tests.stack import Stack

# Callers of each role, all users of the workspace; 5003 is an amoCRM user id,
# the widget's manager.
ADMIN, MANAGER, OTHER_MANAGER, PARTNER, VIEWER = (
    "head",
    "ursula",
    "nadezhda",
    "crm-bridge",
    "vera",
)
WIDGET_MANAGER = "5003"
SECURITY_WORKSPACE = WORKSPACE.replace(
    "  - {id: pool, name: Lead exchange, technical: true}\n",
    "  - {id: pool, name: Lead exchange, technical: true}\n"
    f"  - {{id: {PARTNER}, name: CRM bridge}}\n"
    f"  - {{id: {VIEWER}, name: Vera}}\n"
    f"  - {{id: '{WIDGET_MANAGER}', name: Widget Manager}}\n",
).replace(
    "      - {user: nadezhda}\n",
    f"      - {{user: nadezhda}}\n      - {{user: '{WIDGET_MANAGER}'}}\n",
)
CLAIM = """mutation($g: ID!, $u: ID) { claimLead(groupId: $g, userId: $u) {
  __typename ... on Claimed { lead { id } decision { id } }
  ... on Refused { decision { id } } } }"""


async def seed(stack: Stack, account: str | None = None) -> dict[str, str]:
    """Applies the workspace and history to the account; the ids it made, by name."""
    account = account or stack.account
    admin = stack.token(ADMIN, "admin", account)
    applied = await stack.data(
        "mutation($y: String!) { applyWorkspace(yaml: $y) { ok problems { path } } }",
        {"y": SECURITY_WORKSPACE},
        token=admin,
    )
    assert applied["applyWorkspace"]["ok"], applied
    start = stack.clock.now() - timedelta(days=1)
    events = [lead_created(f"L{i:02d}", start + timedelta(minutes=i)) for i in range(6)]
    # Owned by the exchange but outside every source stage: for push, not claims.
    events.append(lead_created("L06", start, stage="taken"))
    events.append(
        {
            "type": "stage_changed",
            "at": (start + timedelta(hours=1)).isoformat(),
            "lead": "L03",
            "to": "lost",
        }
    )
    previous, stack.account = stack.account, account
    try:
        await stack.import_history(events)
    finally:
        stack.account = previous
    claimed = await stack.data(
        CLAIM, {"g": "main"}, token=stack.token(MANAGER, "manager", account)
    )
    widget = await stack.data(
        CLAIM, {"g": "main"}, token=stack.token(WIDGET_MANAGER, "manager", account)
    )
    others = await stack.data(
        CLAIM, {"g": "main"}, token=stack.token(OTHER_MANAGER, "manager", account)
    )
    refused = await stack.data(
        CLAIM, {"g": "main"}, token=stack.token("pavel", "manager", account)
    )
    return {
        "group": "main",
        "claimed_lead": claimed["claimLead"]["lead"]["id"],
        "pool_lead": "L04",
        "lost_lead": "L03",
        "inbox_lead": "L06",
        "claim_decision": claimed["claimLead"]["decision"]["id"],
        "widget_decision": widget["claimLead"]["decision"]["id"],
        "widget_lead": widget["claimLead"]["lead"]["id"],
        "other_managers_decision": others["claimLead"]["decision"]["id"],
        "other_managers_lead": others["claimLead"]["lead"]["id"],
        "refusal_decision": refused["claimLead"]["decision"]["id"],
    }
