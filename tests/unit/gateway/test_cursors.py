"""Relay cursors: opaque places in a list, refused when tampered with or misplaced."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest

from gateway.schema.pages import page_args, page_info
from leadrouter.cursors import (
    decision_cursor,
    decode_decision_cursor,
    decode_lead_cursor,
    lead_cursor,
)
from leadrouter.errors import BadInput

CREATED = datetime(2026, 11, 2, 10, 0, tzinfo=timezone(timedelta(hours=7)))
REFUSED = "'after' is not a cursor this list gave out; start again from the top"


def test_a_lead_cursor_reads_back_as_its_place_in_utc() -> None:
    cursor = lead_cursor(CREATED, "lead-42")
    assert decode_lead_cursor(cursor) == (
        datetime(2026, 11, 2, 3, 0, tzinfo=UTC),
        "lead-42",
    )


def test_a_decision_cursor_reads_back_as_its_sequence() -> None:
    assert decode_decision_cursor(decision_cursor(9_001)) == 9_001


def test_a_cursor_is_opaque_not_the_lead_id() -> None:
    assert "lead-42" not in lead_cursor(CREATED, "lead-42")


def _tampered(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        _tampered("d:1; DROP TABLE leads"),
        _tampered("d:-5"),
        _tampered("d:" + "9" * 20),
        _tampered("x:12"),
    ],
)
def test_a_tampered_decision_cursor_is_refused_in_words(cursor: str) -> None:
    with pytest.raises(BadInput) as refused:
        decode_decision_cursor(cursor)
    assert str(refused.value) == REFUSED


@pytest.mark.parametrize(
    "cursor",
    [
        _tampered("l:yesterday|lead-1"),
        _tampered("l:2026-11-02T03:00:00|lead-1"),  # no offset
        _tampered("l:2026-11-02T03:00:00+00:00"),  # no id part
    ],
)
def test_a_tampered_lead_cursor_is_refused(cursor: str) -> None:
    with pytest.raises(BadInput, match="not a cursor this list gave out"):
        decode_lead_cursor(cursor)


def test_a_cursor_of_one_list_is_refused_by_another_naming_the_argument() -> None:
    with pytest.raises(BadInput) as refused:
        decode_lead_cursor(decision_cursor(3), name="before")
    assert str(refused.value).startswith("'before' is not a cursor")
    with pytest.raises(BadInput):
        decode_decision_cursor(lead_cursor(CREATED, "lead-1"))


def test_no_page_size_means_the_default_first_page() -> None:
    args = page_args(None, None, None, None, default=20, maximum=100)
    assert (args.first, args.last, args.after, args.before) == (20, None, "", "")


def test_a_page_size_past_the_maximum_is_refused_naming_the_argument() -> None:
    with pytest.raises(BadInput) as refused:
        page_args(None, None, 101, "c", default=20, maximum=100)
    assert str(refused.value) == "'last' must be a whole number from 0 to 100"
    with pytest.raises(BadInput, match="'first'"):
        page_args(-1, None, None, None, default=20, maximum=100)


def test_page_info_carries_the_first_and_last_cursor_of_the_page() -> None:
    info = page_info(["a", "b", "c"], has_previous=True, has_next=False)
    assert (info.start_cursor, info.end_cursor) == ("a", "c")
    empty = page_info([], has_previous=False, has_next=False)
    assert (empty.start_cursor, empty.end_cursor) == (None, None)
