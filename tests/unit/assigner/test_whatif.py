"""What-if replay over constructed histories whose answer is known by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from leadrouter.workspace import Workspace, parse_workspace
from services.assigner.whatif import ClaimPress, replay
from services.crm.history import CanonicalEvent, parse_event

MSK = ZoneInfo("Europe/Moscow")
START = datetime(2026, 11, 2, tzinfo=MSK)  # a Monday
END = datetime(2026, 11, 9, tzinfo=MSK)

BASE = """
account: {timezone: Europe/Moscow}
users:
  - {id: bot, technical: true}
  - {id: marina}
  - {id: pavel}
  - {id: ivan}
pipelines:
  - id: sales
    stages:
      - {id: new}
      - {id: taken}
      - {id: won, kind: won}
      - {id: lost, kind: lost}
groups:
  - id: g1
    source_stages: [sales/new]
    target_stage: sales/taken
    exchange_users: [bot]
    members:
      - {user: marina, limits: {max_lost_today: %(lost)s}}
      - {user: pavel}
schedules:
  - {user: marina, free: true}
  - {user: pavel, weekly: {mon: ["09:00-18:00"]}}
templates:
  - id: inbox
    participants: [{user: marina, weight: 1}, {user: pavel, weight: 2}]
    algorithm: %(algorithm)s
"""


def workspace(lost: int | str = "null", algorithm: str = "weighted") -> Workspace:
    ws, problems = parse_workspace(BASE % {"lost": lost, "algorithm": algorithm})
    assert ws is not None, problems
    return ws


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=MSK)


def event(**data: Any) -> CanonicalEvent:
    data["at"] = data["at"].isoformat()
    return parse_event(data)


def inbox_lead(lead: str, when: datetime) -> CanonicalEvent:
    return event(
        type="lead_created",
        at=when,
        lead=lead,
        pipeline="sales",
        stage="new",
        responsible="bot",
        channel="form",
    )


def own_lead(lead: str, user: str, when: datetime) -> CanonicalEvent:
    return event(
        type="lead_created",
        at=when,
        lead=lead,
        pipeline="sales",
        stage="taken",
        responsible=user,
    )


def test_weights_one_to_two_split_thirty_pushed_leads_ten_and_twenty() -> None:
    # Monday 10:00-10:29: both on duty; in reality ivan got every lead.
    history: list[CanonicalEvent] = []
    for i in range(30):
        history.append(inbox_lead(f"L{i}", at(2, 10, i)))
        history.append(
            event(type="responsible_changed", at=at(2, 10, i), lead=f"L{i}", to="ivan")
        )

    result = replay(workspace(), MSK, history, [], start=START, end=END)

    assert result.proposed == {"marina": 10, "pavel": 20}
    assert result.actual == {"ivan": 30}
    assert result.pushed_by_template == {"inbox": {"marina": 10, "pavel": 20}}
    assert result.max_deviation == {"inbox": 0.0}
    assert result.held_leads == 0


def test_tightening_max_lost_today_refuses_marina_on_the_days_she_lost() -> None:
    history = [
        own_lead("A", "marina", at(2, 9)),
        own_lead("B", "marina", at(2, 9)),
        event(type="stage_changed", at=at(3, 10), lead="A", to="lost"),
        event(type="stage_changed", at=at(5, 11), lead="B", to="lost"),
    ]
    presses = [
        ClaimPress(at(day, 12), user, "g1")
        for day in (3, 4, 5)
        for user in ("marina", "pavel")
    ]

    tight = replay(workspace(lost=0), MSK, history, presses, start=START, end=END)
    loose = replay(workspace(), MSK, history, presses, start=START, end=END)

    assert tight.claims == 6
    assert tight.refused == {"marina": {"max_lost_today": 2}}
    assert tight.refused_claims == 2
    assert loose.refused == {}


def test_a_lead_arriving_before_the_shift_is_held_until_someone_comes_on() -> None:
    ws = workspace()
    ws = ws.model_copy(
        update={"schedules": [s for s in ws.schedules if s.user == "pavel"]}
    )
    history = [inbox_lead("early", at(2, 8, 30))]

    result = replay(ws, MSK, history, [], start=START, end=END)

    assert result.proposed == {"pavel": 1}
    assert result.held_leads == 1
    assert result.held_minutes == 30


def test_the_same_inputs_give_the_same_result_with_the_random_algorithm() -> None:
    history = [inbox_lead(f"L{i}", at(2, 10) + timedelta(minutes=i)) for i in range(40)]
    ws = workspace(algorithm="random")

    first = replay(ws, MSK, history, [], start=START, end=END)
    second = replay(ws, MSK, list(history), [], start=START, end=END)

    assert first == second
    assert sum(first.proposed.values()) == 40
    assert first.actual == {"(unassigned)": 40}


def test_history_before_the_range_is_state_not_replayed() -> None:
    before = START.astimezone(UTC) - timedelta(days=1)
    history = [inbox_lead("old", before), inbox_lead("new", at(2, 10))]

    result = replay(workspace(), MSK, history, [], start=START, end=END)

    assert sum(result.proposed.values()) == 1
