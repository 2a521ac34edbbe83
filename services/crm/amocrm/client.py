"""HTTP client of amoCRM API v4: pages and batches over one account, through
the auth of auth.py and the rate and retries of retries.py."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from leadrouter.clock import Clock
from services.crm.amocrm.auth import Auth
from services.crm.amocrm.errors import AmoBlocked, AmoUnavailable
from services.crm.amocrm.retries import (
    BLOCKING,
    RateLimiter,
    Sleeper,
    refusal,
    send_with_retries,
)

log = logging.getLogger(__name__)

BATCH = 50  # amoCRM takes 250 at most and recommends 50


@dataclass(frozen=True)
class Page:
    number: int
    items: list[dict[str, Any]]
    has_next: bool


class AmoClient:
    """Every call to one amoCRM account goes through here, one limiter for all."""

    def __init__(
        self,
        base_url: str,
        auth: Auth,
        *,
        clock: Clock,
        sleeper: Sleeper,
        http: httpx.AsyncClient,
        rate_per_second: int = 7,
        max_attempts: int = 5,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.clock = clock
        self.sleeper = sleeper
        self.http = http
        self.limiter = RateLimiter(rate_per_second, clock, sleeper)
        self.max_attempts = max_attempts

    async def aclose(self) -> None:
        await self.http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        """The decoded body, or None for 204; a 401 refreshes the token once."""
        url = self._url(path)
        shown = urlsplit(url).path
        token = await self.auth.token()
        refreshed = False
        while True:

            def send(current: str = token) -> Awaitable[httpx.Response]:
                return self.http.request(
                    method,
                    url,
                    params=params,
                    json=body,
                    headers={"Authorization": f"Bearer {current}"},
                )

            reply = await send_with_retries(
                send,
                what=f"{method} {shown}",
                sleeper=self.sleeper,
                max_attempts=self.max_attempts,
                before=self.limiter.acquire,
            )
            if reply.status_code == 401 and not refreshed:
                refreshed = True
                token = await self.auth.refresh(token)
                continue
            if reply.status_code == 204:
                return None
            if reply.status_code in BLOCKING:
                raise AmoBlocked(
                    str(refusal(method, shown, reply)),
                    reply.status_code,
                    self._retry_after(reply),
                )
            if reply.status_code >= 300:
                raise refusal(method, shown, reply)
            return reply.json()

    def _retry_after(self, reply: httpx.Response) -> datetime | None:
        try:
            seconds = float(reply.headers.get("retry-after", ""))
        except ValueError:
            return None
        return self.clock.now() + timedelta(seconds=seconds)

    def _url(self, path: str) -> str:
        """Links amoCRM returns are followed on the configured host only."""
        if path.startswith(("http://", "https://")):
            parts = urlsplit(path)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
        return self.base_url + path

    async def pages(
        self, path: str, key: str, params: dict[str, Any] | None = None
    ) -> AsyncIterator[Page]:
        """Pages of `_embedded.<key>` from `page` on, following `_links.next`."""
        query = dict(params or {})
        number = int(query.get("page", 1))
        url: str | None = path
        while url is not None:
            data = await self.request("GET", url, params=query or None)
            if data is None:  # 204: nothing (more) to list
                return
            items = (data.get("_embedded") or {}).get(key) or []
            href = ((data.get("_links") or {}).get("next") or {}).get("href")
            yield Page(number, items, href is not None)
            url, query, number = href, {}, number + 1

    async def all(
        self, path: str, key: str, params: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        async for page in self.pages(path, key, params):
            found += page.items
        return found

    async def patch(self, path: str, items: Sequence[dict[str, Any]]) -> None:
        """Writes in batches of at most 50; a batch amoCRM times out on is halved."""
        for start in range(0, len(items), BATCH):
            await self._patch_batch(path, list(items[start : start + BATCH]))

    async def _patch_batch(self, path: str, batch: list[dict[str, Any]]) -> None:
        try:
            await self.request("PATCH", path, body=batch)
        except AmoUnavailable as error:
            if error.status != 504 or len(batch) == 1:
                raise
            half = len(batch) // 2
            await self._patch_batch(path, batch[:half])
            await self._patch_batch(path, batch[half:])
