"""OAuth 2.0 of the emulated account: authorization codes, token pairs, refresh."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from services.crm.amocrm.emulator.base import problem
from services.crm.amocrm.emulator.faults import Faults

# "Токен имеет ограниченный срок жизни (1 сутки)"
ACCESS_TTL = timedelta(days=1)
# "Срок жизни кода – 20 минут."
CODE_TTL = timedelta(minutes=20)


class OAuthApi(Faults):
    _codes: dict[str, datetime]
    _refresh: set[str]

    def _init_oauth(self) -> None:
        self._codes = {}
        self._access = {}  # token -> expiry; None = long-lived
        self._refresh = set()

    def issue_code(self) -> str:
        """An authorization code, as the consent screen hands to the redirect URI."""
        code = "def" + secrets.token_hex(24)
        self._codes[code] = self.clock.now() + CODE_TTL
        return code

    def issue_long_lived_token(self) -> str:
        token = "llt." + secrets.token_hex(32)
        self._access[token] = None
        return token

    def revoke_access_tokens(self) -> None:
        """Every access token stops working (as after an admin resets access)."""
        self._access = {t: exp for t, exp in self._access.items() if exp is None}

    async def _token(self, request: Request) -> Response:
        down = self.down()
        if down is not None:
            return down
        raw = await request.body()
        if request.headers.get("content-type", "").startswith("application/json"):
            form = json.loads(raw or b"{}")
        else:
            form = dict(parse_qsl(raw.decode()))
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return problem(401, "Unauthorized", "Client authentication failed")
        if form.get("redirect_uri") != self.redirect_uri:
            return problem(400, "Bad Request", "redirect_uri does not match")
        grant = form.get("grant_type")
        now = self.clock.now()
        if grant == "authorization_code":
            expires = self._codes.pop(str(form.get("code")), None)
            if expires is None or expires <= now:
                return problem(
                    400, "Bad Request", "Authorization code has expired or was used"
                )
        elif grant == "refresh_token":
            token = str(form.get("refresh_token"))
            if token not in self._refresh:
                return problem(400, "Bad Request", "Token has been revoked")
            # "при каждом обновлении access token выдается новый refresh token",
            # "старым ключем воспользоваться уже будет невозможно".
            self._refresh.discard(token)
        else:
            return problem(400, "Bad Request", f"unsupported grant_type {grant!r}")
        access, refresh = secrets.token_hex(32), "def" + secrets.token_hex(40)
        self._access[access] = now + ACCESS_TTL
        self._refresh.add(refresh)
        return JSONResponse(
            {
                "token_type": "Bearer",
                "expires_in": int(ACCESS_TTL.total_seconds()),
                "access_token": access,
                "refresh_token": refresh,
            }
        )

    async def _new_code(self, _: Request) -> Response:
        return JSONResponse({"code": self.issue_code()})
