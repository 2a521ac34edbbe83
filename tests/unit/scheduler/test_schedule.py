"""Working time of weekly, cycle, free and dated schedules, minus exceptions."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from leadrouter.windows import parse_window
from services.scheduler.domain import (
    Cycle,
    DatedWindow,
    DateRange,
    Schedule,
    is_working,
    next_change,
    working_intervals,
)

TOMSK = ZoneInfo("Asia/Tomsk")  # UTC+7 all year
NINE_TO_SIX = parse_window("09:00-18:00")
FIVE_TWO = Schedule(weekly={day: (NINE_TO_SIX,) for day in range(5)})
# 2026-11-02 is a Monday.
MONDAY = date(2026, 11, 2)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TOMSK)


def as_local(intervals: list[tuple[datetime, datetime]]) -> list[tuple[str, str]]:
    return [
        (
            s.astimezone(TOMSK).strftime("%a %Y-%m-%d %H:%M"),
            e.astimezone(TOMSK).strftime("%a %Y-%m-%d %H:%M"),
        )
        for s, e in intervals
    ]


def working_days(schedule: Schedule, first: date, last: date) -> list[date]:
    """Local dates on which the user works at noon."""
    days = []
    day = first
    while day <= last:
        if is_working(schedule, TOMSK, local(f"{day.isoformat()} 12:00")):
            days.append(day)
        day += timedelta(days=1)
    return days


def test_five_two_works_monday_to_friday_nine_to_six() -> None:
    week = working_intervals(
        FIVE_TWO, TOMSK, local("2026-11-02 00:00"), local("2026-11-09 00:00")
    )
    assert as_local(week) == [
        (f"{name} 2026-11-{day:02d} 09:00", f"{name} 2026-11-{day:02d} 18:00")
        for name, day in [("Mon", 2), ("Tue", 3), ("Wed", 4), ("Thu", 5), ("Fri", 6)]
    ]


def test_intervals_are_utc_instants() -> None:
    first = working_intervals(
        FIVE_TWO, TOMSK, local("2026-11-02 00:00"), local("2026-11-03 00:00")
    )
    assert first == [
        (
            datetime(2026, 11, 2, 2, 0, tzinfo=UTC),
            datetime(2026, 11, 2, 11, 0, tzinfo=UTC),
        )
    ]
    assert first[0][0].tzinfo is UTC


def test_intervals_are_clipped_to_the_range() -> None:
    clipped = working_intervals(
        FIVE_TWO, TOMSK, local("2026-11-02 12:00"), local("2026-11-03 10:30")
    )
    assert as_local(clipped) == [
        ("Mon 2026-11-02 12:00", "Mon 2026-11-02 18:00"),
        ("Tue 2026-11-03 09:00", "Tue 2026-11-03 10:30"),
    ]


def test_empty_or_reversed_range_has_no_working_time() -> None:
    at = local("2026-11-02 12:00")
    assert working_intervals(FIVE_TWO, TOMSK, at, at) == []
    assert working_intervals(FIVE_TWO, TOMSK, at, at - timedelta(hours=1)) == []


@pytest.mark.parametrize(
    ("at", "working"),
    [
        ("2026-11-02 08:59", False),
        ("2026-11-02 09:00", True),
        ("2026-11-02 17:59", True),
        ("2026-11-02 18:00", False),
        ("2026-11-06 12:00", True),
        ("2026-11-07 12:00", False),
        ("2026-11-08 12:00", False),
    ],
)
def test_five_two_window_starts_inclusive_and_ends_exclusive(
    at: str, working: bool
) -> None:
    assert is_working(FIVE_TWO, TOMSK, local(at)) is working


def test_overlapping_and_adjacent_windows_merge_into_one_interval() -> None:
    schedule = Schedule(
        weekly={
            0: (parse_window("09:00-13:00"), parse_window("12:00-18:00")),
            1: (parse_window("18:00-24:00"),),
            2: (parse_window("00:00-06:00"),),
        }
    )
    week = working_intervals(
        schedule, TOMSK, local("2026-11-02 00:00"), local("2026-11-09 00:00")
    )
    assert as_local(week) == [
        ("Mon 2026-11-02 09:00", "Mon 2026-11-02 18:00"),
        ("Tue 2026-11-03 18:00", "Wed 2026-11-04 06:00"),
    ]


def test_split_shift_leaves_the_break_out() -> None:
    schedule = Schedule(
        weekly={0: (parse_window("09:00-13:00"), parse_window("14:00-18:00"))}
    )
    assert is_working(schedule, TOMSK, local("2026-11-02 12:59"))
    assert not is_working(schedule, TOMSK, local("2026-11-02 13:30"))
    assert is_working(schedule, TOMSK, local("2026-11-02 14:00"))


def test_crossing_window_belongs_to_the_day_it_starts() -> None:
    friday_night = Schedule(weekly={4: (parse_window("22:00-06:00"),)})
    assert is_working(friday_night, TOMSK, local("2026-11-06 22:00"))
    assert is_working(friday_night, TOMSK, local("2026-11-07 05:59"))
    assert not is_working(friday_night, TOMSK, local("2026-11-07 06:00"))
    # Friday's rule says nothing about the night into Friday.
    assert not is_working(friday_night, TOMSK, local("2026-11-06 03:00"))
    assert as_local(
        working_intervals(
            friday_night, TOMSK, local("2026-11-02 00:00"), local("2026-11-09 00:00")
        )
    ) == [("Fri 2026-11-06 22:00", "Sat 2026-11-07 06:00")]


def test_crossing_window_is_seen_from_a_range_starting_after_midnight() -> None:
    friday_night = Schedule(weekly={4: (parse_window("22:00-06:00"),)})
    tail = working_intervals(
        friday_night, TOMSK, local("2026-11-07 00:00"), local("2026-11-08 00:00")
    )
    assert as_local(tail) == [("Sat 2026-11-07 00:00", "Sat 2026-11-07 06:00")]


@pytest.mark.parametrize(
    ("on", "off", "expected"),
    [
        (2, 2, "10-29 10-30 11-02 11-03 11-06 11-07 11-10"),
        (1, 3, "10-29 11-02 11-06 11-10"),
        (1, 1, "10-27 10-29 10-31 11-02 11-04 11-06 11-08 11-10"),
        (3, 3, "10-27 10-28 10-29 11-02 11-03 11-04 11-08 11-09 11-10"),
    ],
)
def test_cycle_repeats_on_and_off_days_from_the_anchor_both_ways(
    on: int, off: int, expected: str
) -> None:
    schedule = Schedule(cycle=Cycle(on_days=on, off_days=off, anchor=MONDAY))
    days = working_days(schedule, date(2026, 10, 27), date(2026, 11, 10))
    assert [day.strftime("%m-%d") for day in days] == expected.split()


def test_cycle_anchor_day_is_a_working_day() -> None:
    cycle = Cycle(on_days=2, off_days=2, anchor=MONDAY)
    assert cycle.works_on(MONDAY)
    assert not cycle.works_on(MONDAY - timedelta(days=1))


def test_cycle_keeps_its_rhythm_years_before_the_anchor() -> None:
    cycle = Cycle(on_days=2, off_days=2, anchor=MONDAY)
    long_before = MONDAY - timedelta(days=4 * 1000)
    assert cycle.works_on(long_before)
    assert cycle.works_on(long_before + timedelta(days=1))
    assert not cycle.works_on(long_before + timedelta(days=2))
    assert not cycle.works_on(long_before - timedelta(days=1))


def test_cycle_window_limits_the_hours_of_working_days() -> None:
    schedule = Schedule(
        cycle=Cycle(
            on_days=2, off_days=2, anchor=MONDAY, window=parse_window("09:00-21:00")
        )
    )
    days = working_intervals(
        schedule, TOMSK, local("2026-11-01 00:00"), local("2026-11-07 00:00")
    )
    assert as_local(days) == [
        ("Mon 2026-11-02 09:00", "Mon 2026-11-02 21:00"),
        ("Tue 2026-11-03 09:00", "Tue 2026-11-03 21:00"),
        ("Fri 2026-11-06 09:00", "Fri 2026-11-06 21:00"),
    ]


def test_cycle_without_a_window_works_whole_days_back_to_back() -> None:
    schedule = Schedule(cycle=Cycle(on_days=2, off_days=2, anchor=MONDAY))
    days = working_intervals(
        schedule, TOMSK, local("2026-11-01 00:00"), local("2026-11-05 00:00")
    )
    assert as_local(days) == [("Mon 2026-11-02 00:00", "Wed 2026-11-04 00:00")]


def test_cycle_and_weekly_add_up() -> None:
    schedule = Schedule(
        weekly={5: (parse_window("10:00-14:00"),)},
        cycle=Cycle(on_days=1, off_days=3, anchor=MONDAY),
    )
    assert working_days(schedule, MONDAY, date(2026, 11, 8)) == [
        MONDAY,
        date(2026, 11, 6),
        date(2026, 11, 7),
    ]


def test_free_schedule_works_the_whole_range() -> None:
    start, end = local("2026-11-02 03:17"), local("2026-11-20 11:00")
    assert working_intervals(Schedule(free=True), TOMSK, start, end) == [
        (start.astimezone(UTC), end.astimezone(UTC))
    ]


def test_free_schedule_still_takes_exceptions() -> None:
    schedule = Schedule(
        free=True,
        exceptions=(DateRange(date(2026, 11, 4), date(2026, 11, 5), "sick_leave"),),
    )
    assert as_local(
        working_intervals(
            schedule, TOMSK, local("2026-11-02 00:00"), local("2026-11-08 00:00")
        )
    ) == [
        ("Mon 2026-11-02 00:00", "Wed 2026-11-04 00:00"),
        ("Fri 2026-11-06 00:00", "Sun 2026-11-08 00:00"),
    ]


def test_extra_dates_add_working_time() -> None:
    schedule = Schedule(
        weekly=FIVE_TWO.weekly,
        dates=(
            DatedWindow(date(2026, 11, 7), parse_window("10:00-14:00")),
            DatedWindow(date(2026, 11, 8)),
        ),
    )
    weekend = working_intervals(
        schedule, TOMSK, local("2026-11-07 00:00"), local("2026-11-09 00:00")
    )
    assert as_local(weekend) == [
        ("Sat 2026-11-07 10:00", "Sat 2026-11-07 14:00"),
        ("Sun 2026-11-08 00:00", "Mon 2026-11-09 00:00"),
    ]


def test_extra_date_extends_a_weekly_day() -> None:
    schedule = Schedule(
        weekly=FIVE_TWO.weekly,
        dates=(DatedWindow(MONDAY, parse_window("17:00-20:00")),),
    )
    assert is_working(schedule, TOMSK, local("2026-11-02 19:30"))
    assert not is_working(schedule, TOMSK, local("2026-11-03 19:30"))


def test_vacation_removes_every_day_of_its_inclusive_range() -> None:
    schedule = Schedule(
        weekly=FIVE_TWO.weekly,
        exceptions=(DateRange(date(2026, 12, 1), date(2026, 12, 14), "vacation"),),
    )
    days = working_days(schedule, date(2026, 11, 27), date(2026, 12, 18))
    assert days == [
        date(2026, 11, 27),
        date(2026, 11, 30),
        date(2026, 12, 15),
        date(2026, 12, 16),
        date(2026, 12, 17),
        date(2026, 12, 18),
    ]


def test_exception_removes_cycle_and_extra_dates_too() -> None:
    day_off = DateRange(MONDAY, MONDAY, "day_off")
    schedule = Schedule(
        cycle=Cycle(on_days=1, off_days=1, anchor=MONDAY),
        dates=(DatedWindow(MONDAY),),
        exceptions=(day_off,),
    )
    assert not is_working(schedule, TOMSK, local("2026-11-02 12:00"))
    assert is_working(schedule, TOMSK, local("2026-11-04 12:00"))


# Rule under test: an exception date removes the windows that START on it,
# including the after-midnight tail of a crossing window started that day,
# while the tail of the previous evening's shift survives.
NIGHTS = Schedule(
    weekly={day: (parse_window("22:00-06:00"),) for day in range(7)},
    exceptions=(DateRange(date(2026, 11, 4), date(2026, 11, 4), "day_off"),),
)


@pytest.mark.parametrize(
    ("at", "working"),
    [
        ("2026-11-04 03:00", True),  # tail of Tuesday's shift: Tuesday is worked
        ("2026-11-04 05:59", True),
        ("2026-11-04 22:00", False),  # Wednesday's shift is off
        ("2026-11-05 03:00", False),  # ...and so is its tail on Thursday
        ("2026-11-05 22:00", True),
    ],
)
def test_exception_removes_the_tail_of_a_shift_started_that_day(
    at: str, working: bool
) -> None:
    assert is_working(NIGHTS, TOMSK, local(at)) is working


def test_exception_tail_rule_in_intervals() -> None:
    nights = working_intervals(
        NIGHTS, TOMSK, local("2026-11-03 12:00"), local("2026-11-06 12:00")
    )
    assert as_local(nights) == [
        ("Tue 2026-11-03 22:00", "Wed 2026-11-04 06:00"),
        ("Thu 2026-11-05 22:00", "Fri 2026-11-06 06:00"),
    ]


@pytest.mark.parametrize(
    ("at", "change"),
    [
        ("2026-11-02 10:00", "2026-11-02 18:00"),
        ("2026-11-02 09:00", "2026-11-02 18:00"),
        ("2026-11-02 18:00", "2026-11-03 09:00"),
        ("2026-11-02 07:00", "2026-11-02 09:00"),
        ("2026-11-06 18:30", "2026-11-09 09:00"),
    ],
)
def test_next_change_is_the_next_flip_of_working_state(at: str, change: str) -> None:
    found = next_change(FIVE_TWO, TOMSK, local(at), timedelta(days=7))
    assert found == local(change)


def test_next_change_is_none_beyond_the_horizon() -> None:
    friday_evening = local("2026-11-06 18:30")
    assert next_change(FIVE_TWO, TOMSK, friday_evening, timedelta(days=2)) is None


def test_next_change_finds_a_flip_exactly_at_the_horizon() -> None:
    at = local("2026-11-02 10:00")
    assert next_change(FIVE_TWO, TOMSK, at, timedelta(hours=8)) == local(
        "2026-11-02 18:00"
    )
    assert next_change(FIVE_TWO, TOMSK, at, timedelta(hours=7, minutes=59)) is None


def test_next_change_of_free_schedule_is_its_next_exception() -> None:
    at = local("2026-11-02 10:00")
    assert next_change(Schedule(free=True), TOMSK, at, timedelta(days=60)) is None
    on_leave = Schedule(
        free=True,
        exceptions=(DateRange(date(2026, 11, 10), date(2026, 11, 12), "vacation"),),
    )
    assert next_change(on_leave, TOMSK, at, timedelta(days=60)) == local(
        "2026-11-10 00:00"
    )


def test_next_change_with_no_horizon_is_none() -> None:
    assert next_change(FIVE_TWO, TOMSK, local("2026-11-02 10:00"), timedelta(0)) is None


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="has no timezone"):
        is_working(FIVE_TWO, TOMSK, datetime(2026, 11, 2, 10, 0))
    with pytest.raises(ValueError, match="has no timezone"):
        working_intervals(
            FIVE_TWO, TOMSK, datetime(2026, 11, 2), local("2026-11-03 00:00")
        )


def test_schedule_rejects_weekday_outside_monday_to_sunday() -> None:
    with pytest.raises(ValueError, match=r"got \[7\]"):
        Schedule(weekly={7: (NINE_TO_SIX,)})


def test_exception_ending_before_it_starts_is_rejected() -> None:
    with pytest.raises(ValueError, match="vacation from 2026-12-14 to 2026-12-01"):
        DateRange(date(2026, 12, 14), date(2026, 12, 1), "vacation")


@pytest.mark.parametrize(("on", "off"), [(0, 2), (2, -1)])
def test_cycle_needs_a_working_day_and_no_negative_rest(on: int, off: int) -> None:
    with pytest.raises(ValueError, match="cycle"):
        Cycle(on_days=on, off_days=off, anchor=MONDAY)
