"""What-if in the browser: the head of sales tries a tighter limit on the demo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from leadrouter.demo import WORKSPACE
from tests.browser.conftest import Demo
from tests.browser.helpers import screenshot

TOMSK = ZoneInfo("Asia/Tomsk")
SIMULATE = """
query($y: String!, $from: DateTime!, $to: DateTime!) {
  simulate(workspaceYaml: $y, from: $from, to: $to) {
    ok managers { user name proposed actual } refusedClaims
    blocked { user name limit hours }
  }
}
"""


def test_head_of_sales_compares_a_tighter_limit_with_what_happened(
    new_page: Any, demo: Demo
) -> None:
    # Marina may lose no lead a day: the demo's losses of today block her.
    proposal = WORKSPACE.read_text(encoding="utf-8").replace(
        "max_lost_today: 3", "max_lost_today: 0"
    )
    today = datetime.now(UTC).astimezone(TOMSK).date()
    first = today - timedelta(days=13)
    start = datetime(first.year, first.month, first.day, tzinfo=TOMSK)
    end = datetime(today.year, today.month, today.day, tzinfo=TOMSK) + timedelta(days=1)
    expected = demo.gql(
        SIMULATE, {"y": proposal, "from": start.isoformat(), "to": end.isoformat()}
    )["simulate"]
    assert expected["ok"]
    marina = [b for b in expected["blocked"] if b["user"] == "marina"]
    assert any(b["limit"] == "max_lost_today" and b["hours"] > 0 for b in marina)

    page = new_page("head", "admin")
    page.get_by_role("link", name="What-if").click()
    page.get_by_label("Proposed workspace file (YAML)").fill("users: 3")
    page.get_by_label("From").fill(first.isoformat())
    page.get_by_label("To").fill(today.isoformat())
    page.get_by_role("button", name="Run what-if").click()
    problems = page.locator("#wi-problems")
    expect(problems).to_contain_text("users")

    page.get_by_label("Proposed workspace file (YAML)").fill(proposal)
    page.get_by_role("button", name="Run what-if").click()
    managers = page.locator("#wi-managers")
    for m in expected["managers"]:
        row = managers.get_by_role("row", name=m["name"], exact=False).first
        expect(row).to_contain_text(str(m["proposed"]))
        expect(row).to_contain_text(str(m["actual"]))
    blocked = page.locator("#wi-blocked")
    expect(blocked.get_by_role("row", name="Marina max_lost_today")).to_be_visible()
    expect(page.locator("#wi-summary")).to_contain_text("Refused by limits")
    expect(page.locator("#wi-windows")).to_contain_text("Written, Mon-Fri 09-19")

    chart = page.get_by_role("img", name="Leads per manager: proposed and actual")
    expect(chart).to_be_visible()
    drawn = chart.evaluate(
        "c => Chart.getChart(c).data.datasets"
        ".map(d => d.data.reduce((a, b) => a + b, 0))"
    )
    people = [m for m in expected["managers"] if not m["user"].startswith("(")]
    assert drawn == [
        sum(m["proposed"] for m in people),
        sum(m["actual"] for m in people),
    ]
    hours = page.get_by_role(
        "img", name="Hours in which the limits would refuse each manager"
    ).evaluate(
        "c => Chart.getChart(c).data.datasets"
        ".map(d => d.data.reduce((a, b) => a + b, 0))"
        ".reduce((a, b) => a + b, 0)"
    )
    assert round(hours, 2) == round(sum(b["hours"] for b in expected["blocked"]), 2)
    screenshot(page, "whatif")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    rows = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert rows[0] == "section,item,detail,proposed,actual"
    assert any(r.startswith("blocked_hours,Marina,max_lost_today,") for r in rows)
    assert page.js_errors == []
