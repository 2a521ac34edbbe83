"""What stands between a request and the account: outages, the rate limit, timed
blocks of the whole account, an ended subscription, and the access token."""

from __future__ import annotations

from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response

from services.crm.amocrm.emulator.base import EmulatorState, problem


class Faults(EmulatorState):
    rate_limit: int
    outage_until: datetime | None
    blocked_until: datetime | None
    subscription_ended: bool
    # guess: how many 429s within `overrun_window` make amoCRM block the account,
    # and for how long; the docs say only "за неоднократное превышение".
    overruns_to_block: int
    overrun_window: timedelta
    block_for: timedelta
    _overruns: list[datetime]
    _access: dict[str, datetime | None]

    def _init_faults(self, rate_limit: int) -> None:
        self.rate_limit = rate_limit
        self.outage_until = None
        self.blocked_until = None
        self.subscription_ended = False
        self.overruns_to_block = 20
        self.overrun_window = timedelta(minutes=1)
        self.block_for = timedelta(minutes=15)
        self._overruns = []

    # -- control, for tests and the standalone runner -------------------------
    def outage(self, seconds: float) -> None:
        """Every request answers 503 until the clock has moved on by `seconds`."""
        self.outage_until = self.clock.now() + timedelta(seconds=seconds)

    def block(self, seconds: float) -> None:
        """The whole account answers 403 for `seconds`, as after repeated overruns:
        "403 | Аккаунт заблокирован, за неоднократное превышение количества
        запросов в секунду | Вместе с этим ответом отдаётся HTTP код №403"."""
        self.blocked_until = self.clock.now() + timedelta(seconds=seconds)

    def end_subscription(self) -> None:
        """Every API request answers 402 until `pay()`: "402 | Подписка
        закончилась | Вместе с этим ответом отдаётся HTTP код №402 “Payment
        Required”"."""
        self.subscription_ended = True

    def pay(self) -> None:
        self.subscription_ended = False

    def blocked(self) -> bool:
        return self.blocked_until is not None and self.clock.now() < self.blocked_until

    # -- the gate ---------------------------------------------------------------
    def down(self) -> Response | None:
        if self.outage_until is not None and self.clock.now() < self.outage_until:
            return Response("Service Temporarily Unavailable", 503)
        return None

    def refuse(self, request: Request) -> Response | None:
        """The answer amoCRM gives instead of serving the API request, if any."""
        down = self.down()
        if down is not None:
            return down
        now = self.clock.now()
        if self.blocked():
            # guess: the body of a block; the docs give only the status.
            return problem(
                403,
                "Forbidden",
                "The account is blocked for exceeding the request limit",
            )
        # "не более 7 запросов в секунду" (Kommo: "not more than 7 requests per
        # second"); "429 | Превышено допустимое количество запросов в секунду".
        while self._hits and now - self._hits[0] >= timedelta(seconds=1):
            self._hits.popleft()
        if len(self._hits) >= self.rate_limit:
            self._overrun(now)
            return problem(429, "Too Many Requests", "Too many requests")
        self._hits.append(now)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token not in self._access:
            return problem(401, "Unauthorized", "Authorization failed")
        expires = self._access[token]
        if expires is not None and expires <= now:
            return problem(401, "Unauthorized", "Access token has expired")
        if self.subscription_ended:
            # guess: the body; the status is the docs' "402 | Подписка закончилась".
            return problem(402, "Payment Required", "The subscription has ended")
        return None

    def _overrun(self, now: datetime) -> None:
        """Kommo: "In the event of suspicious activity via the API or integration
        failure, requests from your IP address will be restricted"."""
        self._overruns = [t for t in self._overruns if now - t < self.overrun_window]
        self._overruns.append(now)
        if self.overruns_to_block and len(self._overruns) >= self.overruns_to_block:
            self._overruns.clear()
            self.blocked_until = now + self.block_for
