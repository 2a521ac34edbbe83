"""Manual mode on the demo: the head of sales moves Marina's open leads to Nadezhda."""

from __future__ import annotations

from leadrouter.demo import WORKSPACE
from leadrouter.demo.history import record_demo
from tests.e2e.reports_fixtures import settled
from tests.e2e.test_manual import TRANSFER
from tests.stack import Stack

REPORT = """
query($d: Date!, $u: [ID!]) {
  distributionReport(from: $d, to: $d, bucket: DAY, userIds: $u) {
    rows { userId userName bucket claimed pushed manual total }
  }
}
"""


async def test_transfer_of_a_demo_managers_open_leads_shows_in_the_report(
    stack: Stack,
) -> None:
    result = await stack.apply(WORKSPACE.read_text())
    assert result["ok"], result["problems"]
    yaml = WORKSPACE.read_text()
    assert (
        await record_demo(stack.clients, stack.account, yaml, stack.clock.now()) == []
    )
    variables = {
        "from": "marina",
        "to": "nadezhda",
        "filter": {
            "stages": ["sales/new", "sales/taken", "sales/meeting", "sales/offer"]
        },
        "cascade": True,
        "key": "marina-leaves",
    }
    preview = (await stack.data(TRANSFER, {**variables, "dry": True}))["transferLeads"]
    moved = (await stack.data(TRANSFER, {**variables, "dry": False}))["transferLeads"]
    counts = ("leads", "tasks", "contacts", "companies")
    assert [preview[k] for k in counts] == [moved[k] for k in counts]
    assert moved["leads"] > 0
    await settled(stack)
    report = await stack.data(
        REPORT, {"d": stack.clock.now().date().isoformat(), "u": ["nadezhda"]}
    )
    (row,) = report["distributionReport"]["rows"]
    assert row["manual"] == moved["leads"]
