"""Parsing of HH:MM-HH:MM windows."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from leadrouter.windows import WHOLE_DAY, Window, parse_window
from services.scheduler.domain import Schedule, is_working


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("09:00-18:00", 9 * 60, 18 * 60),
        ("9:30-18:05", 9 * 60 + 30, 18 * 60 + 5),
        (" 09:00 - 18:00 ", 9 * 60, 18 * 60),
        ("00:00-24:00", 0, 1440),
        ("18:00-24:00", 18 * 60, 1440),
        ("22:00-06:00", 22 * 60, 6 * 60),
        ("16:00-09:00", 16 * 60, 9 * 60),
        ("22:00-00:00", 22 * 60, 0),
        ("23:59-00:00", 23 * 60 + 59, 0),
        ("16:00-23:59", 16 * 60, 1440),
        ("00:00-23:59", 0, 1440),
    ],
)
def test_valid_window_is_parsed_to_minutes(text: str, start: int, end: int) -> None:
    assert parse_window(text) == Window(start, end)


def test_a_window_ending_at_23_59_covers_the_whole_last_minute() -> None:
    # Seed 001 writes "to midnight" as 23:59 ("с 16:00 до 23:59").
    tomsk = ZoneInfo("Asia/Tomsk")
    evening = Schedule(weekly={0: (parse_window("16:00-23:59"),)})
    assert is_working(evening, tomsk, datetime(2026, 11, 2, 23, 59, 30, tzinfo=tomsk))
    last = datetime(2026, 11, 2, 23, 59, 59, 999999, tzinfo=tomsk)
    assert is_working(evening, tomsk, last)
    assert not is_working(evening, tomsk, datetime(2026, 11, 3, 0, 0, tzinfo=tomsk))
    assert parse_window("00:00-23:59") == WHOLE_DAY


def test_window_ending_before_it_starts_crosses_midnight() -> None:
    assert parse_window("22:00-06:00").crosses_midnight
    assert parse_window("22:00-00:00").crosses_midnight
    assert not parse_window("09:00-18:00").crosses_midnight


def test_24_00_end_is_the_whole_day_not_a_crossing() -> None:
    window = parse_window("00:00-24:00")
    assert window == WHOLE_DAY
    assert not window.crosses_midnight


def test_window_prints_back_as_written() -> None:
    assert str(parse_window("22:00-06:00")) == "22:00-06:00"
    assert str(WHOLE_DAY) == "00:00-24:00"


@pytest.mark.parametrize("text", ["10:00-10:00", "00:00-00:00", "23:59-23:59"])
def test_window_with_start_equal_to_end_is_rejected_as_ambiguous(text: str) -> None:
    with pytest.raises(ValueError, match="start equals end, ambiguous"):
        parse_window(text)


def test_rejection_names_the_window() -> None:
    with pytest.raises(ValueError, match=r"^window '10:00-10:00': start equals end"):
        parse_window("10:00-10:00")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("25:00-06:00", "bad time '25:00'"),
        ("09:60-10:00", "bad time '09:60'"),
        ("09:00-24:01", "bad time '24:01'"),
        ("9-18", "bad time '9'"),
        ("09h00-18h00", "bad time '09h00'"),
        ("-09:00", "bad time ''"),
        ("09:00", "expected HH:MM-HH:MM"),
        ("09:00-12:00-18:00", "expected HH:MM-HH:MM"),
        ("", "expected HH:MM-HH:MM"),
        ("morning", "expected HH:MM-HH:MM"),
        ("24:00-06:00", "24:00 is only valid as an end"),
    ],
)
def test_garbage_window_is_rejected_with_a_message_naming_the_problem(
    text: str, message: str
) -> None:
    with pytest.raises(ValueError, match=f"window '{text}'") as raised:
        parse_window(text)
    assert message in str(raised.value)


@pytest.mark.parametrize(("start", "end"), [(-1, 60), (1440, 60), (60, 1441), (5, 5)])
def test_window_built_in_code_is_validated_too(start: int, end: int) -> None:
    with pytest.raises(ValueError):
        Window(start, end)
