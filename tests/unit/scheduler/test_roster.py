"""Duty from schedule and presence: working, online, and on duty at an instant."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from leadrouter.windows import parse_window
from services.scheduler.domain import Schedule
from services.scheduler.store import Duty, Roster

TOMSK = ZoneInfo("Asia/Tomsk")
NINE_TO_SIX = Schedule(weekly={d: (parse_window("09:00-18:00"),) for d in range(5)})


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TOMSK)


def roster(
    schedule: Schedule, *, follows: bool, said: tuple[bool, str] | None
) -> Roster:
    r = Roster(tz=TOMSK, schedules={"u": schedule})
    if follows:
        r.follows.add("u")
    if said is not None:
        r.presence["u"] = (said[0], local(said[1]))
    return r


def duty(r: Roster, at: str) -> tuple[bool, bool, bool]:
    d: Duty = r.duty("u", local(at))
    return d.working, d.online, d.on_duty


def test_following_the_schedule_is_online_exactly_during_shifts() -> None:
    r = roster(NINE_TO_SIX, follows=True, said=None)
    assert duty(r, "2026-11-02 08:59") == (False, False, False)
    assert duty(r, "2026-11-02 09:00") == (True, True, True)
    assert duty(r, "2026-11-07 12:00") == (False, False, False)  # Saturday


def test_going_offline_holds_until_the_next_shift_change() -> None:
    r = roster(NINE_TO_SIX, follows=True, said=(False, "2026-11-02 10:00"))
    assert duty(r, "2026-11-02 09:30") == (True, True, True)  # before the change
    assert duty(r, "2026-11-02 17:59") == (True, False, False)
    assert duty(r, "2026-11-03 09:00") == (True, True, True)


def test_a_manual_change_holds_through_a_long_shift_without_changes() -> None:
    always = Schedule(free=True)
    r = roster(always, follows=True, said=(False, "2026-11-02 10:00"))
    later = local("2026-11-02 10:00") + timedelta(days=30)
    d = r.duty("u", later)
    assert (d.working, d.online) == (True, False)


def test_presence_set_by_hand_ignores_the_schedule() -> None:
    r = roster(NINE_TO_SIX, follows=False, said=(True, "2026-11-02 10:00"))
    assert duty(r, "2026-11-02 12:00") == (True, True, True)
    assert duty(r, "2026-11-02 20:00") == (False, True, False)
    assert duty(roster(NINE_TO_SIX, follows=False, said=None), "2026-11-02 12:00") == (
        True,
        False,
        False,
    )
