"""Properties of the schedule algebra over random schedules and instants."""

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from leadrouter.windows import Window
from services.scheduler.domain import (
    Cycle,
    DatedWindow,
    DateRange,
    Schedule,
    is_working,
    next_change,
    working_intervals,
)

Interval = tuple[datetime, datetime]

ZONES = [
    "UTC",
    "Asia/Tomsk",
    "Europe/Berlin",
    "America/New_York",
    "America/Santiago",  # skips and repeats local midnight
    "Australia/Lord_Howe",  # half-hour DST
    "Asia/Kathmandu",  # +05:45
]
# Days of 2026 on which one of the zones above changes its clock, so that
# examples land on the awkward days far more often than by chance.
TRANSITION_DAYS = [
    date(2026, 3, 8),
    date(2026, 3, 29),
    date(2026, 4, 5),
    date(2026, 9, 6),
    date(2026, 10, 4),
    date(2026, 10, 25),
    date(2026, 11, 1),
]

zones = st.sampled_from(ZONES).map(ZoneInfo)
windows = (
    st.tuples(st.integers(0, 1439), st.integers(0, 1440))
    .filter(lambda bounds: bounds[0] != bounds[1])
    .map(lambda bounds: Window(*bounds))
)
# Minute-aligned clock times hit interval bounds exactly; a few odd seconds
# check everything between.
round_minutes = st.integers(0, 1439).map(lambda m: timedelta(minutes=m))
any_second = st.integers(0, 86399).map(lambda s: timedelta(seconds=s))


@st.composite
def cases(draw: st.DrawFn) -> tuple[Schedule, ZoneInfo, datetime]:
    """A schedule, a zone and an instant, with dates clustered near the instant."""
    base = draw(
        st.sampled_from(TRANSITION_DAYS)
        | st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))
    )
    near = st.integers(-4, 4).map(lambda n: base + timedelta(days=n))
    weekly = draw(
        st.dictionaries(
            st.integers(0, 6), st.lists(windows, max_size=3).map(tuple), max_size=7
        )
    )
    cycle = draw(
        st.none()
        | st.builds(
            Cycle,
            on_days=st.integers(1, 4),
            off_days=st.integers(0, 4),
            anchor=st.integers(-60, 60).map(lambda n: base + timedelta(days=n)),
            window=st.none() | windows,
        )
    )
    dates = draw(
        st.lists(
            st.builds(DatedWindow, day=near, window=st.none() | windows), max_size=4
        )
    )
    exceptions = draw(
        st.lists(
            st.tuples(
                near, st.integers(0, 3), st.sampled_from(["vacation", "day_off"])
            ),
            max_size=3,
        )
    )
    schedule = Schedule(
        weekly=weekly,
        cycle=cycle,
        free=draw(st.sampled_from([False, False, False, True])),
        dates=tuple(dates),
        exceptions=tuple(
            DateRange(first, first + timedelta(days=span), reason)
            for first, span, reason in exceptions
        ),
    )
    day = base + timedelta(days=draw(st.integers(-2, 2)))
    clock = draw(round_minutes | any_second)
    at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + clock
    return schedule, draw(zones), at


spans = st.integers(0, 3 * 1440).map(lambda m: timedelta(minutes=m))


def assert_well_formed(
    intervals: list[Interval], start: datetime, end: datetime
) -> None:
    for s, e in intervals:
        assert s.tzinfo is UTC and e.tzinfo is UTC
        assert start <= s < e <= end
    for (_, end_before), (start_after, _) in pairwise(intervals):
        # Touching intervals would have been merged.
        assert end_before < start_after


@settings(max_examples=400, deadline=None)
@given(cases(), spans, spans)
def test_is_working_agrees_with_working_intervals(
    case: tuple[Schedule, ZoneInfo, datetime], before: timedelta, after: timedelta
) -> None:
    schedule, tz, at = case
    start, end = at - before, at + after + timedelta(minutes=1)
    intervals = working_intervals(schedule, tz, start, end)
    assert_well_formed(intervals, start, end)
    inside = any(s <= at < e for s, e in intervals)
    assert is_working(schedule, tz, at) is inside


@settings(max_examples=200, deadline=None)
@given(cases(), spans, spans)
def test_splitting_the_range_does_not_change_the_working_time(
    case: tuple[Schedule, ZoneInfo, datetime], before: timedelta, after: timedelta
) -> None:
    schedule, tz, middle = case
    start, end = middle - before, middle + after
    whole = working_intervals(schedule, tz, start, end)
    halves = working_intervals(schedule, tz, start, middle) + working_intervals(
        schedule, tz, middle, end
    )
    joined: list[Interval] = []
    for s, e in halves:
        if joined and joined[-1][1] == s:
            joined[-1] = (joined[-1][0], e)
        else:
            joined.append((s, e))
    assert joined == whole


@settings(max_examples=200, deadline=None)
@given(cases(), st.integers(1, 4 * 1440).map(lambda m: timedelta(minutes=m)))
def test_next_change_is_the_first_flip_within_the_horizon(
    case: tuple[Schedule, ZoneInfo, datetime], horizon: timedelta
) -> None:
    schedule, tz, at = case
    working = is_working(schedule, tz, at)
    change = next_change(schedule, tz, at, horizon)
    limit = change if change is not None else at + horizon
    # Nothing flips before the change (or, without one, up to the horizon).
    steady = working_intervals(schedule, tz, at, limit)
    assert steady == ([(at, limit)] if working else [])
    if change is None:
        assert is_working(schedule, tz, at + horizon) is working
    else:
        assert at < change <= at + horizon
        assert is_working(schedule, tz, change) is not working
