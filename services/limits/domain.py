"""The ten pull limits of domain.md section 4 as pure functions over measured data."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from leadrouter.limit_rules import BY_NAME, effective_limits, out_of_range


@dataclass(frozen=True)
class LimitSettings:
    """One member's configured limit values; None means that limit is off."""

    interval_minutes: int | None = None
    max_active: int | None = None
    max_new_today: int | None = None
    max_overdue_tasks: int | None = None
    max_overdue_days: int | None = None
    days_without_sales: int | None = None
    max_lost_today: int | None = None
    max_lost_month: int | None = None
    min_sales_last_month: int | None = None
    min_key_stage_last_week: int | None = None

    def __post_init__(self) -> None:
        # Refuse bad values here so that evaluate() never has to guess what a
        # negative or fractional threshold means.
        for name in LIMIT_NAMES:
            problem = validate_limit_value(name, getattr(self, name))
            if problem is not None:
                raise ValueError(f"{name} {problem}")

    def enabled(self) -> list[tuple[str, int]]:
        """(name, N) for each limit that is on, in LIMIT_NAMES order."""
        values = [(name, getattr(self, name)) for name in LIMIT_NAMES]
        return [(name, value) for name, value in values if value is not None]


@dataclass(frozen=True)
class Calendar:
    """Calendar boundaries of the account timezone, as aware UTC datetimes."""

    today_start: datetime
    tomorrow_start: datetime
    month_start: datetime
    next_month_start: datetime
    prev_month_start: datetime
    week_start: datetime
    next_week_start: datetime
    prev_week_start: datetime


def calendar(now: datetime, tz: ZoneInfo) -> Calendar:
    """Day, week (from Monday) and month boundaries around `now` in `tz`."""
    if now.tzinfo is None or now.utcoffset() is None:
        # astimezone() would read a naive value as the server's local time.
        raise ValueError("now must be timezone-aware")
    today = now.astimezone(tz).date()
    month = today.replace(day=1)
    monday = today - timedelta(days=today.weekday())
    return Calendar(
        today_start=_local_midnight(today, tz),
        tomorrow_start=_local_midnight(today + timedelta(days=1), tz),
        month_start=_local_midnight(month, tz),
        next_month_start=_local_midnight(_add_months(month, 1), tz),
        prev_month_start=_local_midnight(_add_months(month, -1), tz),
        week_start=_local_midnight(monday, tz),
        next_week_start=_local_midnight(monday + timedelta(days=7), tz),
        prev_week_start=_local_midnight(monday - timedelta(days=7), tz),
    )


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    # fold=0 (the default) matters in zones whose DST gap starts at midnight
    # (e.g. America/Sao_Paulo until 2019): the missing 00:00 then resolves to
    # the transition instant, which is the first instant of that local day.
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def _add_months(first_of_month: date, months: int) -> date:
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Activity:
    """What was measured for one user in one group at `now` (computed by crm)."""

    last_claim_at: datetime | None = None
    open_leads: int = 0
    new_today: int = 0
    overdue_tasks: int = 0
    # Deadline of the oldest not-completed task whose deadline < now.
    oldest_overdue_deadline: datetime | None = None
    # Moves into a sale stage within [sales_window_start(...), now].
    sales_in_window: int = 0
    lost_today: int = 0
    lost_month: int = 0
    sales_last_month: int = 0
    sales_this_month: int = 0
    key_stage_last_week: int = 0
    key_stage_this_week: int = 0


def sales_window_start(settings: LimitSettings, now: datetime) -> datetime | None:
    """Start of the days_without_sales window, or None when that limit is off."""
    if settings.days_without_sales is None:
        return None
    # A rolling window of 24-hour days, not calendar days: the spec writes it
    # as "now - N days", and it must not jump at local midnight.
    return now - timedelta(days=settings.days_without_sales)


@dataclass(frozen=True)
class Verdict:
    """The outcome of one limit for one user, as shown in a refusal."""

    limit: str
    value: int | None
    threshold: int
    passed: bool
    passes_at: datetime | None
    period_count: int | None = None


class _Measure(NamedTuple):
    value: int | None
    blocked: bool
    # When blocked: the earliest instant it would pass if nothing else happened.
    passes_at: datetime | None = None
    period_count: int | None = None


_Rule = Callable[[int, Activity, datetime, Calendar], _Measure]


def _interval_minutes(n: int, a: Activity, now: datetime, cal: Calendar) -> _Measure:
    if a.last_claim_at is None:
        return _Measure(None, blocked=False)
    # floor(minutes) < N exactly when the elapsed time < N minutes, so the
    # shown value and passes_at agree.
    minutes = (now - a.last_claim_at) // timedelta(minutes=1)
    return _Measure(minutes, minutes < n, a.last_claim_at + timedelta(minutes=n))


def _max_active(n: int, a: Activity, now: datetime, cal: Calendar) -> _Measure:
    return _Measure(a.open_leads, a.open_leads >= n)


def _max_new_today(n: int, a: Activity, now: datetime, cal: Calendar) -> _Measure:
    # With N = 0 even an empty new day blocks (0 >= 0): no midnight unblocks it.
    return _Measure(a.new_today, a.new_today >= n, cal.tomorrow_start if n else None)


def _max_overdue_tasks(n: int, a: Activity, now: datetime, cal: Calendar) -> _Measure:
    return _Measure(a.overdue_tasks, a.overdue_tasks > n)


def _max_overdue_days(n: int, a: Activity, now: datetime, cal: Calendar) -> _Measure:
    deadline = a.oldest_overdue_deadline
    if deadline is None:
        return _Measure(0, blocked=False)
    # The block compares instants, the shown value is whole days: 5 days and
    # 3 hours overdue shows 5 and blocks a threshold of 5.
    days = max(0, (now - deadline) // timedelta(days=1))
    return _Measure(days, deadline < now - timedelta(days=n))


def _days_without_sales(n: int, a: Activity, now: datetime, cal: Calendar) -> _Measure:
    return _Measure(a.sales_in_window, a.sales_in_window == 0)


def _max_lost_today(n: int, a: Activity, now: datetime, cal: Calendar) -> _Measure:
    return _Measure(a.lost_today, a.lost_today > n, cal.tomorrow_start)


def _max_lost_month(n: int, a: Activity, now: datetime, cal: Calendar) -> _Measure:
    return _Measure(a.lost_month, a.lost_month > n, cal.next_month_start)


def _min_sales_last_month(
    n: int, a: Activity, now: datetime, cal: Calendar
) -> _Measure:
    # At the next month start the month in progress becomes "last month".
    passes_at = cal.next_month_start if a.sales_this_month >= n else None
    return _Measure(
        a.sales_last_month, a.sales_last_month < n, passes_at, a.sales_this_month
    )


def _min_key_stage_last_week(
    n: int, a: Activity, now: datetime, cal: Calendar
) -> _Measure:
    passes_at = cal.next_week_start if a.key_stage_this_week >= n else None
    return _Measure(
        a.key_stage_last_week,
        a.key_stage_last_week < n,
        passes_at,
        a.key_stage_this_week,
    )


# Spec order (domain.md section 4). A new limit is one rule above, one entry
# here, one LimitSettings field and the Activity fields it measures.
_RULES: dict[str, _Rule] = {
    "interval_minutes": _interval_minutes,
    "max_active": _max_active,
    "max_new_today": _max_new_today,
    "max_overdue_tasks": _max_overdue_tasks,
    "max_overdue_days": _max_overdue_days,
    "days_without_sales": _days_without_sales,
    "max_lost_today": _max_lost_today,
    "max_lost_month": _max_lost_month,
    "min_sales_last_month": _min_sales_last_month,
    "min_key_stage_last_week": _min_key_stage_last_week,
}

LIMIT_NAMES: tuple[str, ...] = tuple(_RULES)


def evaluate(
    settings: LimitSettings,
    activity: Activity,
    now: datetime,
    tz: ZoneInfo,
    cal: Calendar | None = None,
) -> list[Verdict]:
    """One verdict per enabled limit, in LIMIT_NAMES order; `cal` is
    calendar(now, tz) when the caller has it already."""
    cal = cal or calendar(now, tz)
    verdicts = []
    for name, threshold in settings.enabled():
        measure = _RULES[name](threshold, activity, now, cal)
        verdicts.append(
            Verdict(
                limit=name,
                value=measure.value,
                threshold=threshold,
                passed=not measure.blocked,
                passes_at=measure.passes_at if measure.blocked else None,
                period_count=measure.period_count,
            )
        )
    return verdicts


def eligible(verdicts: list[Verdict]) -> bool:
    """Whether a user may claim: every enabled limit passes."""
    return all(verdict.passed for verdict in verdicts)


def validate_limit_value(name: str, value: object) -> str | None:
    """Why `value` is not a valid setting for limit `name`, or None if it is."""
    if name not in _RULES:
        return "unknown limit"
    if value is None:
        return None  # an empty value switches the limit off
    # bool is an int subclass, but "true" is not a threshold anyone meant.
    if isinstance(value, bool) or not isinstance(value, int):
        return "must be a whole number"
    if value < 0:
        return "must be >= 0"
    if out_of_range(name, value):
        return f"must be <= {BY_NAME[name].high}"
    return None


def member_settings(
    defaults: Mapping[str, int], own: Mapping[str, int]
) -> LimitSettings:
    """A member's settings in force: their own values over the group's defaults."""
    return LimitSettings(**effective_limits(dict(defaults), dict(own)))
