"""Calendar boundaries of the account timezone used by the calendar limits."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.limits.domain import calendar

TOMSK = ZoneInfo("Asia/Tomsk")  # UTC+7 all year
BERLIN = ZoneInfo("Europe/Berlin")  # CET/CEST: 2026-03-29 and 2026-10-25


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_tomsk_boundaries_are_local_midnights_seven_hours_before_utc() -> None:
    cal = calendar(utc(2026, 5, 20, 10, 0), TOMSK)  # Wednesday 17:00 local

    assert cal.today_start == utc(2026, 5, 19, 17)
    assert cal.tomorrow_start == utc(2026, 5, 20, 17)
    assert cal.month_start == utc(2026, 4, 30, 17)
    assert cal.next_month_start == utc(2026, 5, 31, 17)
    assert cal.prev_month_start == utc(2026, 3, 31, 17)
    assert cal.week_start == utc(2026, 5, 17, 17)  # Monday 18 May
    assert cal.next_week_start == utc(2026, 5, 24, 17)
    assert cal.prev_week_start == utc(2026, 5, 10, 17)


def test_tomsk_day_follows_local_date_not_utc_date() -> None:
    # 20 May 18:30 UTC is already 21 May 01:30 in Tomsk.
    cal = calendar(utc(2026, 5, 20, 18, 30), TOMSK)

    assert cal.today_start == utc(2026, 5, 20, 17)
    assert cal.tomorrow_start == utc(2026, 5, 21, 17)


def test_instant_exactly_at_local_midnight_belongs_to_the_new_day() -> None:
    midnight = utc(2026, 5, 20, 17)  # 21 May 00:00 in Tomsk

    assert calendar(midnight, TOMSK).today_start == midnight
    just_before = calendar(midnight - timedelta(microseconds=1), TOMSK)
    assert just_before.tomorrow_start == midnight


def test_berlin_spring_forward_day_lasts_23_hours() -> None:
    cal = calendar(utc(2026, 3, 29, 12), BERLIN)

    assert cal.today_start == utc(2026, 3, 28, 23)  # 00:00 CET
    assert cal.tomorrow_start == utc(2026, 3, 29, 22)  # 00:00 CEST
    assert cal.tomorrow_start - cal.today_start == timedelta(hours=23)


def test_berlin_fall_back_day_lasts_25_hours() -> None:
    cal = calendar(utc(2026, 10, 25, 12), BERLIN)

    assert cal.today_start == utc(2026, 10, 24, 22)  # 00:00 CEST
    assert cal.tomorrow_start == utc(2026, 10, 25, 23)  # 00:00 CET
    assert cal.tomorrow_start - cal.today_start == timedelta(hours=25)


@pytest.mark.parametrize(
    "now",
    [utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)],
    ids=["first 02:30 CEST", "repeated 02:30 CET"],
)
def test_both_passes_of_the_repeated_hour_are_the_same_day(now: datetime) -> None:
    cal = calendar(now, BERLIN)

    assert cal.today_start == utc(2026, 10, 24, 22)
    assert cal.tomorrow_start == utc(2026, 10, 25, 23)


def test_week_starts_monday_and_spans_the_dst_change() -> None:
    cal = calendar(utc(2026, 3, 29, 12), BERLIN)  # Sunday

    assert cal.week_start == utc(2026, 3, 22, 23)  # Monday 23 March 00:00 CET
    assert cal.next_week_start == utc(2026, 3, 29, 22)  # Monday 30 March 00:00 CEST
    assert cal.prev_week_start == utc(2026, 3, 15, 23)
    assert cal.next_week_start - cal.week_start == timedelta(hours=167)


def test_monday_midnight_starts_a_new_week_and_sunday_night_does_not() -> None:
    monday = utc(2026, 3, 29, 22)  # Monday 30 March 00:00 CEST

    assert calendar(monday, BERLIN).week_start == monday
    assert calendar(monday, BERLIN).prev_week_start == utc(2026, 3, 22, 23)
    sunday_night = calendar(monday - timedelta(minutes=1), BERLIN)
    assert sunday_night.next_week_start == monday


def test_january_previous_month_is_december_of_previous_year() -> None:
    cal = calendar(utc(2026, 1, 15, 12), BERLIN)

    assert cal.prev_month_start == utc(2025, 11, 30, 23)  # 1 Dec 2025 00:00 CET
    assert cal.month_start == utc(2025, 12, 31, 23)
    assert cal.next_month_start == utc(2026, 1, 31, 23)


def test_december_next_month_is_january_of_next_year() -> None:
    cal = calendar(utc(2026, 12, 10, 12), TOMSK)

    assert cal.month_start == utc(2026, 11, 30, 17)
    assert cal.next_month_start == utc(2026, 12, 31, 17)  # 1 Jan 2027 local
    assert cal.prev_month_start == utc(2026, 10, 31, 17)


def test_month_across_spring_forward_ends_at_cest_midnight() -> None:
    cal = calendar(utc(2026, 3, 10, 12), BERLIN)

    assert cal.month_start == utc(2026, 2, 28, 23)  # 00:00 CET
    assert cal.next_month_start == utc(2026, 3, 31, 22)  # 00:00 CEST


def test_now_given_in_another_offset_gives_the_same_calendar() -> None:
    now = utc(2026, 5, 20, 18, 30)
    elsewhere = now.astimezone(ZoneInfo("America/New_York"))

    assert calendar(elsewhere, TOMSK) == calendar(now, TOMSK)


def test_boundaries_are_utc() -> None:
    cal = calendar(utc(2026, 5, 20, 10), TOMSK)

    assert cal.today_start.utcoffset() == timedelta(0)
    assert cal.today_start.tzinfo is UTC


def test_day_starts_at_the_transition_when_midnight_is_skipped() -> None:
    # São Paulo jumped from 00:00 to 01:00 on 2018-11-04: that day starts at
    # 01:00 -02 = 03:00 UTC, not at an instant of the previous day.
    sao_paulo = ZoneInfo("America/Sao_Paulo")
    cal = calendar(utc(2018, 11, 4, 12), sao_paulo)

    assert cal.today_start == utc(2018, 11, 4, 3)
    day_before = calendar(cal.today_start - timedelta(microseconds=1), sao_paulo)
    assert day_before.tomorrow_start == cal.today_start


def test_day_starts_at_the_first_midnight_when_midnight_repeats() -> None:
    # Havana fell back from 01:00 to 00:00 on 2025-11-02; during the second
    # 00:30 the day began at the first 00:00 (-04), 04:00 UTC.
    cal = calendar(utc(2025, 11, 2, 5, 30), ZoneInfo("America/Havana"))

    assert cal.today_start == utc(2025, 11, 2, 4)
    assert cal.tomorrow_start - cal.today_start == timedelta(hours=25)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        calendar(datetime(2026, 5, 20, 10), TOMSK)


ZONES = [
    "Asia/Tomsk",
    "Europe/Berlin",
    "America/Sao_Paulo",  # DST began at midnight until 2019
    "America/Havana",  # DST ends 01:00 -> 00:00: midnight happens twice
    "America/New_York",
    "Australia/Lord_Howe",  # half-hour DST shift
    "Asia/Kathmandu",  # +05:45
    "Pacific/Apia",  # skipped 2011-12-30 entirely
]


@given(
    now=st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2040, 1, 1),
        timezones=st.just(UTC),
    ),
    zone=st.sampled_from(ZONES),
)
def test_boundaries_enclose_now_in_any_zone(now: datetime, zone: str) -> None:
    tz = ZoneInfo(zone)
    cal = calendar(now, tz)
    local = now.astimezone(tz)

    assert cal.prev_week_start < cal.week_start <= cal.today_start <= now
    assert now < cal.tomorrow_start <= cal.next_week_start
    assert cal.prev_month_start < cal.month_start <= cal.today_start
    assert cal.tomorrow_start <= cal.next_month_start
    assert cal.today_start.astimezone(tz).date() == local.date()
    assert cal.week_start.astimezone(tz).weekday() == 0
    assert cal.month_start.astimezone(tz).day == 1
    assert cal.next_month_start.astimezone(tz).day == 1
