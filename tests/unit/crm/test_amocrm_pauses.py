"""How long the amoCRM writes wait: the outbox's backoff, an account block's pause,
and which write of a lead wins when several wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.crm.amocrm.block import Block, pause, started
from services.crm.amocrm.outbox import backoff, coalesce

NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)


def test_the_outbox_waits_longer_after_each_failure_up_to_five_minutes() -> None:
    assert [backoff(n).total_seconds() for n in range(1, 9)] == [
        5,
        10,
        20,
        40,
        80,
        160,
        300,
        300,
    ]
    assert backoff(0) == timedelta(seconds=5)


def test_a_block_is_asked_about_after_1_2_4_8_then_every_15_minutes() -> None:
    assert [pause(n) // timedelta(minutes=1) for n in range(1, 8)] == [
        1,
        2,
        4,
        8,
        15,
        15,
        15,
    ]


def test_a_block_that_lasts_keeps_its_start_and_grows_its_pause() -> None:
    first = started(403, NOW, "Аккаунт заблокирован")
    assert (first.since, first.until, first.reason) == (
        NOW,
        NOW + timedelta(minutes=1),
        "blocked",
    )
    later = NOW + timedelta(minutes=1)
    again = first.next(403, later, "Аккаунт заблокирован", None)
    assert again.since == NOW
    assert again.attempts == 2
    assert again.until == later + timedelta(minutes=2)


def test_a_different_refusal_starts_counting_again_and_says_not_paid() -> None:
    block = Block(403, NOW, NOW, attempts=4)
    unpaid = block.next(402, NOW, "Подписка закончилась", None)
    assert unpaid.attempts == 1 and unpaid.reason == "not_paid"
    assert unpaid.since == NOW


def test_amocrm_saying_when_to_come_back_is_respected() -> None:
    back = NOW + timedelta(hours=1)
    assert started(403, NOW, "", not_before=back).until == back
    soon = NOW + timedelta(seconds=5)
    assert started(403, NOW, "", not_before=soon).until == NOW + timedelta(minutes=1)


def test_a_long_detail_is_cut_to_what_the_health_line_shows() -> None:
    assert len(started(403, NOW, "x" * 2000).detail) == 500


def test_the_latest_write_of_a_lead_wins_and_unsorted_accepts_go_first() -> None:
    writes: list[dict[str, Any]] = [
        {"leads": [{"id": 1, "responsible_user_id": 10}]},
        {"tasks": [{"id": 5, "responsible_user_id": 10}]},
        {
            "leads": [{"id": 1, "responsible_user_id": 20}],
            "accept": [{"id": 2, "uid": "u", "user_id": 20}],
        },
    ]
    merged = coalesce(writes)
    assert list(merged) == ["accept", "leads", "tasks"]
    assert merged["leads"] == [{"id": 1, "responsible_user_id": 20}]
