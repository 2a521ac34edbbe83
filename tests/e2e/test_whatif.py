"""What-if over the real services: history from crm, presses from the journal."""

from __future__ import annotations

import argparse
import csv
import io
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from leadrouter.cli import _instant, _simulate
from leadrouter.scheduler.v1 import scheduler_pb2
from leadrouter.simulate import render_comparison, simulate
from tests.fixtures import WORKSPACE, lead_created
from tests.stack import Stack

TEMPLATES = """
templates:
  - {id: calls-day, name: Calls by day, match: {channels: [call]},
     participants: [{user: marina}]}
  - {id: forms, match: {channels: [form]}, participants: [{user: ursula}]}
"""
CLAIM = """
mutation($g: ID!) { claimLead(groupId: $g) { __typename } }
"""


async def test_simulate_refuses_the_press_of_a_manager_who_lost_a_lead_today(
    stack: Stack,
) -> None:
    assert (await stack.apply(WORKSPACE))["ok"]
    now = stack.clock.now()
    await stack.import_history(
        [
            lead_created("A", now - timedelta(days=1), responsible="marina"),
            lead_created("L00", now - timedelta(days=1)),
            lead_created("L01", now - timedelta(days=1, minutes=-1)),
            {
                "type": "stage_changed",
                "at": (now - timedelta(hours=1)).isoformat(),
                "lead": "A",
                "to": "lost",
            },
        ]
    )
    for user in ("marina", "ursula"):
        data = await stack.data(CLAIM, {"g": "main"}, user=user, role="manager")
        assert data["claimLead"]["__typename"] == "Claimed"
    proposal = WORKSPACE.replace(
        "{max_active: 2}", "{max_active: 2, max_lost_today: 0}"
    )
    start, end = now - timedelta(days=2), now + timedelta(minutes=1)

    reply, problems = await simulate(stack.clients, stack.account, proposal, start, end)

    assert reply is not None, problems
    by_name = {m.name: m for m in reply.managers}
    assert reply.proposed.presses == 2
    assert dict(by_name["Marina"].proposed.refused) == {"max_lost_today": 1}
    assert dict(by_name["Marina"].actual.refused) == {}
    assert (by_name["Marina"].actual.claimed, by_name["Ursula"].actual.claimed) == (
        1,
        1,
    )
    # Imported a day late, the two pool leads were never pushed: the button's.
    assert (reply.proposed.left_to_button, reply.actual.left_to_button) == (2, 2)
    assert "Marina: too many deals lost today 1 (as it happened 0)" in (
        render_comparison(reply)
    )


SIMULATE = """
query($y: String!, $from: DateTime!, $to: DateTime!) {
  simulate(workspaceYaml: $y, from: $from, to: $to) {
    ok problems { path message }
    managers { user proposed actual }
    claims refusedClaims refusals { user limit count }
    heldLeads heldMinutes
  }
}
"""


async def test_simulate_query_is_for_admins_and_reports_problems(
    stack: Stack,
) -> None:
    assert (await stack.apply(WORKSPACE))["ok"]
    now = stack.clock.now()
    await stack.import_history([lead_created("L00", now - timedelta(hours=2))])
    span = {
        "from": (now - timedelta(days=1)).isoformat(),
        "to": now.isoformat(),
    }

    data = await stack.data(SIMULATE, {"y": WORKSPACE, **span})
    bad = await stack.data(SIMULATE, {"y": "users: 3", **span})
    decade = await stack.data(
        SIMULATE, {"y": WORKSPACE, "from": "2016-01-01T00:00:00Z", "to": span["to"]}
    )
    manager = await stack.gql(
        SIMULATE, {"y": WORKSPACE, **span}, user="ursula", role="manager"
    )

    assert data["simulate"] == {
        "ok": True,
        "problems": [],
        "managers": [{"user": "(button)", "proposed": 1, "actual": 1}],
        "claims": 0,
        "refusedClaims": 0,
        "refusals": [],
        "heldLeads": 0,
        "heldMinutes": 0,
    }
    assert bad["simulate"]["ok"] is False and bad["simulate"]["problems"]
    assert decade["simulate"]["problems"] == [
        {"path": "to", "message": "the range is at most 366 days"}
    ]
    assert manager["errors"][0]["extensions"]["code"] == "FORBIDDEN"


FULL = """
query($y: String!, $from: DateTime!, $to: DateTime!) {
  simulate(workspaceYaml: $y, from: $from, to: $to) {
    ok
    managers { user proposed actual }
    claims refusedClaims actualRefusedClaims
    refusals { user limit count text }
    blocked { user limit hours spans { from to } }
    templates { templateId name }
    heldLeads heldMinutes heldMaxMinutes
    slaReassignments handovers
  }
}
"""


async def _lost_today_history(stack: Stack) -> tuple[str, dict[str, str]]:
    """Marina loses a lead an hour ago and then presses; the proposal's
    max_lost_today 0 blocks her from that loss to the end of the range."""
    assert (await stack.apply(WORKSPACE))["ok"]
    now = stack.clock.now()
    await stack.import_history(
        [
            lead_created("A", now - timedelta(days=1), responsible="marina"),
            lead_created("L00", now - timedelta(days=1)),
            {
                "type": "stage_changed",
                "at": (now - timedelta(hours=1)).isoformat(),
                "lead": "A",
                "to": "lost",
            },
        ]
    )
    data = await stack.data(CLAIM, {"g": "main"}, user="marina", role="manager")
    assert data["claimLead"]["__typename"] == "Claimed"
    proposal = (
        WORKSPACE.replace("{max_active: 2}", "{max_active: 2, max_lost_today: 0}")
        + TEMPLATES
    )
    span = {
        "from": (now - timedelta(hours=3)).isoformat(),
        "to": (now + timedelta(hours=1)).isoformat(),
    }
    return proposal, span


async def test_simulate_shows_when_and_how_long_a_limit_blocked(
    stack: Stack,
) -> None:
    proposal, span = await _lost_today_history(stack)
    now = stack.clock.now()

    data = (await stack.data(FULL, {"y": proposal, **span}))["simulate"]

    assert data["ok"] is True
    assert data["blocked"] == [
        {
            "user": "marina",
            "limit": "max_lost_today",
            "hours": 2.0,
            "spans": [
                {
                    "from": (now - timedelta(hours=1)).isoformat(),
                    "to": (now + timedelta(hours=1)).isoformat(),
                }
            ],
        }
    ]
    assert (data["claims"], data["refusedClaims"]) == (1, 1)
    assert data["actualRefusedClaims"] == 0
    assert data["refusals"] == [
        {
            "user": "marina",
            "limit": "max_lost_today",
            "count": 1,
            "text": "too many deals lost today",
        }
    ]
    # 21.5: a template by its name, one without a name by its id.
    assert data["templates"] == [
        {"templateId": "calls-day", "name": "Calls by day"},
        {"templateId": "forms", "name": "forms"},
    ]


async def test_whatif_csv_is_the_comparison_for_admins_only(stack: Stack) -> None:
    proposal, span = await _lost_today_history(stack)
    query = "from={from}&to={to}".format(
        **{k: v.replace("+", "%2B") for k, v in span.items()}
    )

    def post(yaml: str, token: str | None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return stack.http.post(
            f"/reports/whatif.csv?{query}", content=yaml.encode(), headers=headers
        )

    admin = await post(proposal, stack.token("head", "admin"))
    manager = await post(proposal, stack.token("ursula", "manager"))
    broken = await post("users: 3", stack.token("head", "admin"))

    assert admin.status_code == 200
    assert admin.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(admin.text)))
    assert rows[0] == ["section", "item", "detail", "proposed", "actual"]
    assert ["blocked_hours", "Marina", "max_lost_today", "2.0", ""] in rows
    assert ["refused", "Marina", "max_lost_today", "1", "0"] in rows
    assert ["claims", "refused", "", "1", "0"] in rows
    assert manager.status_code == 403
    assert broken.status_code == 400 and "users" in broken.json()["error"]


async def test_leadrouter_simulate_prints_the_comparison_and_writes_csv(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proposal, span = await _lost_today_history(stack)
    path = tmp_path / "proposal.yaml"
    path.write_text(proposal)
    out = tmp_path / "whatif.csv"
    # The command as `leadrouter simulate` runs it, dialling this stack's services.
    settings = stack.settings.model_copy(
        update={f"{s}_addr": ",".join(a) for s, a in stack.clients.addresses.items()}
    )
    start, end = (datetime.fromisoformat(span[k]) for k in ("from", "to"))

    code = await _simulate(settings, str(path), stack.account, start, end, str(out))

    printed = capsys.readouterr().out
    assert code == 0
    # 21.5: names, not ids: the manager, the template, the refusal's reason.
    assert "Marina: too many deals lost today 2 h" in printed
    assert "Marina: too many deals lost today 1 (as it happened 0)" in printed
    assert "  Calls by day (every day all day): 0/0" in printed
    assert "presses: 1, refused under the proposal: 1, refused as it happened: 0" in (
        printed
    )
    assert out.read_text().splitlines()[0] == "section,item,detail,proposed,actual"


async def test_leadrouter_simulate_takes_plain_dates_as_whole_days_of_the_account(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proposal, span = await _lost_today_history(stack)
    path = tmp_path / "proposal.yaml"
    path.write_text(proposal)
    settings = stack.settings.model_copy(
        update={f"{s}_addr": ",".join(a) for s, a in stack.clients.addresses.items()}
    )
    reply = await stack.clients.scheduler.get_schedules(
        scheduler_pb2.GetSchedulesRequest(account=stack.account)
    )
    zone = ZoneInfo(reply.timezone or "UTC")
    start, end = (datetime.fromisoformat(span[k]) for k in ("from", "to"))
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    # `--from 2026-11-20 --to 2026-11-27` as the shell hands them over.
    assert _instant(first.isoformat()) == first
    assert _instant(last.isoformat()) == last
    with pytest.raises(argparse.ArgumentTypeError, match="offset"):
        _instant(f"{first.isoformat()}T09:00")

    assert await _simulate(settings, str(path), stack.account, first, last) == 0
    by_dates = capsys.readouterr().out
    whole_days = (
        datetime.combine(first, time(), zone),
        datetime.combine(last + timedelta(days=1), time(), zone),
    )
    assert await _simulate(settings, str(path), stack.account, *whole_days) == 0
    by_instants = capsys.readouterr().out
    assert by_dates == by_instants
    assert "Marina: too many deals lost today 1 (as it happened 0)" in by_dates
