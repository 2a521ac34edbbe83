"""Tailing an append-only log: rows after an offset, then new ones as they come."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


async def tail(
    read: Callable[[int, int], Awaitable[Sequence[T]]],
    offset_of: Callable[[T], int],
    *,
    after: int,
    follow: bool,
    appended: asyncio.Event,
    poll_seconds: float,
    batch: int = 500,
) -> AsyncIterator[T]:
    """Every row after `after`, in order; with `follow`, then each new one.

    A local write sets `appended` for a quick wake-up; polling still finds rows
    that other replicas wrote to the same database.
    """
    offset = after
    while True:
        appended.clear()
        rows = await read(offset, batch)
        for row in rows:
            offset = offset_of(row)
            yield row
        if len(rows) == batch:
            continue
        if not follow:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(appended.wait(), poll_seconds)
