"""How the client proves who it is to amoCRM: a long-lived token, or OAuth with
its token pair kept in a file or the database."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

import httpx

from leadrouter.clock import Clock
from leadrouter.db import Database
from leadrouter.timestamps import utc
from services.crm.amocrm.errors import AmoAuthFailed
from services.crm.amocrm.retries import Sleeper, refusal, send_with_retries
from services.crm.amocrm.tables import AmoToken


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
        reply = await send_with_retries(
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
