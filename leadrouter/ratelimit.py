"""Token buckets per caller, so one client pressing too fast cannot starve others.

Each key (an account and user, or a webhook intake) has its own bucket that
refills at `rate` tokens a second up to `burst`; a request takes one token or
is refused with the seconds until the next one. Time comes from the injected
clock, so tests move it instead of sleeping. Buckets live in the process: each
gateway replica limits what passes through it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime

from leadrouter import messages
from leadrouter.clock import Clock
from leadrouter.config import Settings
from leadrouter.errors import LeadrouterError

# Buckets full again are dropped past this many keys, so memory stays bounded.
MAX_KEYS = 10_000


class RateLimited(LeadrouterError):
    """Too many requests from one caller; `retry_after` seconds until the next."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def retry_after_seconds(self) -> int:
        """Whole seconds, rounded up, as HTTP's Retry-After wants them."""
        return max(1, math.ceil(self.retry_after))


@dataclass
class _Bucket:
    tokens: float
    at: datetime


class RateLimiter:
    """`rate` requests a second per key, with bursts of up to `burst`.

    A rate of 0 or less turns the limit off.
    """

    def __init__(self, clock: Clock, rate: float, burst: int, what: str) -> None:
        self.clock = clock
        self.rate = rate
        self.burst = max(1, burst)
        self.what = what
        self._buckets: dict[Hashable, _Bucket] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, key: Hashable) -> None:
        """Takes one token for `key`, or raises RateLimited."""
        if not self.enabled:
            return
        now = self.clock.now()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= MAX_KEYS:
                    self._forget_full(now)
                bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            self._refill(bucket, now)
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return
            wait = (1 - bucket.tokens) / self.rate
        raise RateLimited(
            messages.too_many(self.what, f"{self.rate:g}", self.burst, math.ceil(wait)),
            retry_after=wait,
        )

    def _refill(self, bucket: _Bucket, now: datetime) -> None:
        elapsed = max(0.0, (now - bucket.at).total_seconds())
        bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.rate)
        bucket.at = max(bucket.at, now)

    def _forget_full(self, now: datetime) -> None:
        for key, bucket in list(self._buckets.items()):
            self._refill(bucket, now)
            if bucket.tokens >= self.burst:
                del self._buckets[key]
        if len(self._buckets) >= MAX_KEYS:  # all busy: forget the oldest
            oldest = min(self._buckets, key=lambda k: self._buckets[k].at)
            del self._buckets[oldest]


class RateLimits:
    """The gateway's limits: presses of 'Get lead' per user, webhooks per intake."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.claims = RateLimiter(
            clock, settings.claim_rate_per_second, settings.claim_burst, "presses"
        )
        self.webhooks = RateLimiter(
            clock, settings.webhook_rate_per_second, settings.webhook_burst, "webhooks"
        )
