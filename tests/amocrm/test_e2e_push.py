"""Push in amoCRM mode: a lead added in amoCRM is given to a manager on duty there."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from leadrouter.clock import FixedClock
from services.crm.amocrm.emulator import AmoEmulator
from tests.amocrm.harness import AmoStack, eventually, running_amo_stack

EMULATED_LEADS = 40
# Leads tagged "webform" go to Ursula and Nadezhda in turn while they work
# (Monday 09-18 in Tomsk); the rest wait in the exchange for the button.
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
schedules:
  - {user: "5002", weekly: {mon: ["09:00-18:00"]}, presence: follow_schedule}
  - {user: "5003", weekly: {mon: ["09:00-18:00"]}, presence: follow_schedule}
templates:
  - id: webforms
    match: {tags: [webform]}
    participants: [{user: "5002"}, {user: "5003"}]
    algorithm: round_robin
    target_stage: "7001/70012"
"""


@pytest.fixture
async def amo_stack(
    emulator: AmoEmulator,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[AmoStack]:
    async with running_amo_stack(
        emulator,
        clock,
        tmp_path,
        monkeypatch,
        WORKSPACE,
        AMOCRM_TECHNICAL_USERS="5007",
    ) as amo:
        yield amo


async def test_a_lead_added_in_amocrm_is_pushed_to_a_manager_and_written_back(
    amo_stack: AmoStack,
) -> None:
    emulator = amo_stack.emulator
    before = {x.id: x.responsible_user_id for x in emulator.leads.values()}

    first = await emulator.add_lead("Form on the site", tags=["webform"])
    second = await emulator.add_lead("Another form", tags=["webform"])

    await eventually(
        lambda: (
            {
                emulator.leads[first.id].responsible_user_id,
                emulator.leads[second.id].responsible_user_id,
            }
            == {5002, 5003}
        )
    )
    assert emulator.leads[first.id].status_id == 70012
    # Leads that were there before the sync are the button's, not push's.
    assert {x: before[x] for x in before} == {
        x: emulator.leads[x].responsible_user_id for x in before
    }


async def test_a_form_in_unsorted_is_pushed_and_accepted_not_moved(
    amo_stack: AmoStack,
) -> None:
    emulator = amo_stack.emulator
    lead = await emulator.add_unsorted_lead("Form in Unsorted", tags=["webform"])

    await eventually(lambda: emulator.unsorted_of(lead.id) is None)

    await eventually(lambda: emulator.leads[lead.id].responsible_user_id != 5007)
    remote = emulator.leads[lead.id]
    assert remote.status_id == 70012
    assert remote.responsible_user_id in (5002, 5003)
    accepts = [r for r in emulator.log if r.path.endswith("/accept")]
    assert [r.status for r in accepts] == [200]
    assert not [r for r in emulator.log if r.method == "PATCH" and r.status >= 400]
