"""Background subscribers feeding the read models from decisions and CRM events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from leadrouter.assigner.v1 import assigner_pb2
from leadrouter.clients import Clients, CrmClient
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import NotFound
from leadrouter.stage_kinds import stage_kind_name
from leadrouter.timestamps import from_ts
from services.reports.store import (
    CRM_EVENTS,
    DECISIONS,
    CrmFact,
    DecisionFact,
    ReportsStore,
    UnknownStages,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccountDirectory:
    timezone: str
    stage_kinds: dict[str, str] = field(default_factory=dict)  # "pipeline/stage"


class Directories:
    """Account timezones and stage kinds from the crm, cached per account."""

    def __init__(self, crm: CrmClient) -> None:
        self.crm = crm
        self._known: dict[str, AccountDirectory] = {}

    async def get(self, account: str, *, refresh: bool = False) -> AccountDirectory:
        if refresh or account not in self._known:
            try:
                d = await self.crm.get_directory(
                    crm_pb2.GetDirectoryRequest(account=account)
                )
            except NotFound:
                # No CRM data yet: count in UTC; stages are looked up again later.
                return AccountDirectory("UTC")
            self._known[account] = AccountDirectory(
                d.timezone or "UTC",
                {
                    f"{p.id}/{s.id}": stage_kind_name(s.kind)
                    for p in d.pipelines
                    for s in p.stages
                },
            )
        return self._known[account]

    def clear(self) -> None:
        self._known.clear()


_END = object()


async def _to_the_end(work: Awaitable[None]) -> None:
    """Runs `work`; a cancelled caller still waits for it to finish.

    A batch half-way through its transaction is allowed to commit, so that
    once the subscribers have stopped nothing more is written.
    """
    task = asyncio.ensure_future(work)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await task
        raise


class Follower:
    """Reads one stream from its stored offset, applying what arrives in batches.

    A reader task keeps pulling while a batch is being written, and every
    batch holds whatever had arrived, up to `batch_size`. A broken stream is
    opened again from the stored offset after `retry_seconds`.
    """

    def __init__(
        self,
        name: str,
        open_stream: Callable[[int], Any],
        apply: Callable[[list[Any]], Awaitable[None]],
        position: Callable[[], Awaitable[int]],
        *,
        batch_size: int = 500,
        retry_seconds: float = 1.0,
    ) -> None:
        self.name = name
        self.open_stream = open_stream
        self.apply = apply
        self.position = position
        self.batch_size = batch_size
        self.retry_seconds = retry_seconds

    async def run(self, from_offset: int | None = None) -> None:
        start = from_offset
        while True:
            try:
                after = start if start is not None else await self.position()
                start = None
                await self._follow(after)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("%s: stream broke (%s); reconnecting", self.name, error)
            await asyncio.sleep(self.retry_seconds)

    async def _follow(self, after: int) -> None:
        call = self.open_stream(after)
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=self.batch_size * 4)
        failure: list[BaseException] = []

        async def read() -> None:
            try:
                async for message in call:
                    await queue.put(message)
            except Exception as error:
                failure.append(error)
            await queue.put(_END)

        reader = asyncio.create_task(read())
        try:
            ended = False
            while not ended:
                batch: list[Any] = []
                item = await queue.get()
                while item is not _END:
                    batch.append(item)
                    if len(batch) >= self.batch_size or queue.empty():
                        break
                    item = queue.get_nowait()
                ended = item is _END
                if batch:
                    await _to_the_end(self.apply(batch))
            if failure:
                raise failure[0]
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
            call.cancel()


class Subscribers:
    """The reports service's two subscriptions, started and stopped with the server."""

    def __init__(self, store: ReportsStore, clients: Clients) -> None:
        self.store = store
        self.clients = clients
        self._tasks: list[asyncio.Task[None]] = []
        self.directories: Directories | None = None

    def start(self, from_offset: int | None = None) -> None:
        """Follows both streams from their stored offsets (or from `from_offset`)."""
        if self._tasks:
            return
        # Clients are taken once: a reconnect reuses the channel, never dials anew.
        assigner, crm = self.clients.assigner, self.clients.crm
        self.directories = Directories(crm)
        followers = [
            Follower(
                DECISIONS,
                lambda after: assigner.stream_decisions(
                    assigner_pb2.StreamDecisionsRequest(
                        after_offset=after, follow=True
                    ),
                ),
                self._apply_decisions,
                lambda: self.store.db.run(self.store.offset, stream=DECISIONS),
            ),
            Follower(
                CRM_EVENTS,
                lambda after: crm.stream_events(
                    crm_pb2.StreamEventsRequest(after_offset=after, follow=True),
                ),
                self._apply_crm_events,
                lambda: self.store.db.run(self.store.offset, stream=CRM_EVENTS),
            ),
        ]
        self._tasks = [
            asyncio.create_task(f.run(from_offset), name=f"reports:{f.name}")
            for f in followers
        ]

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def replay(self, from_offset: int = 0) -> None:
        """Reads both streams again from `from_offset`; figures must not change."""
        await self.stop()
        self.start(from_offset)

    async def rebuild(self) -> None:
        """Forgets the read models and builds them again from each stream's start."""
        await self.stop()
        await self.store.db.run(self.store.reset)
        self.start(0)

    async def _zones(self, accounts: set[str]) -> dict[str, str]:
        zones = await self.store.db.run(self.store.zones, accounts=accounts)
        assert self.directories is not None
        for account in accounts - zones.keys():
            zones[account] = (await self.directories.get(account)).timezone
        return zones

    async def _apply_decisions(self, batch: Sequence[assigner_pb2.Decision]) -> None:
        facts = [
            DecisionFact(
                offset=d.offset,
                account=d.account,
                kind=d.kind,
                outcome=d.outcome,
                group_id=d.group_id,
                assignee=d.assignee,
                lead_id=d.lead_id,
                at=from_ts(d.at),
            )
            for d in batch
        ]
        zones = await self._zones({f.account for f in facts})
        await self.store.db.run(self.store.apply_decisions, facts=facts, zones=zones)

    async def _apply_crm_events(self, batch: Sequence[crm_pb2.CrmEvent]) -> None:
        facts = [
            CrmFact(
                offset=e.offset,
                account=e.account,
                type=e.type,
                lead_id=e.lead_id,
                at=from_ts(e.at),
                data=json.loads(e.json or "{}"),
            )
            for e in batch
        ]
        assert self.directories is not None
        accounts = {f.account for f in facts}
        kinds = {a: (await self.directories.get(a)).stage_kinds for a in accounts}
        try:
            await self.store.db.run(
                self.store.apply_crm_events, facts=facts, stage_kinds=kinds
            )
        except UnknownStages as unknown:
            # Stages added since the directory was read: read it again once.
            for account in unknown.accounts:
                d = await self.directories.get(account, refresh=True)
                kinds[account] = d.stage_kinds
            await self.store.db.run(
                lambda: self.store.apply_crm_events(facts, kinds, strict=False)
            )
