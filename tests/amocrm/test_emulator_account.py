"""The emulator does what a real account does that a happy path never shows:
deletions and restores, merges, timed blocks, an ended subscription, Unsorted."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from leadrouter.clock import FixedClock
from services.crm.amocrm.emulator import AmoEmulator
from tests.amocrm.conftest import Receiver

EMULATED_LEADS = 60


class Api:
    """Raw requests with a valid token: statuses as amoCRM gives them."""

    def __init__(self, emulator: AmoEmulator, http: httpx.AsyncClient) -> None:
        self.base = emulator.url
        self.http = http
        self.headers = {"Authorization": f"Bearer {emulator.issue_long_lived_token()}"}

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.http.get(
            self.base + path, params=params, headers=self.headers
        )

    async def send(self, method: str, path: str, body: Any) -> httpx.Response:
        return await self.http.request(
            method, self.base + path, json=body, headers=self.headers
        )


@pytest.fixture
def api(emulator: AmoEmulator, http: httpx.AsyncClient) -> Api:
    return Api(emulator, http)


async def _hooked(api: Api, receiver: Receiver, settings: list[str]) -> list[str]:
    """Subscribes the receiver to `settings`; returns the bodies it gets."""
    reply = await api.send(
        "POST", "/api/v4/webhooks", {"destination": receiver.url, "settings": settings}
    )
    assert reply.status_code == 201
    return receiver.bodies


async def test_a_deleted_lead_answers_204_and_waits_in_the_trash(
    emulator: AmoEmulator, api: Api, receiver: Receiver
) -> None:
    bodies = await _hooked(api, receiver, ["delete_lead", "restore_lead"])
    lead = emulator.pool()[0]

    await emulator.delete_lead(lead.id, by=5002)

    assert (await api.get(f"/api/v4/leads/{lead.id}")).status_code == 204
    listed = (await api.get("/api/v4/leads", limit=250)).json()["_embedded"]["leads"]
    assert lead.id not in {x["id"] for x in listed}
    trash = (await api.get("/api/v4/leads", **{"with": "only_deleted"})).json()
    assert trash["_embedded"]["leads"][0]["id"] == lead.id
    assert trash["_embedded"]["leads"][0]["is_deleted"] is True
    events = (
        await api.get("/api/v4/events", **{"filter[type]": "lead_deleted"})
    ).json()
    (event,) = events["_embedded"]["events"]
    assert (event["entity_id"], event["created_by"]) == (lead.id, 5002)
    assert parse_qs(bodies[-1])["leads[delete][0][id]"] == [str(lead.id)]

    await emulator.restore_lead(lead.id, by=5001)

    again = await api.get(f"/api/v4/leads/{lead.id}")
    assert again.status_code == 200
    assert again.json()["status_id"] == lead.status_id
    assert parse_qs(bodies[-1])["leads[restore][0][id]"] == [str(lead.id)]
    kinds = (
        await api.get("/api/v4/events", **{"filter[entity][]": "lead", "limit": 100})
    ).json()["_embedded"]["events"]
    assert [e["type"] for e in kinds[:2]] == ["lead_restored", "lead_deleted"]


async def test_a_deleted_task_answers_204_and_leaves_the_list(
    emulator: AmoEmulator, api: Api
) -> None:
    task = next(t for t in emulator.tasks.values() if not t.is_completed)
    await emulator.delete_task(task.id, by=5003)
    assert (await api.get(f"/api/v4/tasks/{task.id}")).status_code == 204
    listed = (await api.get("/api/v4/tasks", limit=250)).json()["_embedded"]["tasks"]
    assert task.id not in {t["id"] for t in listed}
    events = (
        await api.get("/api/v4/events", **{"filter[type]": "task_deleted"})
    ).json()
    assert events["_embedded"]["events"][0]["created_by"] == 5003


async def test_a_merge_deletes_one_lead_and_changes_the_other(
    emulator: AmoEmulator, api: Api
) -> None:
    keep, absorbed = emulator.pool()[:2]
    await emulator.merge_leads(keep.id, absorbed.id, responsible_user_id=5004)
    assert (await api.get(f"/api/v4/leads/{absorbed.id}")).status_code == 204
    kept = (await api.get(f"/api/v4/leads/{keep.id}", **{"with": "contacts"})).json()
    assert kept["responsible_user_id"] == 5004
    assert {c["id"] for c in kept["_embedded"]["contacts"]} >= set(absorbed.contacts)
    types = [
        e["type"]
        for e in (await api.get("/api/v4/events", limit=100)).json()["_embedded"][
            "events"
        ]
    ]
    assert {"lead_deleted", "entity_merged", "entity_responsible_changed"} <= set(types)


async def test_a_block_refuses_every_request_until_it_ends(
    emulator: AmoEmulator, api: Api, clock: FixedClock
) -> None:
    emulator.block(120)
    refused = await api.get("/api/v4/account")
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    write = await api.send("PATCH", "/api/v4/leads", [{"id": 1, "price": 1}])
    assert write.status_code == 403
    clock.advance(timedelta(seconds=119))
    assert (await api.get("/api/v4/users")).status_code == 403
    clock.advance(timedelta(seconds=1))
    assert (await api.get("/api/v4/users")).status_code == 200


async def test_repeated_overruns_of_the_rate_block_the_account(
    emulator: AmoEmulator, api: Api, clock: FixedClock
) -> None:
    emulator.overruns_to_block = 3
    statuses = [(await api.get("/api/v4/account")).status_code for _ in range(10)]
    assert statuses == [200] * 7 + [429, 429, 429]
    clock.advance(timedelta(seconds=2))
    assert (await api.get("/api/v4/account")).status_code == 403
    clock.advance(emulator.block_for)
    assert (await api.get("/api/v4/account")).status_code == 200


async def test_an_ended_subscription_refuses_everything_with_402(
    emulator: AmoEmulator, api: Api
) -> None:
    emulator.end_subscription()
    assert (await api.get("/api/v4/leads")).status_code == 402
    assert (await api.get("/api/v4/account")).status_code == 402
    emulator.pay()
    assert (await api.get("/api/v4/account")).status_code == 200


async def test_a_lead_in_unsorted_refuses_a_stage_change_and_is_accepted(
    emulator: AmoEmulator, api: Api
) -> None:
    lead = await emulator.add_unsorted_lead("Form request")
    assert lead.status_id == 70010

    moved = await api.send(
        "PATCH", "/api/v4/leads", [{"id": lead.id, "status_id": 70012}]
    )
    assert moved.status_code == 400
    assert moved.json()["validation-errors"][0]["errors"] == [
        {
            "code": "NotSupportedChoice",
            "path": "status_id",
            "detail": "The value you selected is not a valid choice.",
        }
    ]
    before = (await api.get(f"/api/v4/leads/{lead.id}", **{"with": "contacts"})).json()
    assert before["_embedded"]["contacts"] == []  # not reachable before accepting

    waiting = (
        await api.get("/api/v4/leads/unsorted", **{"filter[pipeline_id]": 7001})
    ).json()["_embedded"]["unsorted"]
    uid = next(u["uid"] for u in waiting if u["_embedded"]["leads"][0]["id"] == lead.id)
    assert (
        await api.send("POST", "/api/v4/leads/unsorted/nope/accept", {})
    ).status_code == 404
    accepted = await api.send(
        "POST",
        f"/api/v4/leads/unsorted/{uid}/accept",
        {"user_id": 5002, "status_id": 70012},
    )

    assert accepted.status_code == 200
    assert accepted.json()["_embedded"]["leads"][0]["id"] == lead.id
    after = (await api.get(f"/api/v4/leads/{lead.id}", **{"with": "contacts"})).json()
    assert after["status_id"] == 70012
    assert [c["id"] for c in after["_embedded"]["contacts"]] == lead.contacts
    gone = await api.get("/api/v4/leads/unsorted", **{"filter[uid]": uid})
    assert gone.status_code == 204


async def test_open_tasks_are_read_without_the_completed_ones(
    emulator: AmoEmulator, api: Api
) -> None:
    listed = (
        await api.get("/api/v4/tasks", limit=250, **{"filter[is_completed]": 0})
    ).json()["_embedded"]["tasks"]
    assert listed and not any(t["is_completed"] for t in listed)
    assert len(listed) == sum(1 for t in emulator.tasks.values() if not t.is_completed)
