"""The rate of calls to amoCRM and their retries: the limiter, waiting on the
clock, what a refusal says, and which answers are tried again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import httpx

from leadrouter.clock import Clock, FixedClock
from services.crm.amocrm.errors import (
    AmoAuthFailed,
    AmoRefused,
    AmoUnavailable,
)

log = logging.getLogger(__name__)

Sleeper = Callable[[float], Awaitable[None]]
RETRYABLE = frozenset({429, 500, 502, 503, 504})
# The whole account refused: "403 | Аккаунт заблокирован, за неоднократное
# превышение количества запросов в секунду", "402 | Подписка закончилась".
BLOCKING = frozenset({402, 403})


def sleeper_for(clock: Clock) -> Sleeper:
    """Real sleeping on a real clock; on a FixedClock, waiting moves the clock."""
    if isinstance(clock, FixedClock):
        fixed = clock

        async def advance(seconds: float) -> None:
            fixed.advance(timedelta(seconds=max(seconds, 0)))
            await asyncio.sleep(0)

        return advance
    return asyncio.sleep


class RateLimiter:
    """At most `per_second` requests in any window of one second (plus a margin)."""

    def __init__(
        self,
        per_second: int,
        clock: Clock,
        sleeper: Sleeper,
        margin: timedelta = timedelta(milliseconds=100),
    ) -> None:
        self.per_second = per_second
        self.clock = clock
        self.sleeper = sleeper
        self.window = timedelta(seconds=1) + margin
        self._sent: deque[datetime] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self.clock.now()
                while self._sent and now - self._sent[0] >= self.window:
                    self._sent.popleft()
                if len(self._sent) < self.per_second:
                    self._sent.append(now)
                    return
                await self.sleeper((self._sent[0] + self.window - now).total_seconds())


# -- requests ------------------------------------------------------------------


def refusal(method: str, path: str, reply: httpx.Response) -> AmoRefused:
    """A problem+json answer as one message a person can act on."""
    try:
        body = reply.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    status = reply.status_code
    title = str(body.get("title") or reply.reason_phrase)
    detail = str(body.get("detail") or body.get("hint") or "")
    parts = [f"amoCRM refused {method} {path} ({status} {title})"]
    if detail and detail != title:
        parts.append(detail)
    for item in body.get("validation-errors") or []:
        for e in item.get("errors") or []:
            parts.append(
                f"item {item.get('request_id')}: {e.get('path') or '-'}: "
                f"{e.get('code')} ({e.get('detail')})"
            )
    if status == 402:
        parts.append("the amoCRM account is not paid (the subscription has ended)")
    if status == 403:
        parts.append("amoCRM has blocked the account (too many requests or no rights)")
    message = "; ".join(parts)
    if status == 401:
        return AmoAuthFailed(message, status)
    return AmoRefused(message, status)


async def send_with_retries(
    send: Callable[[], Awaitable[httpx.Response]],
    *,
    what: str,
    sleeper: Sleeper,
    max_attempts: int,
    before: Callable[[], Awaitable[None]] | None = None,
) -> httpx.Response:
    """The first answer that is not 429/5xx, waiting longer after each failure."""
    attempt = 0
    while True:
        attempt += 1
        if before is not None:
            await before()
        status: int | None = None
        try:
            reply = await send()
        except httpx.TransportError as error:  # timeouts and refused connections
            failure = type(error).__name__
        else:
            if reply.status_code not in RETRYABLE:
                return reply
            status = reply.status_code
            failure = f"{status} {reply.reason_phrase}"
        if attempt >= max_attempts:
            raise AmoUnavailable(
                f"amoCRM is not answering {what} ({failure} after {attempt} "
                "attempts); the change is kept and retried later",
                status,
            )
        wait = min(30.0, 2.0 ** (attempt - 1))
        if status == 429:
            wait = max(wait, 1.0)
        if status is not None:
            with contextlib.suppress(ValueError):
                wait = max(wait, float(reply.headers.get("retry-after", "0")))
        log.info("amoCRM %s: %s; retrying in %.1fs", what, failure, wait)
        await sleeper(wait)
