"""The stream follower: batches, reconnects from the stored offset, stops cleanly."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from services.reports.subscribers import Follower


class FakeStream:
    """Messages 1..n after an offset; optionally breaks after `break_after` once."""

    def __init__(self, n: int, break_after: int | None = None) -> None:
        self.n = n
        self.break_after = break_after
        self.opened: list[int] = []
        self.cancelled = 0

    def open(self, after: int) -> Any:
        self.opened.append(after)
        stream = self

        class Call:
            def __aiter__(self) -> AsyncIterator[int]:
                return self.messages()

            async def messages(self) -> AsyncIterator[int]:
                for offset in range(after + 1, stream.n + 1):
                    if stream.break_after is not None and offset > stream.break_after:
                        stream.break_after = None
                        raise ConnectionError("the stream broke")
                    yield offset
                await asyncio.Event().wait()  # follow: nothing more, stay open

            def cancel(self) -> None:
                stream.cancelled += 1

        return Call()


class Sink:
    """Applies batches by moving a stored offset; skips what it already has."""

    def __init__(self) -> None:
        self.offset = 0
        self.batches: list[list[int]] = []
        self.caught_up = asyncio.Event()
        self.target = 0

    async def apply(self, batch: list[int]) -> None:
        self.batches.append(batch)
        self.offset = max(self.offset, *batch)
        if self.offset >= self.target:
            self.caught_up.set()

    async def position(self) -> int:
        return self.offset


async def test_a_broken_stream_is_opened_again_from_the_stored_offset() -> None:
    stream, sink = FakeStream(10, break_after=4), Sink()
    sink.target = 10
    follower = Follower(
        "test", stream.open, sink.apply, sink.position, batch_size=3, retry_seconds=0
    )
    task = asyncio.create_task(follower.run())
    await asyncio.wait_for(sink.caught_up.wait(), 5)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    applied = [m for b in sink.batches for m in b]
    assert applied == list(range(1, 11))
    assert stream.opened == [0, 4]
    assert all(len(b) <= 3 for b in sink.batches)


async def test_stopping_waits_for_the_batch_being_written() -> None:
    stream = FakeStream(5)
    started, release = asyncio.Event(), asyncio.Event()
    written: list[list[int]] = []

    async def slow_apply(batch: list[int]) -> None:
        started.set()
        await release.wait()
        written.append(batch)

    async def position() -> int:
        return 0

    follower = Follower("test", stream.open, slow_apply, position, retry_seconds=0)
    task = asyncio.create_task(follower.run())
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    await asyncio.sleep(0)  # the cancellation reaches the follower
    assert not task.done()  # it waits for the batch in flight
    release.set()
    await asyncio.gather(task, return_exceptions=True)
    assert written and written[0][0] == 1
    assert stream.cancelled == 1
