"""HTTP client of amoCRM API v4: OAuth, rate limit, retries, pages and batches."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import tempfile
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from leadrouter.clock import Clock, FixedClock
from leadrouter.db import Database
from leadrouter.errors import LeadrouterError, Unavailable
from leadrouter.timestamps import utc
from services.crm.amocrm.tables import AmoToken

log = logging.getLogger(__name__)

Sleeper = Callable[[float], Awaitable[None]]
RETRYABLE = frozenset({429, 500, 502, 503, 504})
# The whole account refused: "403 | Аккаунт заблокирован, за неоднократное
# превышение количества запросов в секунду", "402 | Подписка закончилась".
BLOCKING = frozenset({402, 403})
BATCH = 50  # amoCRM takes 250 at most and recommends 50


class AmoUnavailable(Unavailable):
    """amoCRM did not answer in time or kept answering 429/5xx."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AmoBlocked(AmoUnavailable):
    """amoCRM refuses the whole account (403 block, 402 not paid), not a request."""

    def __init__(
        self, message: str, status: int, not_before: datetime | None = None
    ) -> None:
        super().__init__(message, status)
        self.not_before = not_before


class AmoRefused(LeadrouterError):
    """amoCRM answered with an error that retrying will not fix."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class AmoAuthFailed(AmoRefused):
    """The integration's credentials no longer work: someone must authorize it again."""


def sleeper_for(clock: Clock) -> Sleeper:
    """Real sleeping on a real clock; on a FixedClock, waiting moves the clock."""
    if isinstance(clock, FixedClock):
        fixed = clock

        async def advance(seconds: float) -> None:
            fixed.advance(timedelta(seconds=max(seconds, 0)))
            await asyncio.sleep(0)

        return advance
    return asyncio.sleep


# -- tokens --------------------------------------------------------------------


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_at: datetime


class TokenStore(Protocol):
    async def load(self) -> TokenPair | None: ...

    async def save(self, pair: TokenPair) -> None: ...


class FileTokenStore:
    """The pair in a JSON file, replaced whole (temp file, fsync, rename)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def load(self) -> TokenPair | None:
        if not self.path.exists():
            return None
        data = json.loads(self.path.read_text())
        return TokenPair(
            data["access_token"],
            data["refresh_token"],
            datetime.fromisoformat(data["expires_at"]),
        )

    async def save(self, pair: TokenPair) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "access_token": pair.access_token,
            "refresh_token": pair.refresh_token,
            "expires_at": pair.expires_at.isoformat(),
        }
        fd, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".amocrm-token.")
        try:
            with os.fdopen(fd, "w") as out:
                json.dump(data, out)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, 0o600)
            os.replace(temp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


class DbTokenStore:
    """The pair in the crm database: one row per account, replaced in a transaction."""

    def __init__(self, db: Database, account: str, clock: Clock) -> None:
        self.db = db
        self.account = account
        self.clock = clock

    async def load(self) -> TokenPair | None:
        def read() -> TokenPair | None:
            with self.db.session() as s:
                row = s.get(AmoToken, self.account)
                if row is None:
                    return None
                return TokenPair(
                    row.access_token, row.refresh_token, utc(row.expires_at)
                )

        return await self.db.run(read)

    async def save(self, pair: TokenPair) -> None:
        def write() -> None:
            with self.db.session() as s:
                row = s.get(AmoToken, self.account)
                if row is None:
                    row = AmoToken(
                        account=self.account,
                        access_token="",
                        refresh_token="",
                        expires_at=pair.expires_at,
                        saved_at=self.clock.now(),
                    )
                    s.add(row)
                row.access_token = pair.access_token
                row.refresh_token = pair.refresh_token
                row.expires_at = pair.expires_at
                row.saved_at = self.clock.now()

        await self.db.run(write)


class Auth(Protocol):
    async def token(self) -> str: ...

    async def refresh(self, rejected: str) -> str: ...


class LongLivedToken:
    """A token issued in the integration's settings: nothing to refresh."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def token(self) -> str:
        return self._token

    async def refresh(self, rejected: str) -> str:
        raise AmoAuthFailed(
            "amoCRM rejected the long-lived token; issue a new one in the "
            "integration's settings and set LEADROUTER_AMOCRM_LONG_LIVED_TOKEN",
            401,
        )


class OAuth:
    """OAuth 2.0 tokens: exchanged once, refreshed before expiry, stored before use."""

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        base_url: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        store: TokenStore,
        clock: Clock,
        sleeper: Sleeper,
        margin: timedelta = timedelta(minutes=10),
        max_attempts: int = 5,
    ) -> None:
        self.http = http
        self.url = base_url.rstrip("/") + "/oauth2/access_token"
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.store = store
        self.clock = clock
        self.sleeper = sleeper
        self.margin = margin
        self.max_attempts = max_attempts
        self._pair: TokenPair | None = None
        self._lock = asyncio.Lock()

    async def exchange_code(self, code: str) -> TokenPair:
        """Trades an authorization code (valid 20 minutes) for the first pair."""
        async with self._lock:
            return await self._grant({"grant_type": "authorization_code", "code": code})

    async def token(self) -> str:
        pair = self._pair or await self.store.load()
        if pair is None:
            raise AmoAuthFailed(
                "the amoCRM integration is not authorized yet: set "
                "LEADROUTER_AMOCRM_AUTH_CODE to a fresh authorization code",
                401,
            )
        self._pair = pair
        if pair.expires_at - self.margin <= self.clock.now():
            return await self.refresh(pair.access_token)
        return pair.access_token

    async def refresh(self, rejected: str) -> str:
        """A new pair, unless another task (or replica) already replaced `rejected`."""
        async with self._lock:
            stored = await self.store.load()
            if (
                stored is not None
                and stored.access_token != rejected
                and stored.expires_at - self.margin > self.clock.now()
            ):
                self._pair = stored
                return stored.access_token
            pair = stored or self._pair
            if pair is None:
                raise AmoAuthFailed("no amoCRM token to refresh", 401)
            try:
                fresh = await self._grant(
                    {"grant_type": "refresh_token", "refresh_token": pair.refresh_token}
                )
            except AmoAuthFailed:
                # A replica may have spent this refresh token a moment ago.
                latest = await self.store.load()
                if latest is not None and latest.refresh_token != pair.refresh_token:
                    self._pair = latest
                    return latest.access_token
                raise
            return fresh.access_token

    async def _grant(self, fields: dict[str, str]) -> TokenPair:
        body = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "redirect_uri": self.redirect_uri,
            **fields,
        }
        reply = await _send_with_retries(
            lambda: self.http.post(self.url, json=body),
            what=f"POST /oauth2/access_token ({fields['grant_type']})",
            sleeper=self.sleeper,
            max_attempts=self.max_attempts,
        )
        if reply.status_code != 200:
            error = refusal("POST", "/oauth2/access_token", reply)
            raise AmoAuthFailed(
                f"{error}; authorize the integration again", reply.status_code
            )
        data = reply.json()
        pair = TokenPair(
            data["access_token"],
            data["refresh_token"],
            self.clock.now() + timedelta(seconds=int(data["expires_in"])),
        )
        # The old refresh token is spent: keep the new pair before anything else.
        await self.store.save(pair)
        self._pair = pair
        return pair


# -- the rate ------------------------------------------------------------------


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


async def _send_with_retries(
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

            reply = await _send_with_retries(
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
