"""The amoCRM side of the crm service: one worker per account does all the traffic.

The worker authorizes the integration, runs the initial sync, registers the
webhook, sends the outbox, applies waiting webhooks and reconciles with the
events API, in that order, whenever woken and at least every poll interval.
Only one process per account works (a PostgreSQL advisory lock elects it), so
one rate limiter and one token refresher stand for the whole deployment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.engine import Connection

from leadrouter.clock import Clock
from leadrouter.config import Settings
from leadrouter.crm.v1 import crm_pb2
from leadrouter.crm_api import crm_api_client
from leadrouter.db import Database
from leadrouter.timestamps import utc
from services.crm.amocrm.auth import (
    Auth,
    DbTokenStore,
    FileTokenStore,
    LongLivedToken,
    OAuth,
    TokenStore,
)
from services.crm.amocrm.block import Block, BlockRecord, started
from services.crm.amocrm.client import AmoClient
from services.crm.amocrm.connection import (
    connection_message,
    sync_state,
)
from services.crm.amocrm.errors import AmoBlocked
from services.crm.amocrm.hooks import WebhookWatch
from services.crm.amocrm.outbox import Outbox, backoff
from services.crm.amocrm.retries import Sleeper, sleeper_for
from services.crm.amocrm.sync import Progress, Syncer
from services.crm.store import CrmStore

log = logging.getLogger(__name__)


class AmoConnector:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        clock: Clock,
        *,
        sleeper: Sleeper | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.account = settings.account
        sleeper = sleeper or sleeper_for(clock)
        self.http = http or crm_api_client(httpx.Timeout(20.0, connect=5.0))
        self.oauth: OAuth | None = None
        auth: Auth
        if settings.amocrm_long_lived_token:
            auth = LongLivedToken(settings.amocrm_long_lived_token)
        else:
            store: TokenStore = (
                FileTokenStore(settings.amocrm_token_file)
                if settings.amocrm_token_file
                else DbTokenStore(db, self.account, clock)
            )
            auth = self.oauth = OAuth(
                http=self.http,
                base_url=settings.amocrm_url,
                client_id=settings.amocrm_client_id,
                client_secret=settings.amocrm_client_secret,
                redirect_uri=settings.amocrm_redirect_uri,
                store=store,
                clock=clock,
                sleeper=sleeper,
            )
        self.amo = AmoClient(
            settings.amocrm_url,
            auth,
            clock=clock,
            sleeper=sleeper,
            http=self.http,
            rate_per_second=settings.amocrm_rate_per_second,
        )
        self.outbox = Outbox(db, self.account, clock)
        self.store = CrmStore(db, clock, on_assigned=self.outbox.record)
        self.syncer = Syncer(
            amo=self.amo,
            db=db,
            store=self.store,
            account=self.account,
            clock=clock,
            subdomain=settings.amocrm_subdomain,
            technical=frozenset(
                u.strip()
                for u in settings.amocrm_technical_users.split(",")
                if u.strip()
            ),
            completed_window=timedelta(days=settings.amocrm_completed_tasks_days),
        )
        self.synced = False
        self.blocks = BlockRecord(db, self.account)
        self.hooks = WebhookWatch(settings, db, self.account)
        self.block: Block | None = None
        self._block_loaded = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._leader: Connection | None = None
        self._failures: dict[str, int] = {}
        self._not_before: dict[str, datetime] = {}

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._leader is not None:
            self._leader.close()
            self._leader = None
        await self.http.aclose()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("amoCRM worker step failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._wake.wait(), self.settings.amocrm_poll_seconds
                )

    # -- one pass ------------------------------------------------------------
    async def step(self) -> None:
        """Everything due, in order; a failing job waits, the others go on.
        While amoCRM refuses the whole account, nothing is sent at all."""
        if not await self.db.run(self._leading):
            return
        if not await self._served():
            return
        jobs: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            ("authorize", self._authorize),
            ("sync", self._sync),
            ("webhook", self._check_webhook),
            ("outbox", self._flush),
            ("inbox", self._inbox),
            ("reconcile", self._reconcile),
        ]
        for name, job in jobs:
            if self.block is not None or (name == "webhook" and not self.synced):
                return
            await self._job(name, job)

    # -- blocks of the whole account ------------------------------------------
    async def _served(self) -> bool:
        """False while amoCRM blocks the account; once the pause is over, one
        cheap request asks whether the block has ended."""
        if not self._block_loaded:
            self.block = await self.db.run(self.blocks.load)
            self.blocks.show(self.block)
            self._block_loaded = True
        block = self.block
        if block is None:
            return True
        if self.clock.now() < block.until:
            return False
        try:
            await self.amo.request("GET", "/api/v4/account")
        except AmoBlocked as error:
            await self._blocked(error)
            return False
        except Exception as error:  # amoCRM unreachable: the block stands
            log.warning("amoCRM: asking whether the block ended failed: %s", error)
            return False
        self.block = None
        await self.db.run(self.blocks.save, block=None)
        waiting = await self.outbox.pending()
        log.warning(
            "amoCRM serves the account again after %s; %d changes wait and go now",
            self.clock.now() - block.since,
            waiting,
        )
        return True

    async def _blocked(self, error: AmoBlocked) -> None:
        now = self.clock.now()
        status = error.status or 403
        if self.block is None:
            self.block = started(status, now, str(error), error.not_before)
        else:
            self.block = self.block.next(status, now, str(error), error.not_before)
        await self.db.run(self.blocks.save, block=self.block)
        waiting = await self.outbox.pending()
        log.warning(
            "amoCRM refuses the whole account (%s); %d changes wait, none is given "
            "up; asking again at %s",
            error,
            waiting,
            self.block.until.isoformat(timespec="seconds"),
        )

    async def _job(self, name: str, job: Callable[[], Awaitable[None]]) -> None:
        now = self.clock.now()
        if now < self._not_before.get(name, now):
            return
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except AmoBlocked as error:
            await self._blocked(error)
            return
        except Exception as error:
            failures = self._failures.get(name, 0) + 1
            self._failures[name] = failures
            self._not_before[name] = self.clock.now() + backoff(failures)
            log.warning("amoCRM %s failed (%s); next try later", name, error)
            return
        self._failures.pop(name, None)
        self._not_before.pop(name, None)

    async def _authorize(self) -> None:
        if self.oauth is None or not self.settings.amocrm_auth_code:
            return
        if await self.oauth.store.load() is None:
            await self.oauth.exchange_code(self.settings.amocrm_auth_code)
            log.info("amoCRM integration authorized")

    async def _sync(self) -> None:
        if self.synced:
            return
        self.synced = (await self.syncer.initial_sync()).finished
        state = await self.db.run(sync_state, db=self.db, account=self.account)
        expected = self.settings.amocrm_account_id
        if state is not None and expected and state.amo_account_id != expected:
            log.error(
                "amoCRM account %s is not LEADROUTER_AMOCRM_ACCOUNT_ID=%s: widget "
                "tokens of this account will be refused",
                state.amo_account_id,
                expected,
            )

    async def _check_webhook(self) -> None:
        await self.hooks.check(self.amo, self.clock.now())

    async def _flush(self) -> None:
        flushed = await self.outbox.flush(self.amo)
        if flushed.sent and await self.outbox.pending():
            self.wake()

    async def _inbox(self) -> None:
        applied = await self.syncer.process_inbox()
        if applied.total:
            self.wake()  # more may be waiting

    async def _reconcile(self) -> None:
        state = await self.db.run(self.syncer.state)
        every = self.hooks.reconcile_every(state.hook_state)
        last = state.reconciled_until
        if last is not None and utc(last) + every > self.clock.now():
            return
        await self.syncer.reconcile()

    # -- how amoCRM is reached ---------------------------------------------------
    async def connection(self) -> crm_pb2.Connection:
        """What health, metrics and the widget say of amoCRM: read from the
        rows, so any replica answers, not only the one that works."""
        state = await self.db.run(sync_state, db=self.db, account=self.account)
        progress = (
            str(Progress(state.step, state.page, state.counts))
            if state is not None
            else "amoCRM sync: not started"
        )
        return connection_message(
            state,
            subdomain=self.settings.amocrm_subdomain,
            waiting_writes=await self.outbox.pending(),
            progress=progress,
            reconcile_every=self.hooks.reconcile_every(
                state.hook_state if state is not None else ""
            ).total_seconds(),
        )

    # -- the leader ----------------------------------------------------------
    def _leading(self) -> bool:
        if self.db.is_sqlite or self._leader is not None:
            return True  # a SQLite deployment is one process
        conn = self.db.engine.connect()
        got = conn.execute(
            text("SELECT pg_try_advisory_lock(hashtext(:key))"),
            {"key": f"leadrouter-amocrm-worker:{self.account}"},
        ).scalar()
        conn.commit()  # the lock is the session's; no transaction stays open
        if got:
            self._leader = conn
            return True
        conn.close()
        return False
