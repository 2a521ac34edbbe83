"""The what-if measures the limits as the crm does (issue 23 points 1-5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from leadrouter.workspace import Workspace, parse_workspace
from services.assigner.whatif.replay import _Replay
from services.crm.history import parse_event

TOMSK = ZoneInfo("Asia/Tomsk")
NOW = datetime(2026, 11, 2, 10, tzinfo=TOMSK)  # a Monday
WORKSPACE = """
account: {timezone: Asia/Tomsk}
users:
  - {id: pool, technical: true}
  - {id: ursula}
pipelines:
  - id: sales
    stages:
      - {id: new}
      - {id: taken}
      - {id: meeting}
      - {id: parked}
      - {id: won, kind: won}
      - {id: lost, kind: lost}
groups:
  - id: main
    source_stages: [sales/new]
    target_stage: sales/taken
    exchange_users: [pool]
    key_stage: sales/meeting
    sale_stages: [sales/won, sales/taken]
    excluded_stages: [sales/parked]
    members:
      - {user: ursula, limits: {days_without_sales: 14, min_sales_last_month: 1}}
"""


def _ws() -> Workspace:
    ws, problems = parse_workspace(WORKSPACE)
    assert ws is not None, problems
    return ws


def _replayed(*events: dict[str, Any]) -> _Replay:
    r = _Replay(_ws(), TOMSK, NOW, NOW, "")
    for e in events:
        r.account.apply(parse_event(e))
    return r


def _at(text: str) -> str:
    return datetime.fromisoformat(text).replace(tzinfo=TOMSK).isoformat()


def _created(lead: str, stage: str) -> dict[str, Any]:
    return {
        "type": "lead_created",
        "at": _at("2026-09-01 09:00"),
        "lead": lead,
        "pipeline": "sales",
        "stage": stage,
        "responsible": "ursula",
    }


def _move(lead: str, at: str, to: str) -> dict[str, Any]:
    return {"type": "stage_changed", "at": _at(at), "lead": lead, "to": to}


def _reopen(lead: str, at: str) -> dict[str, Any]:
    return {"type": "lead_reopened", "at": _at(at), "lead": lead, "by": "head"}


def test_23_1_to_5_the_what_if_counts_sales_active_leads_and_reopening_as_crm() -> None:
    r = _replayed(
        # 23.1: won, reopened, won again in October: one sale.
        _created("S1", "new"),
        _move("S1", "2026-10-05 12:00", "won"),
        _reopen("S1", "2026-10-06 12:00"),
        _move("S1", "2026-10-07 12:00", "won"),
        # 23.2: a reopening into "taken", a sale stage of the group, is no sale.
        _created("L1", "taken"),
        _move("L1", "2026-10-27 12:00", "lost"),
        _reopen("L1", "2026-10-28 12:00"),
        # 23.3: sold, then parked in an excluded stage: no sale any more.
        _created("S2", "new"),
        _move("S2", "2026-10-26 12:00", "won"),
        _move("S2", "2026-10-30 12:00", "parked"),
        # 23.5: created won, reopened into the open stage before won.
        _created("W1", "won"),
        _reopen("W1", "2026-10-29 12:00"),
    )
    (group,) = r.ws.groups
    activity = r.limits.activity(group, "ursula", NOW.astimezone(ZoneInfo("UTC")))
    assert activity.sales_last_month == 1
    assert activity.sales_in_window == 0
    # 23.5: W1 went to the last open stage before won, which is excluded.
    assert r.account.leads["W1"].stage == "sales/parked"
    # 23.4: L1 sits in "taken", a sale stage of the group but an open one: active.
    assert r.account.leads["L1"].stage == "sales/taken"
    assert activity.open_leads == 1


def test_a_member_without_own_limits_is_judged_by_the_groups_defaults() -> None:
    # Seed 000's default limits: ursula sets none, the group caps two a day.
    ws, problems = parse_workspace(
        WORKSPACE.replace(
            "    members:\n      - {user: ursula, limits: {days_without_sales: 14, "
            "min_sales_last_month: 1}}",
            "    default_limits: {max_new_today: 2, max_lost_today: 1}\n"
            "    members:\n      - {user: ursula, limits: {max_lost_today: 3}}",
        )
    )
    assert ws is not None, problems
    r = _Replay(ws, TOMSK, NOW, NOW, "")
    (group,) = ws.groups
    settings = r.limits.settings(group, "ursula")
    assert (settings.max_new_today, settings.max_lost_today) == (2, 3)
    assert "ursula" in r.limits.members  # her limits are tracked in the replay
    for lead in ("N1", "N2"):
        r.account.apply(
            parse_event({**_created(lead, "new"), "at": _at("2026-11-02 09:00")})
        )
    verdicts = {v.limit: v.passed for v in r.limits.verdicts(group, "ursula", NOW)}
    assert verdicts == {"max_new_today": False, "max_lost_today": True}
