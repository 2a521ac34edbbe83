"""The emulator's webhooks fail as amoCRM's do: retried after 5 and 15 minutes for
any failure, after 15 minutes and an hour more only for 499/5xx, switched off
after more than 100 failed answers in 2 hours, and refused on a small plan."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadrouter.clock import FixedClock
from services.crm.amocrm.emulator import AmoEmulator
from tests.amocrm.conftest import Receiver
from tests.amocrm.test_emulator_account import Api, api

EMULATED_LEADS = 20
__all__ = ["api"]


async def _subscribe(api: Api, receiver: Receiver) -> None:
    reply = await api.send(
        "POST",
        "/api/v4/webhooks",
        {"destination": receiver.url, "settings": ["add_lead"]},
    )
    assert reply.status_code == 201


async def _minutes_of_attempts(
    emulator: AmoEmulator, clock: FixedClock, hours: int = 3
) -> list[int]:
    """Moves the clock a minute at a time; when each attempt went, in minutes."""
    start = clock.now()
    for _ in range(hours * 60):
        clock.advance(timedelta(minutes=1))
        await emulator.deliver_due()
    return [
        int((d.at - start).total_seconds() // 60)
        for d in emulator.deliveries
        if d.at is not None
    ]


@pytest.mark.parametrize(
    ("status", "minutes"),
    [
        (500, [0, 5, 20, 35, 95]),  # 5 min, 15 min, then 15 min and 1 h for 5xx
        (499, [0, 5, 20, 35, 95]),
        (404, [0, 5, 20]),  # any other failure: 5 and 15 minutes only
        (302, [0, 5, 20]),
    ],
)
async def test_a_failed_webhook_is_retried_on_amocrms_schedule(
    emulator: AmoEmulator,
    api: Api,
    receiver: Receiver,
    clock: FixedClock,
    status: int,
    minutes: list[int],
) -> None:
    await _subscribe(api, receiver)
    receiver.status = status
    await emulator.add_lead("Site request")
    assert await _minutes_of_attempts(emulator, clock) == minutes
    assert len(receiver.bodies) == len(minutes)
    assert len(set(receiver.bodies)) == 1  # the same body every time


async def test_a_retry_that_succeeds_ends_the_schedule(
    emulator: AmoEmulator, api: Api, receiver: Receiver, clock: FixedClock
) -> None:
    await _subscribe(api, receiver)
    receiver.status = 503
    await emulator.add_lead("Site request")
    receiver.status = 200
    assert await _minutes_of_attempts(emulator, clock) == [0, 5]


async def test_more_than_100_failures_in_two_hours_switch_the_hook_off(
    emulator: AmoEmulator, api: Api, receiver: Receiver, clock: FixedClock
) -> None:
    await _subscribe(api, receiver)
    receiver.status = 500
    for n in range(101):
        await emulator.add_lead(f"Request {n}")
        clock.advance(timedelta(seconds=30))
    (hook,) = (await api.get("/api/v4/webhooks")).json()["_embedded"]["webhooks"]
    assert hook["disabled"] is True
    sent = len(receiver.bodies)
    await emulator.add_lead("One more")
    clock.advance(timedelta(hours=2))
    await emulator.deliver_due()
    assert len(receiver.bodies) == sent  # a switched-off hook gets nothing

    # Saving the hook again (a POST to the same address) switches it back on.
    await _subscribe_again(api, receiver)
    receiver.status = 200
    await emulator.add_lead("After")
    assert len(receiver.bodies) == sent + 1


async def _subscribe_again(api: Api, receiver: Receiver) -> None:
    reply = await api.send(
        "POST",
        "/api/v4/webhooks",
        {"destination": receiver.url, "settings": ["add_lead"]},
    )
    assert reply.status_code == 200
    assert reply.json()["disabled"] is False


async def test_100_failures_spread_over_more_than_two_hours_keep_the_hook(
    emulator: AmoEmulator, api: Api, receiver: Receiver, clock: FixedClock
) -> None:
    await _subscribe(api, receiver)
    receiver.status = 404  # two retries each: three failures a lead
    for n in range(40):
        await emulator.add_lead(f"Request {n}")
        clock.advance(timedelta(minutes=6))
        await emulator.deliver_due()
    (hook,) = (await api.get("/api/v4/webhooks")).json()["_embedded"]["webhooks"]
    assert hook["disabled"] is False


async def test_a_plan_without_api_webhooks_refuses_to_set_them(
    emulator: AmoEmulator, api: Api, receiver: Receiver
) -> None:
    emulator.plan_allows_webhooks = False
    reply = await api.send(
        "POST",
        "/api/v4/webhooks",
        {"destination": receiver.url, "settings": ["add_lead"]},
    )
    assert reply.status_code == 402
    assert "plan" in reply.json()["detail"]
    assert (await api.get("/api/v4/account")).status_code == 200  # the rest works
