"""The limits editor of the widget (issue 19 point 8, issue 23 point 13).

Checks a value before sending, says what is wrong next to the field, shows
the change list of the one change function before it saves, tells the
server's refusals next to their field, and shows which values a member takes
from the group's defaults.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Demo
from tests.browser.helpers import screenshot

MARINA = """mutation { updateMemberLimits(groupId: "main", userId: "marina",
  enabled: true, limits: [{limit: "max_active", value: 5},
  {limit: "max_overdue_tasks", value: 1}, {limit: "max_lost_today", value: 3}]) {
  ok problems { message } } }"""


def _sent_edits(page: Any) -> list[str]:
    """The limits edits the page sends, as they go."""
    sent: list[str] = []

    def seen(request: Any) -> None:
        body = request.post_data or ""
        if request.method == "POST" and (
            "updateMemberLimits" in body or "updateDefaultLimits" in body
        ):
            sent.append(body)

    page.on("request", seen)
    return sent


def _cell(page: Any, row: Any, label: str) -> Any:
    return row.locator("td", has=page.get_by_label(label, exact=True))


def _marina(page: Any) -> Any:
    expect(page.get_by_role("heading", name="Groups and limits")).to_be_visible()
    return page.locator("tr[data-user=marina]")


def test_a_bad_value_is_told_next_to_its_field_and_nothing_is_sent(
    new_page: Any, demo: Demo
) -> None:
    page = new_page("head", "admin")
    sent = _sent_edits(page)
    row = _marina(page)
    active = row.get_by_label("Active deals for Marina")
    # The bounds are written under each limit's name.
    expect(page.locator("thead th", has_text="Active deals")).to_contain_text(
        "0–100000"
    )

    for bad in ("12.5", "many", "100001", "-2"):
        active.fill(bad)
        row.get_by_role("button", name="Save the row of Marina").click()
        expect(row.locator("input[name=max_active][aria-invalid=true]")).to_be_visible()
        expect(row).to_contain_text("must be a whole number from 0 to 100000")
        expect(row.get_by_role("status")).to_have_text(
            "Fix the fields in the row of Marina"
        )
    screenshot(page, "limits-editor-bad-value")
    assert sent == []
    assert page.js_errors == []


def test_a_good_value_is_previewed_then_saved_and_a_cancel_saves_nothing(
    new_page: Any, demo: Demo
) -> None:
    page = new_page("head", "admin")
    row = _marina(page)
    # Marina has no interval of her own: she takes the group's 5, greyed.
    interval = row.get_by_label("Interval, min for Marina")
    expect(interval).to_have_value("")
    expect(interval).to_have_attribute("placeholder", "5")
    expect(interval).to_have_class("inherits")
    expect(_cell(page, row, "Interval, min for Marina")).to_contain_text(
        "group default"
    )
    active = row.get_by_label("Active deals for Marina")
    expect(_cell(page, row, "Active deals for Marina")).not_to_contain_text(
        "group default"
    )

    active.fill("12")
    row.get_by_role("button", name="Save the row of Marina").click()
    preview = page.get_by_role("region", name="Saving the row of Marina changes:")
    expect(preview).to_contain_text("group main, member marina: max_active 5 → 12")
    screenshot(page, "limits-editor-preview")
    # Cancel: nothing saved.
    preview.get_by_role("button", name="Cancel").click()
    expect(preview).to_have_count(0)
    expect(row.get_by_role("status")).to_have_text("Not saved")
    assert _threshold(demo) == 5

    row.get_by_role("button", name="Save the row of Marina").click()
    preview = page.get_by_role("region", name="Saving the row of Marina changes:")
    expect(preview).to_have_text(
        "Saving the row of Marina changes:"
        "group main, member marina: max_active 5 → 12"
        "Save these changesCancel"
    )
    preview.get_by_role("button", name="Save these changes").click()
    expect(row.get_by_role("status")).to_have_text("Saved")
    expect(preview).to_have_count(0)
    assert _threshold(demo) == 12
    versions = demo.gql("{ workspaceVersions { source changes } }")["workspaceVersions"]
    assert versions[0] == {
        "source": "updateMemberLimits",
        "changes": ["group main, member marina: max_active 5 → 12"],
    }
    # Put it back for the other tests.
    assert demo.gql(MARINA)["updateMemberLimits"] == {"ok": True, "problems": []}
    assert page.js_errors == []


def test_a_value_the_server_refuses_is_told_in_its_words_next_to_the_field(
    new_page: Any, demo: Demo
) -> None:
    page = new_page("head", "admin")
    sent = _sent_edits(page)
    row = _marina(page)
    # Within the bounds, so the page sends it; but Marina's own cap of 3 lost
    # leads a day cannot sit under a month's cap of 2.
    month = row.get_by_label("Lost this month for Marina")
    month.fill("2")
    row.get_by_role("button", name="Save the row of Marina").click()
    expect(row.locator("input[name=max_lost_month][aria-invalid=true]")).to_be_visible()
    cell = _cell(page, row, "Lost this month for Marina")
    expect(cell).to_contain_text(
        "must not be less than the day's cap of lost leads (3): "
        "today's losses count in the month's too"
    )
    expect(page.locator("tr.preview")).to_have_count(0)  # no preview to save
    assert len(sent) == 1 and '"d":true' in sent[0].replace(" ", "")
    screenshot(page, "limits-editor-server-refusal")
    assert _threshold(demo, "max_lost_month") is None
    assert page.js_errors == []


def test_the_groups_defaults_are_edited_with_their_preview_and_taken_by_members(
    new_page: Any, demo: Demo
) -> None:
    page = new_page("head", "admin")
    _marina(page)
    defaults = page.locator("tr[data-defaults]")
    interval = defaults.get_by_label("Group default: Interval, min")
    expect(interval).to_have_value("5")
    interval.fill("7")
    defaults.get_by_role("button", name="Save the group's defaults").click()
    preview = page.get_by_role("region", name="Saving the group's defaults changes:")
    expect(preview).to_contain_text("group main: default_limits.interval_minutes 5 → 7")
    preview.get_by_role("button", name="Save these changes").click()
    expect(defaults.get_by_role("status")).to_have_text("Saved")
    marina = page.locator("tr[data-user=marina]")
    expect(marina.get_by_label("Interval, min for Marina")).to_have_attribute(
        "placeholder", "7"
    )
    # Put it back for the other tests.
    interval.fill("5")
    defaults.get_by_role("button", name="Save the group's defaults").click()
    page.get_by_role("button", name="Save these changes").click()
    expect(defaults.get_by_role("status")).to_have_text("Saved")

    # The recommended set fills what the group leaves empty; Cancel keeps it unsaved.
    defaults.get_by_role("button", name="Fill in the recommended set").click()
    expect(defaults.get_by_label("Group default: New today")).to_have_value("20")
    expect(defaults.get_by_label("Group default: Overdue tasks")).to_have_value("3")
    expect(defaults.get_by_label("Group default: Overdue days")).to_have_value("5")
    expect(defaults.get_by_label("Group default: Lost today")).to_have_value("")
    defaults.get_by_role("button", name="Save the group's defaults").click()
    preview = page.get_by_role("region", name="Saving the group's defaults changes:")
    expect(preview.get_by_role("listitem")).to_have_text(
        [
            "group main: default_limits.max_new_today off → 20",
            "group main: default_limits.max_overdue_tasks off → 3",
            "group main: default_limits.max_overdue_days off → 5",
        ]
    )
    preview.get_by_role("button", name="Cancel").click()
    expect(defaults.get_by_role("status")).to_have_text("Not saved")
    for label in ("New today", "Overdue tasks", "Overdue days"):
        defaults.get_by_label(f"Group default: {label}").fill("")
    # Back as saved: nothing to preview, nothing to save.
    defaults.get_by_role("button", name="Save the group's defaults").click()
    expect(defaults.get_by_role("status")).to_have_text("Nothing to change")
    expect(page.locator("tr.preview")).to_have_count(0)
    group = demo.gql('{ group(id: "main") { defaultLimits { limit value } } }')
    assert group["group"]["defaultLimits"] == [
        {"limit": "interval_minutes", "value": 5},
        {"limit": "max_active", "value": 50},
    ]
    assert page.js_errors == []


def _threshold(demo: Demo, name: str = "max_active") -> int | None:
    group = demo.gql(
        '{ group(id: "main") { members { userId limits { limit value } } } }'
    )["group"]
    marina = next(m for m in group["members"] if m["userId"] == "marina")
    return next((x["value"] for x in marina["limits"] if x["limit"] == name), None)
