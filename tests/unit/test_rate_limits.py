"""The gateway's token buckets: a caller pressing too fast is refused in words,
in their language, with the seconds until the next press; others are not held."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadrouter import i18n
from leadrouter.clock import FixedClock
from leadrouter.ratelimit import RateLimited, RateLimiter

START = datetime(2026, 11, 2, 3, tzinfo=UTC)


def test_a_burst_passes_and_the_next_press_is_told_when_to_try_again() -> None:
    clock = FixedClock(START)
    presses = RateLimiter(clock, rate=5, burst=10, what="presses")
    for _ in range(10):
        presses.take("ursula")
    with pytest.raises(RateLimited) as limited:
        presses.take("ursula")
    assert str(limited.value) == (
        "too many presses: at most 5 a second (bursts of 10); try again in 1 s"
    )
    assert limited.value.retry_after_seconds == 1
    presses.take("nadezhda")  # another caller's bucket is full


def test_the_bucket_refills_as_the_clock_moves() -> None:
    clock = FixedClock(START)
    presses = RateLimiter(clock, rate=2, burst=1, what="presses")
    presses.take("ursula")
    with pytest.raises(RateLimited):
        presses.take("ursula")
    clock.advance(timedelta(milliseconds=500))
    presses.take("ursula")


def test_a_rate_of_zero_turns_the_limit_off() -> None:
    presses = RateLimiter(FixedClock(START), rate=0, burst=1, what="presses")
    for _ in range(100):
        presses.take("ursula")


@pytest.mark.parametrize("what", ["presses", "webhooks"])
def test_the_refusal_speaks_russian_to_a_russian_reader(what: str) -> None:
    limiter = RateLimiter(FixedClock(START), rate=1, burst=1, what=what)
    limiter.take("acme")
    with i18n.speaking("ru"), pytest.raises(RateLimited) as limited:
        limiter.take("acme")
    text = str(limited.value)
    assert "too many" not in text and "try again" not in text
    assert "1" in text
