"""The assigner's own loops: following the crm's events, and the periodic tick.

Both run beside the gRPC server, start with it and are cancelled before it
stops. Neither keeps state in memory that matters: the offset read so far
is a row, and every push step is idempotent, so a restart or a second
replica repeats work harmlessly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from leadrouter.clients import Clients
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import BadInput, NotFound
from leadrouter.rpc import ServiceRunner
from leadrouter.timestamps import from_ts
from services.assigner.alerts import WaitingAlerts
from services.assigner.push import PushDistribution

log = logging.getLogger(__name__)

# Events that can take a watched lead into work or out of push's hands.
CHANGES = frozenset(
    {"stage_changed", "responsible_changed", "task_completed", "lead_reopened"}
)


class CrmFollower:
    """Reads the crm's event log from the stored offset and reacts to each event."""

    RETRY_FIRST, RETRY_MAX = 0.2, 5.0
    SAVE_EVERY = 200  # events handled at most between two saved offsets

    def __init__(self, push: PushDistribution, clients: Clients) -> None:
        self.push = push
        self.clients = clients
        self.pushes = push.pushes

    async def run(self) -> None:
        delay = self.RETRY_FIRST
        while True:
            try:
                await self._follow()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the crm restarting, a dropped stream …
                log.warning("following crm events: %s; retrying in %.1fs", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.RETRY_MAX)
            else:
                delay = self.RETRY_FIRST

    async def _follow(self) -> None:
        offset = await self.pushes.db.run(self.pushes.offset)
        call = self.clients.crm.stream_events(
            crm_pb2.StreamEventsRequest(after_offset=offset, follow=True),
        )
        received: asyncio.Queue[crm_pb2.CrmEvent | None] = asyncio.Queue(
            self.SAVE_EVERY
        )
        reader = asyncio.create_task(_receive(call, received))
        try:
            while not (received.empty() and reader.done()):
                event = await received.get()
                if event is None:
                    break
                batch, ended = [event], False
                while len(batch) < self.SAVE_EVERY and not received.empty():
                    more = received.get_nowait()
                    if more is None:
                        ended = True
                        break
                    batch.append(more)
                await self.handle_batch(batch)
                # Handlers are idempotent, so the offset is saved once per
                # batch that has arrived rather than after every event: a
                # restart only handles the unsaved tail again.
                await self.pushes.db.run(self.pushes.advance, offset=batch[-1].offset)
                if ended:
                    break
            reader.result()  # the stream's own error, if it ended with one
        finally:
            reader.cancel()
            call.cancel()

    async def handle_batch(self, batch: list[crm_pb2.CrmEvent]) -> None:
        """The events in order; changes only to leads push knows of.

        Most changes are to leads push never handled (a claim moves a pool
        lead): one read for the whole batch finds the few that matter,
        instead of one per event.
        """
        changed = {
            (e.account, e.lead_id) for e in batch if e.type in CHANGES and e.lead_id
        }
        known: set[tuple[str, str]] = set()
        if changed:
            known = await self.pushes.db.run(self.pushes.known, leads=changed)
        # New leads are distributed a run at a time (push_arrival.py): one read
        # of each fact for the run, not one per lead. A change to a lead is
        # handled after every arrival before it.
        arrivals: list[crm_pb2.CrmEvent] = []
        for event in batch:
            key = (event.account, event.lead_id)
            if event.type == "lead_created":
                known.add(key)  # it may become push's in this very batch
                arrivals.append(event)
            elif key in known:
                await self.arrive(arrivals)
                arrivals = []
                await self.handle(event)
        await self.arrive(arrivals)

    async def arrive(self, events: list[crm_pb2.CrmEvent]) -> None:
        """New leads, each account's in one run; a run refused as a whole is
        tried again a lead at a time, so one bad lead skips only itself."""
        by_account: dict[str, list[crm_pb2.CrmEvent]] = {}
        for e in events:
            by_account.setdefault(e.account, []).append(e)
        for account, run in by_account.items():
            try:
                await self.push.arrived_many(account, [e.lead_id for e in run])
            except (NotFound, BadInput) as error:
                log.info("push: arrivals tried one by one: %s", error)
                for event in run:
                    await self.handle(event)

    async def handle(self, event: crm_pb2.CrmEvent) -> None:
        """One event; a lead that vanished or is refused is skipped, not retried."""
        try:
            if event.type == "lead_created":
                await self.push.arrived(event.account, event.lead_id)
            elif event.type in CHANGES and event.lead_id:
                await self.push.lead_changed(
                    event.account, event.lead_id, from_ts(event.at)
                )
        except (NotFound, BadInput) as error:
            log.info("push skipped event %s: %s", event.offset, error)


async def _receive(
    call: AsyncIterator[crm_pb2.CrmEvent],
    received: asyncio.Queue[crm_pb2.CrmEvent | None],
) -> None:
    """Moves the stream's events into `received`; None marks its end."""
    try:
        async for event in call:
            await received.put(event)
    finally:
        # When the queue is full the follower finds the end by the task being
        # done once it has drained the queue.
        with contextlib.suppress(asyncio.QueueFull):
            received.put_nowait(None)


class Ticker:
    """Runs the push tick every few seconds of real time; the clock says 'now'."""

    def __init__(self, push: PushDistribution, every_seconds: float) -> None:
        self.push = push
        self.every = every_seconds

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.push.tick()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("push tick failed: %s", error)


@dataclass
class AssignerRunner(ServiceRunner):
    """The gRPC server plus the loops that live and die with it."""

    loops: Sequence[Callable[[], Coroutine[Any, Any, None]]] = ()
    alerts: WaitingAlerts | None = None  # the alert webhook's, when configured
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    async def start(self, address: str) -> int:
        port = await super().start(address)
        self._tasks = [asyncio.create_task(loop()) for loop in self.loops]
        return port

    async def stop(self, grace: float = 5.0) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await super().stop(grace)
