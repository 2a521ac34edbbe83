"""The product in amoCRM mode: every service and the gateway, the emulator as amoCRM.

The crm service authorizes with a code, syncs the account, takes webhooks
through the gateway's HTTP port and writes back through its outbox. One clock
serves the product and the emulator; waiting moves it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from gateway.app import create_app
from leadrouter.clock import FixedClock
from leadrouter.crm.v1 import crm_pb2
from services.crm.amocrm.emulator import AmoEmulator
from services.crm.amocrm.tables import AmoInbox
from tests.amocrm.conftest import START, loopback_socket, serve
from tests.stack import Stack, running_stack

CLAIM = """
mutation($k: String) {
  claimLead(groupId: "main", idempotencyKey: $k) {
    __typename
    ... on Claimed { lead { id responsible stage } }
    ... on Refused { reasons { code } }
  }
}
"""


@dataclass
class AmoStack:
    stack: Stack
    emulator: AmoEmulator
    clock: FixedClock
    gateway_url: str
    hook_secret: str

    async def claim(self, user: str, key: str, **kw: Any) -> dict[str, Any]:
        data = await self.stack.data(CLAIM, {"k": key}, user=user, role="manager", **kw)
        result: dict[str, Any] = data["claimLead"]
        return result

    def webhooks_waiting(self) -> int:
        with self.stack.dbs["crm"].session() as s:
            return len(
                s.scalars(
                    select(col(AmoInbox.seq)).where(
                        col(AmoInbox.processed_at).is_(None)
                    )
                ).all()
            )


async def eventually(
    check: Callable[[], bool | Awaitable[bool]],
    *,
    meanwhile: Callable[[], None] | None = None,
    seconds: float = 30.0,
) -> None:
    """Waits (in real time, bounded) for background work to show an outcome."""
    deadline = time.monotonic() + seconds
    while True:
        done = check()
        if not isinstance(done, bool):
            done = await done
        if done:
            return
        assert time.monotonic() < deadline, "the outcome never showed"
        if meanwhile is not None:
            meanwhile()
        await asyncio.sleep(0.05)


@asynccontextmanager
async def running_amo_stack(
    emulator: AmoEmulator,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    workspace: str,
    database_url: str | None = None,
    **settings: str,
) -> AsyncIterator[AmoStack]:
    sock = loopback_socket()
    gateway_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    env = {
        "CRM": "amocrm",
        "AMOCRM_SUBDOMAIN": emulator.subdomain,
        "AMOCRM_BASE_URL": emulator.url,
        "AMOCRM_CLIENT_ID": emulator.client_id,
        "AMOCRM_CLIENT_SECRET": emulator.client_secret,
        "AMOCRM_REDIRECT_URI": emulator.redirect_uri,
        "AMOCRM_AUTH_CODE": emulator.issue_code(),
        "AMOCRM_ACCOUNT_ID": str(emulator.account_id),
        "AMOCRM_PUBLIC_URL": gateway_url,
        "AMOCRM_POLL_SECONDS": "0.05",
        **settings,
    }
    for name, value in env.items():
        monkeypatch.setenv(f"LEADROUTER_{name}", value)
    # The product and the emulator keep one time.
    monkeypatch.setattr("tests.stack.FixedClock", lambda _: clock)
    async with running_stack(tmp_path, database_url, START) as stack:
        gateway = await serve(create_app(stack.settings, stack.clients, clock), sock)
        try:
            pool = crm_pb2.PoolQuery(
                source_stages=["7001/70011"], exchange_users=["5007"]
            )

            async def synced() -> bool:
                try:
                    page = await stack.clients.crm.list_pool(
                        crm_pb2.ListPoolRequest(account="acme", pool=pool, first=1),
                    )
                except Exception:
                    return False
                return bool(page.total == len(emulator.pool()))

            # A first sync reads every lead: a larger account takes longer.
            await eventually(synced, seconds=60 + len(emulator.pool()) / 4)
            await eventually(lambda: bool(emulator.webhooks))  # registered with amoCRM
            applied = await stack.apply(workspace)
            assert applied["ok"], applied["problems"]
            yield AmoStack(
                stack, emulator, clock, gateway_url, stack.settings.amocrm_hook_secret
            )
        finally:
            await gateway.stop()
