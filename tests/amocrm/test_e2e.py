"""Claims, widget tokens, webhooks, 429s and outages with the product in amoCRM mode."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import col

from leadrouter.amocrm_token import audience_of, issue_widget_token
from leadrouter.clock import FixedClock
from services.crm.amocrm.emulator import AmoEmulator, LoggedRequest
from services.crm.tables import Event
from tests.amocrm.harness import CLAIM, AmoStack, eventually, running_amo_stack

EMULATED_LEADS = 60
WORKSPACE = """
account: {timezone: Asia/Tomsk}
groups:
  - id: main
    source_stages: ["7001/70011"]
    target_stage: "7001/70012"
    exchange_users: ["5007"]
    cascade: true
    members:
      - {user: "5002"}
      - {user: "5003"}
      - {user: "5004"}
"""
POOL = '{ pool(groupId: "main", first: 100) { totalCount edges { node { id } } } }'


@pytest.fixture
async def amo_stack(
    emulator: AmoEmulator,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[AmoStack]:
    async with running_amo_stack(
        emulator, clock, tmp_path, monkeypatch, WORKSPACE
    ) as amo:
        yield amo


@pytest.fixture
async def any_amo_stack(
    emulator: AmoEmulator,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str | None,
) -> AsyncIterator[AmoStack]:
    """The same, once on SQLite files and once on PostgreSQL."""
    async with running_amo_stack(
        emulator, clock, tmp_path, monkeypatch, WORKSPACE, database_url
    ) as amo:
        yield amo


def _log_since(emulator: AmoEmulator, mark: int) -> list[LoggedRequest]:
    return emulator.log[mark:]


async def test_a_claim_in_amocrm_mode_reaches_amocrm(any_amo_stack: AmoStack) -> None:
    amo_stack = any_amo_stack
    emulator = amo_stack.emulator
    oldest = emulator.pool()[0]
    assert [r.path for r in emulator.log[:2]] == [
        "/oauth2/access_token",  # the code exchanged for the first token pair
        "/api/v4/account",
    ]
    mark = len(emulator.log)

    claimed = await amo_stack.claim("5002", "press-1")

    assert claimed == {
        "__typename": "Claimed",
        "lead": {"id": str(oldest.id), "responsible": "5002", "stage": "70012"},
    }
    remote = emulator.leads[oldest.id]
    contacts = [emulator.contacts[c] for c in remote.contacts]
    await eventually(lambda: all(c.responsible_user_id == 5002 for c in contacts))
    assert (remote.responsible_user_id, remote.status_id) == (5002, 70012)
    trail = [f"{r.method} {r.path} {r.status}" for r in _log_since(emulator, mark)]
    assert trail[:2] == ["PATCH /api/v4/leads 200", "PATCH /api/v4/contacts 200"]
    # amoCRM's webhooks about our own write come back and change nothing.
    db = amo_stack.stack.dbs["crm"]
    await eventually(
        lambda: (
            len(emulator.deliveries) >= 2
            and all(d.status == 200 for d in emulator.deliveries)
            and amo_stack.webhooks_waiting() == 0
        )
    )
    with db.session() as s:
        moves = s.scalars(
            select(col(Event.type)).where(col(Event.lead_id) == str(oldest.id))
        ).all()
    assert moves == ["lead_created", "responsible_changed", "stage_changed"]
    pool = await amo_stack.stack.data(POOL)
    assert str(oldest.id) not in {e["node"]["id"] for e in pool["pool"]["edges"]}


async def test_a_widget_token_claims_as_that_amocrm_user(amo_stack: AmoStack) -> None:
    emulator = amo_stack.emulator

    def widget_token(account_id: int) -> str:
        return issue_widget_token(
            secret=emulator.client_secret,
            audience=audience_of(emulator.redirect_uri),
            account_id=account_id,
            user_id=5003,
            subdomain=emulator.subdomain,
            now=amo_stack.clock.now(),
        )

    http = amo_stack.stack.http
    token = widget_token(emulator.account_id)
    reply = await http.post(
        "/graphql",
        json={"query": CLAIM, "variables": {"k": "widget-1"}},
        headers={"X-Auth-Token": token},
    )
    claimed = reply.json()["data"]["claimLead"]
    assert claimed["__typename"] == "Claimed"
    assert claimed["lead"]["responsible"] == "5003"

    replayed = await http.post(
        "/graphql",
        json={"query": CLAIM, "variables": {"k": "widget-3"}},
        headers={"X-Auth-Token": token},
    )
    assert "used already" in replayed.json()["errors"][0]["message"]

    foreign = await http.post(
        "/graphql",
        json={"query": CLAIM, "variables": {"k": "widget-2"}},
        headers={"X-Auth-Token": widget_token(99999)},
    )
    errors = foreign.json()["errors"]
    assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "another amoCRM account" in errors[0]["message"]


async def test_the_widget_may_call_from_the_account_pages_only(
    amo_stack: AmoStack,
) -> None:
    async with httpx.AsyncClient(base_url=amo_stack.gateway_url) as http:
        allowed = await http.options(
            "/graphql",
            headers={
                "Origin": "https://emulated.amocrm.ru",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-auth-token",
            },
        )
        other = await http.options(
            "/graphql",
            headers={
                "Origin": "https://elsewhere.example",
                "Access-Control-Request-Method": "POST",
            },
        )
    assert allowed.status_code == 200
    assert (
        allowed.headers["access-control-allow-origin"] == "https://emulated.amocrm.ru"
    )
    assert other.status_code == 400


async def test_a_lead_added_in_amocrm_reaches_the_pool_through_a_webhook(
    amo_stack: AmoStack,
) -> None:
    emulator = amo_stack.emulator
    lead = await amo_stack.emulator.add_lead("Request from the site")
    assert emulator.deliveries[-1].status == 200
    assert emulator.deliveries[-1].url.startswith(
        f"{amo_stack.gateway_url}/webhooks/amocrm/"
    )

    async def in_pool() -> bool:
        pool = await amo_stack.stack.data(POOL)
        return str(lead.id) in {e["node"]["id"] for e in pool["pool"]["edges"]}

    deadline = time.monotonic() + 30
    while not await in_pool():
        assert time.monotonic() < deadline, "the new lead never reached the pool"
        await asyncio.sleep(0.05)


async def test_a_webhook_with_a_wrong_secret_is_not_taken(amo_stack: AmoStack) -> None:
    async with httpx.AsyncClient(base_url=amo_stack.gateway_url) as http:
        wrong = await http.post("/webhooks/amocrm/guess", content="leads[add][0][id]=1")
        right = await http.post(
            f"/webhooks/amocrm/{amo_stack.hook_secret}",
            content="account[subdomain]=emulated",
        )
    assert (wrong.status_code, right.status_code) == (404, 200)


async def test_claims_through_a_two_minute_outage_lose_and_double_nothing(
    any_amo_stack: AmoStack,
) -> None:
    amo_stack = any_amo_stack
    emulator, clock = amo_stack.emulator, amo_stack.clock
    emulator.outage(seconds=120)
    ends = emulator.outage_until
    assert ends is not None

    claimed = {
        user: (await amo_stack.claim(user, f"outage-{user}"))["lead"]["id"]
        for user in ("5002", "5003", "5004")
    }
    assert len(set(claimed.values())) == 3
    # A second press with the same key gives the same lead, not another.
    again = await amo_stack.claim("5002", "outage-5002")
    assert again["lead"]["id"] == claimed["5002"]

    def written() -> bool:
        return all(
            emulator.leads[int(lead)].responsible_user_id == int(user)
            for user, lead in claimed.items()
        )

    await eventually(written, meanwhile=lambda: clock.advance(timedelta(seconds=5)))
    patches = [
        r for r in emulator.log if r.method == "PATCH" and r.path.endswith("leads")
    ]
    assert any(r.status == 503 for r in patches)
    assert all(r.at >= ends for r in patches if r.status == 200)
    owners = [
        x.responsible_user_id
        for x in emulator.leads.values()
        if str(x.id) in claimed.values()
    ]
    assert sorted(owners) == [5002, 5003, 5004]


async def test_a_burst_of_429s_delays_a_write_but_loses_nothing(
    amo_stack: AmoStack,
) -> None:
    emulator = amo_stack.emulator
    other = {"Authorization": f"Bearer {emulator.issue_long_lived_token()}"}
    async with httpx.AsyncClient(base_url=emulator.url) as http:
        for _ in range(emulator.rate_limit):
            await http.get("/api/v4/account", headers=other)
    mark = len(emulator.log)

    lead = (await amo_stack.claim("5004", "burst-1"))["lead"]["id"]

    await eventually(lambda: emulator.leads[int(lead)].responsible_user_id == 5004)
    statuses = [r.status for r in _log_since(emulator, mark) if r.method == "PATCH"]
    assert statuses[0] == 429
    assert 200 in statuses
