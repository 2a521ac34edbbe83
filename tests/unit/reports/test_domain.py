"""Pure rules of the reports: ranges, buckets and percentages."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from leadrouter.errors import BadInput
from services.reports import domain


def test_weeks_start_on_monday_and_months_on_the_first() -> None:
    sunday = date(2026, 11, 1)
    assert domain.bucket_of(sunday, "week") == date(2026, 10, 26)
    assert domain.bucket_of(date(2026, 11, 2), "week") == date(2026, 11, 2)
    assert domain.bucket_of(sunday, "month") == date(2026, 11, 1)
    assert domain.bucket_of(date(2026, 10, 31), "month") == date(2026, 10, 1)


def test_a_range_of_local_days_starts_and_ends_at_local_midnight() -> None:
    tomsk = domain.zone("Asia/Tomsk")
    start, end = domain.DayRange.of("2026-11-01", "2026-11-30").instants(tomsk)
    assert start == datetime(2026, 10, 31, 17, tzinfo=UTC)
    assert end == datetime(2026, 11, 30, 17, tzinfo=UTC)


def test_a_range_across_a_clock_change_follows_the_wall_clock() -> None:
    berlin = domain.zone("Europe/Berlin")
    start, end = domain.DayRange.of("2026-10-25", "2026-10-25").instants(berlin)
    assert (end - start).total_seconds() == 25 * 3600


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("2026-11-30", "2026-11-01"),
        ("yesterday", "2026-11-01"),
        ("2020-01-01", "2026-01-01"),
    ],
)
def test_a_bad_range_is_refused_with_a_reason(first: str, last: str) -> None:
    with pytest.raises(BadInput):
        domain.DayRange.of(first, last)


def test_unknown_buckets_and_groupings_are_refused() -> None:
    with pytest.raises(BadInput):
        domain.check_bucket("year")
    with pytest.raises(BadInput):
        domain.check_grouping("plan")
    assert domain.check_bucket("") == "day"
    assert domain.check_grouping("") == "none"


def test_shares_are_of_the_closed_leads_and_reasons_of_the_lost() -> None:
    c = domain.Closings()
    for outcome, reason in [
        ("won", ""),
        ("lost", "too expensive"),
        ("lost", "too expensive"),
        ("lost", "no answer"),
    ]:
        c.add(outcome, reason)
    assert (c.won, c.lost) == (1, 3)
    assert (c.won_percent, c.lost_percent) == (25.0, 75.0)
    assert c.reason_split() == [("too expensive", 2, 66.67), ("no answer", 1, 33.33)]


def test_no_closed_leads_means_zero_shares_not_an_error() -> None:
    assert domain.Closings().won_percent == 0.0
