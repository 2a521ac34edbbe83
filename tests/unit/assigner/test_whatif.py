"""What-if replay over constructed histories whose answer is known by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from leadrouter.simulate import comparison_csv, render_comparison
from leadrouter.workspace import Workspace, parse_workspace
from services.assigner.simulate import response
from services.assigner.whatif.inputs import ClaimPress
from services.assigner.whatif.replay import replay
from services.assigner.whatif.result import WhatIfResult
from services.assigner.whatif.tally import Held
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


def placed(result: WhatIfResult) -> dict[str, int]:
    """Inbox leads by their first placement under the proposal."""
    return result.proposed.placed


def refused(result: WhatIfResult) -> dict[str, dict[str, int]]:
    return result.proposed.refused


def text(result: WhatIfResult) -> str:
    return render_comparison(response(result))


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

    assert placed(result) == {"marina": 10, "pavel": 20}
    assert result.proposed.by_template == {"inbox": {"marina": 10, "pavel": 20}}
    assert [(t.id, t.max_deviation) for t in result.templates] == [("inbox", 0.0)]
    assert result.proposed.held.leads == 0


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

    assert tight.proposed.presses == 6
    assert refused(tight) == {"marina": {"max_lost_today": 2}}
    assert tight.proposed.refused_presses == 2
    assert refused(loose) == {}


def test_a_lead_arriving_before_the_shift_is_held_until_someone_comes_on() -> None:
    ws = workspace()
    ws = ws.model_copy(
        update={"schedules": [s for s in ws.schedules if s.user == "pavel"]}
    )
    history = [inbox_lead("early", at(2, 8, 30))]

    result = replay(ws, MSK, history, [], start=START, end=END)

    assert placed(result) == {"pavel": 1}
    assert result.proposed.held.leads == 1
    assert result.proposed.held.total_minutes == 30


def test_the_same_inputs_give_the_same_result_with_the_random_algorithm() -> None:
    history = [inbox_lead(f"L{i}", at(2, 10) + timedelta(minutes=i)) for i in range(40)]
    ws = workspace(algorithm="random")

    first = replay(ws, MSK, history, [], start=START, end=END)
    second = replay(ws, MSK, list(history), [], start=START, end=END)

    assert first == second
    assert sum(placed(first).values()) == 40
    assert first.actual is None  # no journal given: what happened is unknown


def test_history_before_the_range_is_state_not_replayed() -> None:
    before = START.astimezone(UTC) - timedelta(days=1)
    history = [inbox_lead("old", before), inbox_lead("new", at(2, 10))]

    result = replay(workspace(), MSK, history, [], start=START, end=END)

    assert sum(placed(result).values()) == 1


def test_max_lost_today_blocks_marina_from_each_loss_to_midnight() -> None:
    # Marina loses A on Tuesday 10:00 and B on Thursday 11:00; with
    # max_lost_today 0 each loss blocks her until that day ends, and
    # nothing else in the history blocks anybody.
    history = [
        own_lead("A", "marina", at(2, 9)),
        own_lead("B", "marina", at(2, 9)),
        event(type="stage_changed", at=at(3, 10), lead="A", to="lost"),
        event(type="stage_changed", at=at(5, 11), lead="B", to="lost"),
    ]
    presses = [
        ClaimPress(at(day, hour), "marina", "g1")
        for day in (3, 4, 5)
        for hour in (9, 12)
    ]

    tight = replay(workspace(lost=0), MSK, history, presses, start=START, end=END)
    loose = replay(workspace(), MSK, history, presses, start=START, end=END)

    assert tight.blocked == {
        "marina": {
            "max_lost_today": (
                (at(3, 10).astimezone(UTC), at(4, 0).astimezone(UTC)),
                (at(5, 11).astimezone(UTC), at(6, 0).astimezone(UTC)),
            )
        }
    }
    assert tight.blocked_hours == {"marina": {"max_lost_today": 27.0}}
    assert tight.blocked_days(MSK) == {
        "marina": {"max_lost_today": [date(2026, 11, 3), date(2026, 11, 5)]}
    }
    # The 12:00 presses of Tuesday and Thursday; the morning ones came first.
    assert refused(tight) == {"marina": {"max_lost_today": 2}}
    assert (tight.proposed.presses, tight.proposed.refused_presses) == (6, 2)
    assert loose.blocked == {} and refused(loose) == {}
    assert "marina: too many deals lost today 27 h" in text(tight)


def test_marina_on_two_two_shifts_holds_the_leads_of_her_days_off() -> None:
    # Alone on the template; her 2/2 cycle from Monday works Mon, Tue, Fri,
    # Sat. Wednesday 10:00's lead waits for Friday 09:00 (47 h), Thursday
    # 15:00's for the same opening (18 h); Monday's is hers at once.
    ws, problems = parse_workspace(
        BASE.replace(
            "{user: marina, free: true}",
            "{user: marina, cycle: {on: 2, off: 2, anchor: 2026-11-02,"
            ' window: "09:00-18:00"}}',
        ).replace(
            "[{user: marina, weight: 1}, {user: pavel, weight: 2}]", "[{user: marina}]"
        )
        % {"lost": "null", "algorithm": "round_robin"}
    )
    assert ws is not None, problems
    history = [
        inbox_lead("mon", at(2, 10)),
        inbox_lead("wed", at(4, 10)),
        inbox_lead("thu", at(5, 15)),
    ]

    result = replay(ws, MSK, history, [], start=START, end=END)

    assert placed(result) == {"marina": 3}
    assert result.proposed.held == Held(
        leads=2, total_minutes=(47 + 18) * 60, max_minutes=47 * 60
    )
    assert result.proposed.first["wed"] == "marina"
    assert "proposed 2 lead(s), 3900 min in all, longest 2820 min" in text(result)


def test_an_untouched_lead_goes_to_the_next_participant_after_the_sla() -> None:
    ws, problems = parse_workspace(
        (BASE % {"lost": "null", "algorithm": "round_robin"}).replace(
            "    algorithm: round_robin",
            "    algorithm: round_robin\n    reassign_after_minutes: 30",
        )
    )
    assert ws is not None, problems
    # Monday: "a" goes to marina first and sits; "b" goes to pavel, who moves
    # it on at 10:10, so only "a" is sent on: to pavel at 10:30, and, as
    # everyone on duty has let it sit, back to marina at 11:00 and to pavel
    # at 11:30; 12:00 is past the range.
    history = [
        inbox_lead("a", at(2, 10)),
        inbox_lead("b", at(2, 10, 5)),
        event(type="stage_changed", at=at(2, 10, 10), lead="b", to="taken"),
    ]

    result = replay(ws, MSK, history, [], start=START, end=at(2, 12))

    assert result.proposed.first == {"a": "marina", "b": "pavel"}
    assert result.proposed.sla == {"marina": 1, "pavel": 2}  # who received them
    assert result.proposed.handovers == {}
    assert placed(result) == {"marina": 1, "pavel": 1}  # first pushes


def test_shift_end_hands_over_the_untouched_leads_of_who_goes_off() -> None:
    # Pavel (Mon 09-18) gets "a" and "b" leads by weight 2 and never touches
    # them; at 18:00 they go to marina, who is always on.
    history = [inbox_lead(f"L{i}", at(2, 10, i)) for i in range(3)]

    result = replay(workspace(), MSK, history, [], start=START, end=END)

    assert placed(result) == {"marina": 1, "pavel": 2}
    assert result.proposed.handovers == {"marina": 2}


def test_the_same_inputs_give_the_same_full_comparison() -> None:
    history: list[CanonicalEvent] = [
        inbox_lead(f"L{i}", at(2 + i % 5, 8 + i % 12, i % 60)) for i in range(60)
    ]
    history += [own_lead("A", "marina", at(2, 9))]
    history += [event(type="stage_changed", at=at(4, 13), lead="A", to="lost")]
    history.sort(key=lambda e: e.at)
    presses = [ClaimPress(at(day, 14), "marina", "g1") for day in range(2, 7)]
    ws = workspace(lost=0, algorithm="random")

    runs = [
        replay(ws, MSK, list(history), list(presses), start=START, end=END)
        for _ in range(3)
    ]

    assert runs[0] == runs[1] == runs[2]
    assert comparison_csv(response(runs[0])) == comparison_csv(response(runs[2]))
    assert len(set(placed(runs[0])) - {"(held)"}) == 2  # both drawn
    assert runs[0].blocked_hours == {"marina": {"max_lost_today": 11.0}}
