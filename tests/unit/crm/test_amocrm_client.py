"""The amoCRM client's rules, over an in-memory amoCRM and a clock that moves only
when the client waits: retries, pauses, the rate, tokens, batches."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from leadrouter.clock import FixedClock
from services.crm.amocrm.auth import LongLivedToken, OAuth, TokenPair
from services.crm.amocrm.client import AmoClient
from services.crm.amocrm.errors import AmoAuthFailed, AmoBlocked, AmoUnavailable
from services.crm.amocrm.retries import RateLimiter, refusal, sleeper_for

START = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
Handler = Callable[[httpx.Request], httpx.Response]


class Amo:
    """An amoCRM that answers from a script and notes each request and when."""

    def __init__(self, clock: FixedClock, *answers: httpx.Response) -> None:
        self.clock = clock
        self.answers = list(answers)
        self.seen: list[tuple[datetime, httpx.Request]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((self.clock.now(), request))
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def _client(amo: Handler, clock: FixedClock, **kwargs: int) -> AmoClient:
    return AmoClient(
        "https://example.amocrm.ru/",
        LongLivedToken("t0"),
        clock=clock,
        sleeper=sleeper_for(clock),
        http=httpx.AsyncClient(transport=httpx.MockTransport(amo)),
        **kwargs,
    )


def _reply(status: int, body: object = None, **headers: str) -> httpx.Response:
    content = b"" if body is None else json.dumps(body).encode()
    return httpx.Response(status, content=content, headers=headers)


async def test_a_429_is_retried_after_the_pause_amocrm_asks_for() -> None:
    clock = FixedClock(START)
    amo = Amo(clock, _reply(429, **{"Retry-After": "3"}), _reply(200, {"id": 1}))
    assert await _client(amo, clock).request("GET", "/api/v4/account") == {"id": 1}
    (first, _), (second, _) = amo.seen
    assert second - first == timedelta(seconds=3)


async def test_amocrm_down_for_every_attempt_says_the_change_is_kept() -> None:
    clock = FixedClock(START)
    amo = Amo(clock, _reply(503))
    with pytest.raises(AmoUnavailable) as failed:
        await _client(amo, clock, max_attempts=3).request("PATCH", "/api/v4/leads")
    assert str(failed.value) == (
        "amoCRM is not answering PATCH /api/v4/leads (503 Service Unavailable "
        "after 3 attempts); the change is kept and retried later"
    )
    waits = [b[0] - a[0] for a, b in zip(amo.seen, amo.seen[1:], strict=False)]
    assert waits == [timedelta(seconds=1), timedelta(seconds=2)]


async def test_a_blocked_account_is_told_apart_with_when_to_ask_again() -> None:
    clock = FixedClock(START)
    body = {"title": "Forbidden", "detail": "Аккаунт заблокирован"}
    amo = Amo(clock, _reply(403, body, **{"Retry-After": "600"}))
    with pytest.raises(AmoBlocked) as blocked:
        await _client(amo, clock).request("GET", "/api/v4/leads")
    assert blocked.value.status == 403
    assert blocked.value.not_before == START + timedelta(minutes=10)
    assert "amoCRM has blocked the account" in str(blocked.value)
    assert len(amo.seen) == 1  # a block is not retried at once


async def test_no_more_than_the_rate_goes_out_in_any_second() -> None:
    clock = FixedClock(START)
    amo = Amo(clock, _reply(200, {}))
    client = _client(amo, clock, rate_per_second=2)
    for _ in range(3):
        await client.request("GET", "/api/v4/account")
    times = [at for at, _ in amo.seen]
    assert times[0] == times[1] == START
    assert times[2] - START == timedelta(seconds=1, milliseconds=100)


async def test_a_link_to_another_host_is_followed_on_the_configured_one() -> None:
    clock = FixedClock(START)
    first = {
        "_embedded": {"leads": [{"id": 1}]},
        "_links": {"next": {"href": "https://evil.example/api/v4/leads?page=2"}},
    }
    amo = Amo(
        clock, _reply(200, first), _reply(200, {"_embedded": {"leads": [{"id": 2}]}})
    )
    leads = await _client(amo, clock).all("/api/v4/leads", "leads")
    assert leads == [{"id": 1}, {"id": 2}]
    assert str(amo.seen[1][1].url) == "https://example.amocrm.ru/api/v4/leads?page=2"


async def test_a_batch_amocrm_times_out_on_is_halved_until_it_passes() -> None:
    clock = FixedClock(START)
    sizes: list[int] = []

    def amo(request: httpx.Request) -> httpx.Response:
        batch = json.loads(request.content)
        sizes.append(len(batch))
        return _reply(504) if len(batch) > 10 else _reply(200, {})

    items = [{"id": i, "responsible_user_id": 7} for i in range(40)]
    await _client(amo, clock, max_attempts=1).patch("/api/v4/leads", items)
    assert sizes == [40, 20, 10, 10, 20, 10, 10]


async def test_a_rejected_long_lived_token_says_how_to_issue_a_new_one() -> None:
    clock = FixedClock(START)
    amo = Amo(clock, _reply(401, {"title": "Unauthorized"}))
    with pytest.raises(AmoAuthFailed, match="issue a new one in the integration"):
        await _client(amo, clock).request("GET", "/api/v4/account")


def test_a_refusal_lists_each_field_amocrm_rejected() -> None:
    body = {
        "title": "Bad Request",
        "detail": "Request validation failed",
        "validation-errors": [
            {
                "request_id": "0",
                "errors": [
                    {"code": "NotSupportedChoice", "path": "status_id", "detail": "x"}
                ],
            }
        ],
    }
    error = refusal("PATCH", "/api/v4/leads", _reply(400, body))
    assert str(error) == (
        "amoCRM refused PATCH /api/v4/leads (400 Bad Request); Request validation "
        "failed; item 0: status_id: NotSupportedChoice (x)"
    )
    assert not isinstance(refusal("GET", "/x", _reply(400, [1])), AmoAuthFailed)
    assert isinstance(refusal("GET", "/x", _reply(401)), AmoAuthFailed)


async def test_the_limiter_alone_waits_out_the_window_on_the_clock() -> None:
    clock = FixedClock(START)
    limiter = RateLimiter(1, clock, sleeper_for(clock), margin=timedelta(0))
    await limiter.acquire()
    await limiter.acquire()
    assert clock.now() == START + timedelta(seconds=1)


class MemoryTokens:
    def __init__(self, pair: TokenPair | None) -> None:
        self.pair = pair
        self.saved: list[TokenPair] = []

    async def load(self) -> TokenPair | None:
        return self.pair

    async def save(self, pair: TokenPair) -> None:
        self.pair = pair
        self.saved.append(pair)


def _oauth(store: MemoryTokens, clock: FixedClock, amo: Handler) -> OAuth:
    return OAuth(
        http=httpx.AsyncClient(transport=httpx.MockTransport(amo)),
        base_url="https://example.amocrm.ru",
        client_id="id",
        client_secret="secret",
        redirect_uri="https://leadrouter.example/oauth",
        store=store,
        clock=clock,
        sleeper=sleeper_for(clock),
    )


async def test_a_token_near_its_expiry_is_refreshed_and_stored_first() -> None:
    clock = FixedClock(START)
    store = MemoryTokens(TokenPair("old", "r1", START + timedelta(minutes=5)))
    grant = {"access_token": "new", "refresh_token": "r2", "expires_in": 86400}
    asked: list[dict[str, str]] = []

    def amo(request: httpx.Request) -> httpx.Response:
        asked.append(json.loads(request.content))
        return _reply(200, grant)

    assert await _oauth(store, clock, amo).token() == "new"
    assert asked[0]["grant_type"] == "refresh_token"
    assert asked[0]["refresh_token"] == "r1"
    assert store.saved == [TokenPair("new", "r2", START + timedelta(days=1))]


async def test_a_token_with_time_left_is_used_as_it_is() -> None:
    clock = FixedClock(START)
    store = MemoryTokens(TokenPair("good", "r1", START + timedelta(hours=1)))
    assert await _oauth(store, clock, Amo(clock, _reply(500))).token() == "good"


async def test_without_any_token_the_message_says_how_to_authorize() -> None:
    clock = FixedClock(START)
    with pytest.raises(AmoAuthFailed, match="LEADROUTER_AMOCRM_AUTH_CODE"):
        await _oauth(MemoryTokens(None), clock, Amo(clock, _reply(500))).token()
