"""Windows follow the wall clock across daylight saving changes."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from leadrouter.windows import parse_window
from services.scheduler.domain import (
    Schedule,
    is_working,
    local_to_utc,
    window_interval,
    working_intervals,
)

BERLIN = ZoneInfo("Europe/Berlin")
TOMSK = ZoneInfo("Asia/Tomsk")
SANTIAGO = ZoneInfo("America/Santiago")
# Berlin springs forward 02:00 -> 03:00 on 2026-03-29 and falls back
# 03:00 -> 02:00 on 2026-10-25, both at 01:00 UTC; both days are Sundays.
SPRING = date(2026, 3, 29)
AUTUMN = date(2026, 10, 25)
SUNDAY = 6


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def length(schedule: Schedule, tz: ZoneInfo, day: date) -> timedelta:
    """Working time around ``day``; the schedules here work one day a week."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    intervals = working_intervals(
        schedule, tz, start - timedelta(days=1), start + timedelta(days=2)
    )
    return sum((e - s for s, e in intervals), timedelta())


def sunday(window: str) -> Schedule:
    return Schedule(weekly={SUNDAY: (parse_window(window),)})


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2026, 3, 22), 6), (SPRING, 5), (AUTUMN, 7), (date(2026, 11, 1), 6)],
)
def test_midnight_to_six_lasts_what_the_wall_clock_says(day: date, hours: int) -> None:
    assert length(sunday("00:00-06:00"), BERLIN, day) == timedelta(hours=hours)


def test_spring_window_runs_from_local_midnight_to_local_six() -> None:
    start = datetime.combine(SPRING, datetime.min.time(), tzinfo=BERLIN)
    assert working_intervals(
        sunday("00:00-06:00"), BERLIN, start, start + timedelta(1)
    ) == [(utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 4, 0))]


def test_autumn_window_runs_from_local_midnight_to_local_six() -> None:
    start = datetime.combine(AUTUMN, datetime.min.time(), tzinfo=BERLIN)
    assert working_intervals(
        sunday("00:00-06:00"), BERLIN, start, start + timedelta(1)
    ) == [(utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 5, 0))]


def test_night_shift_into_the_spring_change_is_an_hour_shorter() -> None:
    saturday_night = Schedule(weekly={5: (parse_window("22:00-06:00"),)})
    assert length(saturday_night, BERLIN, date(2026, 3, 28)) == timedelta(hours=7)
    assert length(saturday_night, BERLIN, date(2026, 10, 24)) == timedelta(hours=9)


def test_start_in_the_spring_gap_moves_forward_to_the_first_valid_instant() -> None:
    # 02:30 does not exist that night; work starts when the clock shows 03:00.
    start, end = window_interval(parse_window("02:30-05:00"), SPRING, BERLIN)
    assert start == utc(2026, 3, 29, 1, 0)
    assert start.astimezone(BERLIN).strftime("%H:%M") == "03:00"
    assert end == utc(2026, 3, 29, 3, 0)


def test_window_wholly_inside_the_spring_gap_gives_no_working_time() -> None:
    schedule = sunday("02:00-02:45")
    assert length(schedule, BERLIN, SPRING) == timedelta(0)
    assert not is_working(schedule, BERLIN, utc(2026, 3, 29, 1, 0))
    assert length(schedule, BERLIN, date(2026, 3, 22)) == timedelta(minutes=45)


def test_ambiguous_autumn_times_take_their_first_occurrence() -> None:
    # 02:30 is shown twice (CEST at 00:30 UTC, then CET at 01:30 UTC).
    start, end = window_interval(parse_window("02:30-04:00"), AUTUMN, BERLIN)
    assert start == utc(2026, 10, 25, 0, 30)
    assert end == utc(2026, 10, 25, 3, 0)


def test_window_ending_in_the_repeated_hour_ends_at_its_first_occurrence() -> None:
    schedule = sunday("00:00-02:30")
    first_0215 = utc(2026, 10, 25, 0, 15)
    second_0215 = utc(2026, 10, 25, 1, 15)
    assert first_0215.astimezone(BERLIN).strftime("%H:%M") == "02:15"
    assert second_0215.astimezone(BERLIN).strftime("%H:%M") == "02:15"
    assert is_working(schedule, BERLIN, first_0215)
    assert not is_working(schedule, BERLIN, second_0215)


@pytest.mark.parametrize(
    ("wall", "expected"),
    [
        ("2026-03-29 01:59", utc(2026, 3, 29, 0, 59)),
        ("2026-03-29 02:00", utc(2026, 3, 29, 1, 0)),
        ("2026-03-29 02:59", utc(2026, 3, 29, 1, 0)),
        ("2026-03-29 03:00", utc(2026, 3, 29, 1, 0)),
        ("2026-10-25 02:00", utc(2026, 10, 25, 0, 0)),
        ("2026-10-25 02:59", utc(2026, 10, 25, 0, 59)),
        ("2026-10-25 03:00", utc(2026, 10, 25, 2, 0)),
    ],
)
def test_local_to_utc_moves_gaps_forward_and_takes_first_of_repeats(
    wall: str, expected: datetime
) -> None:
    assert local_to_utc(datetime.fromisoformat(wall), BERLIN) == expected


def test_missing_local_midnight_starts_the_day_at_the_first_valid_instant() -> None:
    # Santiago skips 00:00-00:59 on 2026-09-06 (clocks go from -04 to -03).
    start, end = window_interval(
        parse_window("00:00-06:00"), date(2026, 9, 6), SANTIAGO
    )
    assert start == utc(2026, 9, 6, 4, 0)
    assert start.astimezone(SANTIAGO).strftime("%H:%M") == "01:00"
    assert end - start == timedelta(hours=5)


def test_tomsk_has_no_daylight_saving_and_keeps_nine_hour_days() -> None:
    nine_to_six = parse_window("09:00-18:00")
    for day in (date(2026, 3, 30), date(2026, 10, 26), date(2026, 7, 1)):
        start, end = window_interval(nine_to_six, day, TOMSK)
        assert (start.hour, end.hour) == (2, 11)
        schedule = Schedule(weekly={day.weekday(): (nine_to_six,)})
        assert length(schedule, TOMSK, day) == timedelta(hours=9)
