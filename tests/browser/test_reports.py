"""Reports in the browser: the chart and tables show the report's figures."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, Demo
from tests.browser.helpers import screenshot


def test_the_distribution_chart_renders_with_the_right_totals(
    new_page: Any, demo: Demo
) -> None:
    claim = demo.gql(
        'mutation { claimLead(groupId: "main") { __typename } }',
        user="nadezhda",
        role="manager",
    )
    assert claim["claimLead"]["__typename"] in ("Claimed", "Refused")
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Tomsk")).date()
    month_start = today.replace(day=1)
    report = demo.gql(
        "query($f: Date!, $t: Date!) { distributionReport(from: $f, to: $t) "
        "{ total claimed pushed manual managers { userName total } } }",
        {"f": month_start.isoformat(), "t": today.isoformat()},
    )["distributionReport"]
    assert report["total"] >= 1

    page = new_page("head", "admin")
    page.get_by_role("link", name="Reports").click()
    totals = page.locator("p.totals").first
    expect(totals).to_have_text(
        f"Handed out: {report['total']} (by button {report['claimed']}, "
        f"by push {report['pushed']}, by hand {report['manual']})"
    )
    table = page.locator("table.distribution")
    for manager in report["managers"]:
        expect(table.get_by_role("row", name=manager["userName"])).to_contain_text(
            str(manager["total"])
        )
    expect(table.locator("tfoot")).to_contain_text(str(report["total"]))
    chart = page.get_by_role("img", name="Chart: Lead distribution")
    expect(chart).to_be_visible()
    drawn = chart.evaluate(
        "c => Chart.getChart(c).data.datasets"
        ".map(d => d.data.reduce((a, b) => a + b, 0))"
    )
    assert drawn == [report["claimed"], report["pushed"], report["manual"]]
    screenshot(page, "reports")
    page.set_viewport_size(PHONE)
    expect(chart).to_be_visible()
    screenshot(page, "reports-phone")
    # On a phone the page itself never scrolls sideways; wide tables scroll inside.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.set_viewport_size(DESKTOP)

    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").first.click()
    csv = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert download.value.suggested_filename.startswith("distribution-")
    assert len(csv) > 1 and "," in csv[0]
    assert page.js_errors == []


def test_the_loss_reasons_chart_splits_the_lost_by_reason(
    new_page: Any, demo: Demo
) -> None:
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Tomsk")).date()
    report = demo.gql(
        "query($f: Date!, $t: Date!) { lossReasonsReport(from: $f, to: $t, "
        "groupBy: MANAGER) { total { won lost reasons { reason count } } } }",
        {"f": today.replace(day=1).isoformat(), "t": today.isoformat()},
    )["lossReasonsReport"]["total"]
    assert report["lost"] >= 4  # Marina's four losses of the demo day

    page = new_page("head", "admin")
    page.get_by_role("link", name="Reports").click()
    expect(
        page.get_by_text(f"Closed: {report['won']} won, {report['lost']} lost")
    ).to_be_visible()
    chart = page.get_by_role("img", name="Chart: Loss reasons")
    expect(chart).to_be_visible()
    drawn = chart.evaluate(
        "c => Object.fromEntries(Chart.getChart(c).data.datasets"
        ".map(d => [d.label, d.data.reduce((a, b) => a + b, 0)]))"
    )
    expected = {"Won": report["won"]} | {
        f"Lost: {r['reason'] or 'no reason'}": r["count"] for r in report["reasons"]
    }
    assert drawn == expected


def test_the_journal_shows_new_decisions_live_and_explains_one(
    new_page: Any, demo: Demo
) -> None:
    page = new_page("head", "admin")
    page.get_by_role("link", name="Decision journal").click()
    expect(page.get_by_role("status").filter(has_text="Updating live")).to_be_visible()

    # Marina presses the button elsewhere; the open journal shows it without a reload.
    refused = demo.gql(
        'mutation { claimLead(groupId: "main") '
        "{ ... on Refused { decision { id } } } }",
        user="marina",
        role="manager",
    )["claimLead"]["decision"]["id"]
    row = page.locator(f"table.journal tbody tr[data-id='{refused}']")
    expect(row).to_contain_text("refused")
    expect(row).to_contain_text("Marina")
    expect(page.locator("table.journal tbody tr").first).to_have_attribute(
        "data-id", refused
    )
    screenshot(page, "journal")

    row.get_by_role("link").click()
    expect(page.get_by_role("heading", name=f"Decision {refused}")).to_be_visible()
    reasons = page.get_by_role("region", name="Reasons")
    expect(reasons).to_contain_text("Too many active deals")
    expect(reasons).to_contain_text("Closed as lost today")
    expect(page.get_by_role("heading", name="Details")).to_be_visible()
    screenshot(page, "journal-decision")
