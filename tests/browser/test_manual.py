"""Manual mode: the head of sales moves a manager's open leads to a colleague."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Demo
from tests.browser.helpers import screenshot

TRANSFER = """
mutation($filter: LeadFilter) {
  transferLeads(fromUserId: "marina", toUserId: "nadezhda", filter: $filter,
                cascade: true, dryRun: true) {
    leads tasks contacts companies leadIds
  }
}
"""
OPEN = ["sales/new", "sales/taken", "sales/meeting", "sales/offer"]


def test_an_admin_previews_and_confirms_a_transfer_of_marinas_open_leads(
    new_page: Any, demo: Demo
) -> None:
    expected = demo.gql(TRANSFER, {"filter": {"stages": OPEN}})["transferLeads"]
    assert expected["leads"] > 0 and expected["tasks"] > 0
    stage_names = {
        s["id"]: s["name"]
        for p in demo.gql("{ pipelines { stages { id name } } }")["pipelines"]
        for s in p["stages"]
    }

    page = new_page("head", "admin")
    page.get_by_role("navigation").get_by_role("link", name="Transfer leads").click()
    expect(page.get_by_role("heading", name="Transfer leads")).to_be_visible()
    page.get_by_label("From", exact=True).select_option(label="Marina")
    page.get_by_label("To", exact=True).select_option(label="Nadezhda")
    page.get_by_label("Pipeline").select_option("sales")
    for stage in OPEN:
        page.get_by_role("checkbox", name=stage_names[stage], exact=True).check()
    cascade = page.get_by_label("With their open tasks, contacts and companies")
    expect(cascade).to_be_checked()
    # Keyboard: Enter in the form asks for the preview.
    page.get_by_label("Created from").press("Enter")

    confirm = page.get_by_role("region", name="Confirm the transfer")
    n = {k: expected[k] for k in ("leads", "tasks", "contacts", "companies")}
    expect(confirm).to_contain_text(f"Move {n['leads']} lead")
    expect(confirm).to_contain_text("from Marina to Nadezhda?")
    for kind, count in n.items():
        expect(confirm.locator(f"dd[data-count={kind}]")).to_have_text(str(count))
    button = confirm.get_by_role("button", name="Confirm transfer")
    expect(button).to_be_focused()
    screenshot(page, "admin-transfer-preview")
    page.keyboard.press("Enter")

    done = page.get_by_role("region", name="Transfer done")
    status = done.get_by_role("status")
    expect(status).to_contain_text(f"Moved {n['leads']} lead")
    expect(status).to_contain_text("from Marina to Nadezhda in 1 batch")
    for kind, count in n.items():
        expect(done.locator(f"dd[data-count={kind}]")).to_have_text(str(count))
    screenshot(page, "admin-transfer")

    # The journal agrees: each lead's last decision gives it to Nadezhda by hand.
    for lead in expected["leadIds"]:
        (last,) = demo.gql(
            "query($l: ID!) { decisions(leadId: $l, first: 1) "
            "{ edges { node { kind assignee actor } } } }",
            {"l": lead},
        )["decisions"]["edges"]
        assert last["node"] == {
            "kind": "manual",
            "assignee": "nadezhda",
            "actor": "head",
        }
    # And Marina has no open leads left to move.
    again = demo.gql(TRANSFER, {"filter": {"stages": OPEN}})["transferLeads"]
    assert again["leads"] == 0
    assert page.js_errors == []

    # Give them back: later tests count on Marina's active deals of the demo.
    back = demo.gql(
        'mutation($l: [ID!]!) { assignLeads(leadIds: $l, userIds: ["marina"], '
        "cascade: true) { leads tasks } }",
        {"l": expected["leadIds"]},
    )["assignLeads"]
    assert back == {"leads": n["leads"], "tasks": n["tasks"]}
