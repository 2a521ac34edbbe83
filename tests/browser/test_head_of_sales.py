"""The head of sales: limits table, workspace file, schedules and templates."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, Demo
from tests.browser.helpers import screenshot

BAD_WORKSPACE = """\
account: {timezone: Mars/Olympus}
users:
  - {id: ursula, name: Ursula}
pipelines:
  - id: sales
    stages: [{id: new, kind: open}]
groups:
  - id: main
    source_stages: [sales/nowhere]
    members:
      - {user: ghost, limits: {max_active: -3}}
"""


def test_an_admin_edits_a_limit_and_the_next_eligibility_reflects_it(
    new_page: Any, demo: Demo
) -> None:
    page = new_page("head", "admin")
    expect(page.get_by_role("heading", name="Groups and limits")).to_be_visible()
    row = page.locator("tr[data-user=nadezhda]")
    now = row.locator(".row-now")
    expect(now).to_be_visible()
    expect(now).not_to_contain_text("Active deals")
    expect(page.locator("tr[data-user=marina] .row-now")).to_contain_text(
        "Blocked by: Active deals, Lost today"
    )
    screenshot(page, "admin-limits-table")
    page.set_viewport_size(PHONE)
    screenshot(page, "admin-limits-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.set_viewport_size(DESKTOP)

    active = row.get_by_label("Active deals for Nadezhda")
    # A value out of the limit's bounds is told next to its field, and not sent.
    active.fill("-1")
    row.get_by_role("button", name="Save the row of Nadezhda").click()
    expect(row.locator("input[name=max_active][aria-invalid=true]")).to_be_visible()
    expect(row).to_contain_text("must be a whole number from 0")
    screenshot(page, "admin-limits-validation")

    active.fill("0")
    active.press("Enter")
    # Save shows what it changes first; the change is made on confirming.
    page.get_by_role("button", name="Save these changes").click()
    expect(row.get_by_role("status")).to_have_text("Saved")
    expect(now).to_contain_text("Blocked by: Active deals")
    # The service agrees: Nadezhda's next eligibility fails the new limit.
    verdict = demo.gql(
        '{ eligibility(groupId: "main", userIds: ["nadezhda"]) { eligible '
        "limits { limit threshold passed } } }"
    )["eligibility"][0]
    assert verdict["eligible"] is False
    assert {"limit": "max_active", "threshold": 0, "passed": False} in verdict["limits"]

    # Put it back for the other tests.
    active.fill("30")
    active.press("Enter")
    page.get_by_role("button", name="Save these changes").click()
    expect(row.get_by_role("status")).to_have_text("Saved")
    expect(now).not_to_contain_text("Active deals")
    assert page.js_errors == []


def test_an_admin_uploads_a_bad_workspace_and_sees_every_problem(
    new_page: Any, demo: Demo
) -> None:
    expected = demo.gql(
        "mutation($y: String!) { applyWorkspace(yaml: $y, dryRun: true) "
        "{ ok problems { path message } } }",
        {"y": BAD_WORKSPACE},
    )["applyWorkspace"]
    assert not expected["ok"]

    page = new_page("head", "admin", path="/")
    page.get_by_role("link", name="Workspace file").click()
    page.get_by_label("File", exact=True).set_input_files(
        {"name": "bad.yaml", "mimeType": "text/yaml", "buffer": BAD_WORKSPACE.encode()}
    )
    expect(page.get_by_label("File contents")).to_have_value(BAD_WORKSPACE)
    page.get_by_role("button", name="Apply").click()

    count = len(expected["problems"])
    expect(page.get_by_role("alert")).to_contain_text(f"{count} problem")
    expect(page.get_by_role("alert")).to_contain_text("nothing was changed")
    rows = page.locator("table.problems tbody tr")
    expect(rows).to_have_count(count)
    for i, problem in enumerate(expected["problems"]):
        expect(rows.nth(i)).to_contain_text(problem["path"])
        expect(rows.nth(i)).to_contain_text(problem["message"])
    screenshot(page, "admin-workspace-problems")
    # Nothing changed: the demo's group still has its members.
    group = demo.gql('{ group(id: "main") { members { userId } } }')["group"]
    assert [m["userId"] for m in group["members"]][:2] == ["ursula", "nadezhda"]


def test_schedules_show_the_week_and_templates_who_takes_calls(
    new_page: Any, demo: Demo
) -> None:
    page = new_page("head", "admin")
    page.get_by_role("link", name="Schedules").click()
    calendar = page.get_by_role("table")
    ursula = calendar.get_by_role("row").filter(has_text="Ursula")
    expect(ursula.get_by_role("cell").first).to_contain_text("09:00–19:00")
    expect(ursula).to_contain_text("50 h this week")
    duty = demo.gql('{ presence(userIds: ["ursula"]) { online onDuty } }')["presence"]
    state = duty[0] if duty else {"online": False, "onDuty": False}
    now = (
        "on duty now"
        if state["onDuty"]
        else ("ONLINE" if state["online"] else "OFFLINE")
    )
    expect(ursula.get_by_role("rowheader")).to_contain_text(now)
    screenshot(page, "admin-schedules")

    page.get_by_role("link", name="Templates").click()
    calls = page.get_by_role("region", name="Calls")
    day = calls.locator("tr[data-template=calls-day]").first
    expect(day).to_contain_text("09:00")
    expect(day).to_contain_text("Ursula ×1, Nadezhda ×2")
    expect(calls.locator("tr[data-template=calls-evening]").first).to_contain_text(
        "Ursula ×1, Marina ×1"
    )
    expect(calls).to_contain_text("No template takes it: the lead waits")
    screenshot(page, "admin-templates")
