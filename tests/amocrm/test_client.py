"""The amoCRM client against the emulator over HTTP: tokens, rate, retries, pages."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from leadrouter.clock import FixedClock
from services.crm.amocrm.auth import FileTokenStore, LongLivedToken, TokenPair
from services.crm.amocrm.client import AmoClient
from services.crm.amocrm.emulator import AmoEmulator
from services.crm.amocrm.errors import AmoRefused, AmoUnavailable
from services.crm.amocrm.retries import sleeper_for
from tests.amocrm.conftest import START, client_with, oauth


def _trail(emulator: AmoEmulator) -> list[str]:
    return [f"{r.method} {r.path} {r.status}" for r in emulator.log]


async def test_code_exchange_stores_the_pair_and_authorizes_calls(
    emulator: AmoEmulator, clock: FixedClock, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    auth = oauth(emulator, clock, http, tmp_path / "token.json")
    await auth.exchange_code(emulator.issue_code())
    stored = json.loads((tmp_path / "token.json").read_text())
    assert stored["refresh_token"].startswith("def")
    account = await client_with(emulator, clock, http, auth).request(
        "GET", "/api/v4/account"
    )
    assert account["subdomain"] == "emulated"


async def test_a_used_authorization_code_is_refused_with_a_clear_message(
    emulator: AmoEmulator, clock: FixedClock, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    code = emulator.issue_code()
    await oauth(emulator, clock, http, tmp_path / "a.json").exchange_code(code)
    with pytest.raises(AmoRefused, match="authorize the integration again"):
        await oauth(emulator, clock, http, tmp_path / "b.json").exchange_code(code)


async def test_token_is_refreshed_before_it_expires(
    emulator: AmoEmulator, clock: FixedClock, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    auth = oauth(emulator, clock, http, tmp_path / "token.json")
    first = await auth.exchange_code(emulator.issue_code())
    clock.advance(timedelta(hours=23, minutes=55))
    await client_with(emulator, clock, http, auth).request("GET", "/api/v4/account")
    assert _trail(emulator)[-2:] == [
        "POST /oauth2/access_token 200",
        "GET /api/v4/account 200",
    ]
    newest = await FileTokenStore(tmp_path / "token.json").load()
    assert newest is not None and newest.refresh_token != first.refresh_token


async def test_401_refreshes_once_and_retries(
    emulator: AmoEmulator, clock: FixedClock, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    auth = oauth(emulator, clock, http, tmp_path / "token.json")
    await auth.exchange_code(emulator.issue_code())
    emulator.revoke_access_tokens()
    users = await client_with(emulator, clock, http, auth).all("/api/v4/users", "users")
    assert len(users) == 8
    assert _trail(emulator)[-3:] == [
        "GET /api/v4/users 401",
        "POST /oauth2/access_token 200",
        "GET /api/v4/users 200",
    ]


async def test_refresh_token_is_single_use_and_replicas_share_the_newest_pair(
    emulator: AmoEmulator, clock: FixedClock, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    store = tmp_path / "token.json"
    first = await oauth(emulator, clock, http, store).exchange_code(
        emulator.issue_code()
    )
    replica_a = client_with(emulator, clock, http, oauth(emulator, clock, http, store))
    replica_b = client_with(emulator, clock, http, oauth(emulator, clock, http, store))
    await replica_a.request("GET", "/api/v4/account")
    await replica_b.request("GET", "/api/v4/account")
    emulator.revoke_access_tokens()

    await replica_a.request("GET", "/api/v4/account")  # 401, refresh, retry
    await replica_b.request("GET", "/api/v4/account")  # 401, finds A's new pair

    assert [r for r in _trail(emulator) if "oauth2" in r] == [
        "POST /oauth2/access_token 200",  # the code exchange
        "POST /oauth2/access_token 200",  # one refresh for both replicas
    ]
    reused = await http.post(
        f"{emulator.url}/oauth2/access_token",
        json={
            "client_id": emulator.client_id,
            "client_secret": emulator.client_secret,
            "redirect_uri": emulator.redirect_uri,
            "grant_type": "refresh_token",
            "refresh_token": first.refresh_token,
        },
    )
    assert reused.status_code == 400


async def test_token_file_keeps_the_old_pair_when_a_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileTokenStore(tmp_path / "token.json")
    old = TokenPair("a1", "r1", START)
    await store.save(old)

    def crash(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", crash)
    with pytest.raises(OSError):
        await store.save(TokenPair("a2", "r2", START))
    monkeypatch.undo()
    assert await store.load() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["token.json"]


async def test_limiter_never_sends_more_than_seven_requests_a_second(
    emulator: AmoEmulator, amo: AmoClient, clock: FixedClock
) -> None:
    for _ in range(30):
        await amo.request("GET", "/api/v4/account")
    statuses = {r.status for r in emulator.log}
    assert statuses == {200}
    times = [r.at for r in emulator.log]
    for i, at in enumerate(times):
        in_window = [t for t in times[: i + 1] if at - t < timedelta(seconds=1)]
        assert len(in_window) <= 7
    assert clock.now() - START >= timedelta(seconds=4)


async def test_a_burst_of_429s_is_waited_out(
    emulator: AmoEmulator, amo: AmoClient, http: httpx.AsyncClient
) -> None:
    # Another integration on the account spends this second's budget.
    other = {"Authorization": f"Bearer {emulator.issue_long_lived_token()}"}
    for _ in range(7):
        await http.get(f"{emulator.url}/api/v4/account", headers=other)

    account = await amo.request("GET", "/api/v4/account")

    assert account["id"] == emulator.account_id
    assert _trail(emulator)[-2:] == [
        "GET /api/v4/account 429",
        "GET /api/v4/account 200",
    ]


async def test_an_outage_is_retried_until_amocrm_answers(
    emulator: AmoEmulator, amo: AmoClient, clock: FixedClock
) -> None:
    emulator.outage(seconds=10)
    users = await amo.all("/api/v4/users", "users")
    assert len(users) == 8
    assert [r.status for r in emulator.log] == [503, 503, 503, 503, 200]
    assert clock.now() - START >= timedelta(seconds=10)


async def test_a_long_outage_ends_in_a_clear_unavailable_error(
    emulator: AmoEmulator, amo: AmoClient
) -> None:
    emulator.outage(seconds=600)
    with pytest.raises(AmoUnavailable, match=r"not answering GET /api/v4/users"):
        await amo.all("/api/v4/users", "users")


async def test_a_timeout_is_retried(emulator: AmoEmulator, clock: FixedClock) -> None:
    class TimesOutOnce(httpx.AsyncHTTPTransport):
        calls = 0

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            TimesOutOnce.calls += 1
            if TimesOutOnce.calls == 1:
                raise httpx.ReadTimeout("no answer", request=request)
            return await super().handle_async_request(request)

    async with httpx.AsyncClient(transport=TimesOutOnce()) as http:
        client = AmoClient(
            emulator.url,
            LongLivedToken(emulator.issue_long_lived_token()),
            clock=clock,
            sleeper=sleeper_for(clock),
            http=http,
        )
        account = await client.request("GET", "/api/v4/account")
    assert account["subdomain"] == "emulated"
    assert TimesOutOnce.calls == 2


async def test_an_empty_list_is_204_and_reads_as_no_items(
    emulator: AmoEmulator, amo: AmoClient
) -> None:
    events = await amo.all("/api/v4/events", "events", {"limit": 100})
    assert events == []
    assert _trail(emulator) == ["GET /api/v4/events 204"]


async def test_pages_are_followed_through_links_next(
    emulator: AmoEmulator, amo: AmoClient
) -> None:
    leads = await amo.all("/api/v4/leads", "leads", {"limit": 250, "with": "contacts"})
    assert len(leads) == 300 == len({x["id"] for x in leads})
    # A lead in Unsorted shows its contact only once accepted.
    unsorted = {u.lead_id for u in emulator.unsorted.values()}
    assert unsorted
    assert all(
        bool(x["_embedded"]["contacts"]) == (x["id"] not in unsorted) for x in leads
    )
    assert [r.query for r in emulator.log] == [
        "limit=250&with=contacts",
        "with=contacts&page=2&limit=250",
    ]


async def test_writes_go_in_batches_of_at_most_fifty(
    emulator: AmoEmulator, amo: AmoClient
) -> None:
    leads = sorted(emulator.leads)[:120]
    await amo.patch(
        "/api/v4/leads", [{"id": x, "responsible_user_id": 5003} for x in leads]
    )
    assert [r.status for r in emulator.log] == [200, 200, 200]
    assert all(emulator.leads[x].responsible_user_id == 5003 for x in leads)


async def test_a_refused_write_says_which_field_and_why(
    emulator: AmoEmulator, amo: AmoClient
) -> None:
    lead = min(emulator.leads)
    with pytest.raises(AmoRefused) as refused:
        await amo.patch("/api/v4/leads", [{"id": lead, "responsible_user_id": 5008}])
    message = str(refused.value)
    assert "PATCH /api/v4/leads (400 Bad Request)" in message
    assert "item 0: responsible_user_id: NotSupportedChoice" in message
