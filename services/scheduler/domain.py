"""Schedule algebra: when a user works, as pure functions over plain data."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from leadrouter.windows import MINUTES_PER_DAY, WHOLE_DAY, Window

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Cycle:
    """``on_days`` working days then ``off_days`` free days, counted from anchor."""

    on_days: int
    off_days: int
    anchor: date
    window: Window | None = None  # None = the whole day

    def __post_init__(self) -> None:
        if self.on_days < 1:
            raise ValueError(f"cycle on_days must be at least 1, got {self.on_days}")
        if self.off_days < 0:
            raise ValueError(
                f"cycle off_days must not be negative, got {self.off_days}"
            )

    def works_on(self, day: date) -> bool:
        # Python's modulo is non-negative for a positive divisor, so dates
        # before the anchor continue the same rhythm backwards.
        return (day - self.anchor).days % (self.on_days + self.off_days) < self.on_days


@dataclass(frozen=True)
class DatedWindow:
    """An extra working date, with a window or (None) the whole day."""

    day: date
    window: Window | None = None


@dataclass(frozen=True)
class DateRange:
    """Inclusive range of local dates off work (vacation, sick_leave, day_off...)."""

    first: date
    last: date
    reason: str

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(
                f"{self.reason or 'exception'} from {self.first} to {self.last}: "
                "the range ends before it starts"
            )

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last


@dataclass(frozen=True)
class Schedule:
    """A user's working time: weekly, cycle, free and dates, minus exceptions."""

    weekly: dict[int, tuple[Window, ...]] = field(default_factory=dict)  # 0 = Monday
    cycle: Cycle | None = None
    free: bool = False
    dates: tuple[DatedWindow, ...] = ()
    exceptions: tuple[DateRange, ...] = ()

    def __post_init__(self) -> None:
        bad = sorted(day for day in self.weekly if not 0 <= day <= 6)
        if bad:
            raise ValueError(f"weekly days must be 0 (Monday) .. 6 (Sunday), got {bad}")


def local_to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """Map a naive wall-clock time in tz to a UTC instant.

    The wall clock rules, so a time the clock skips (spring-forward gap)
    maps forward to the first instant that exists after it, i.e. the
    transition itself, and a time the clock shows twice (fall-back) maps to
    its first occurrence (fold=0). Both choices keep the mapping monotonic,
    which is what lets ``is_working`` look at two local days only.
    """
    utc = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) == local:
        return utc
    # In a gap fold=1 applies the offset after the transition (an instant
    # before it) and fold=0 the offset before (an instant after it); the
    # transition is the first whole second in between whose wall clock has
    # passed the requested time.
    lo = int(local.replace(tzinfo=tz, fold=1).timestamp())
    hi = int(utc.timestamp()) + 1
    while lo < hi:
        mid = (lo + hi) // 2
        wall = datetime.fromtimestamp(mid, tz).replace(tzinfo=None)
        if wall > local:
            hi = mid
        else:
            lo = mid + 1
    return datetime.fromtimestamp(lo, UTC)


def window_interval(window: Window, day: date, tz: ZoneInfo) -> Interval:
    """The UTC instants a window occupies when it starts on local ``day``.

    The result may be empty (start == end) when the whole window falls in a
    spring-forward gap.
    """
    midnight = datetime.combine(day, time())
    end_minutes = window.end + (MINUTES_PER_DAY if window.crosses_midnight else 0)
    # Adding minutes to a naive datetime moves the wall clock, not real time,
    # so a window keeps its wall-clock bounds across a DST change.
    start = local_to_utc(midnight + timedelta(minutes=window.start), tz)
    end = local_to_utc(midnight + timedelta(minutes=end_minutes), tz)
    return start, end


def windows_on(schedule: Schedule, day: date) -> tuple[Window, ...]:
    """Every window of the schedule that starts on local ``day``.

    An exception date removes the windows that START on it, including the
    after-midnight tail of a window crossing into the next day; the tail of
    a window started the day before an exception stays. An exception is a
    day off, and a shift belongs to the day it starts.
    """
    if any(day in off for off in schedule.exceptions):
        return ()
    if schedule.free:
        return (WHOLE_DAY,)
    windows = list(schedule.weekly.get(day.weekday(), ()))
    cycle = schedule.cycle
    if cycle is not None and cycle.works_on(day):
        windows.append(cycle.window or WHOLE_DAY)
    windows.extend(
        extra.window or WHOLE_DAY for extra in schedule.dates if extra.day == day
    )
    return tuple(windows)


def working_intervals(
    schedule: Schedule, tz: ZoneInfo, start: datetime, end: datetime
) -> list[Interval]:
    """Sorted, merged, non-empty UTC intervals of work, clipped to [start, end)."""
    _require_aware(start, end)
    if start >= end:
        return []
    first_day = start.astimezone(tz).date() - timedelta(days=1)
    last_day = end.astimezone(tz).date()
    return _merge(
        (max(s, start), min(e, end))
        for s, e in _occurrences(schedule, tz, _days(first_day, last_day))
        if s < end and e > start
    )


def is_working(schedule: Schedule, tz: ZoneInfo, at: datetime) -> bool:
    """Whether ``at`` lies in the schedule's working time."""
    _require_aware(at)
    today = at.astimezone(tz).date()
    # Wall clock -> instant is monotonic (see local_to_utc), so only a window
    # starting today or a crossing window started yesterday can cover `at`.
    days = (today - timedelta(days=1), today)
    return any(s <= at < e for s, e in _occurrences(schedule, tz, days))


def next_change(
    schedule: Schedule, tz: ZoneInfo, at: datetime, horizon: timedelta
) -> datetime | None:
    """The first instant in (at, at + horizon] where ``is_working`` flips, if any."""
    _require_aware(at)
    if horizon <= timedelta(0):
        return None
    limit = at + horizon
    working = is_working(schedule, tz, at)
    intervals = working_intervals(schedule, tz, at, limit)
    if working:
        end = intervals[0][1]
        if end < limit:
            return end
    elif intervals:
        return intervals[0][0]
    # Intervals are clipped at the limit, so the limit itself needs a look.
    return limit if is_working(schedule, tz, limit) != working else None


def _occurrences(
    schedule: Schedule, tz: ZoneInfo, days: Iterable[date]
) -> Iterator[Interval]:
    for day in days:
        for window in windows_on(schedule, day):
            yield window_interval(window, day, tz)


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for s, e in sorted(iv for iv in intervals if iv[0] < iv[1]):
        s, e = s.astimezone(UTC), e.astimezone(UTC)
        if merged and s <= merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def _require_aware(*instants: datetime) -> None:
    for instant in instants:
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError(f"instant {instant.isoformat()} has no timezone")
