"""Manual mode in amoCRM mode: hand assignments reach amoCRM through the outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from leadrouter.clock import FixedClock
from services.crm.amocrm.emulator import AmoEmulator
from tests.amocrm.harness import AmoStack, eventually, running_amo_stack
from tests.amocrm.test_e2e import WORKSPACE
from tests.e2e.test_manual import ASSIGN


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


async def test_leads_assigned_by_hand_reach_amocrm_in_batches(
    amo_stack: AmoStack,
) -> None:
    emulator = amo_stack.emulator
    leads = [x.id for x in emulator.pool()]
    assert len(leads) > 50
    mark = len(emulator.log)
    data = await amo_stack.stack.data(
        ASSIGN,
        {
            "leads": [str(x) for x in leads],
            "users": ["5002", "5003"],
            "cascade": True,
            "key": "by-hand",
            "dry": False,
        },
    )
    result = data["assignLeads"]
    assert (result["leads"], result["batches"]) == (len(leads), -(-len(leads) // 50))
    want = {lead: (5002, 5003)[i % 2] for i, lead in enumerate(leads)}
    await eventually(
        lambda: all(
            (emulator.leads[x].responsible_user_id, emulator.leads[x].status_id)
            == (want[x], 70012)
            for x in leads
        )
    )
    patches = [
        r
        for r in emulator.log[mark:]
        if (r.method, r.path) == ("PATCH", "/api/v4/leads")
    ]
    # Batched writes: each PATCH carries at most 50 leads, and together they
    # carry every lead handed out.
    sizes = [r.items for r in patches]
    assert max(sizes) <= 50
    assert sum(sizes) >= len(leads)
    assert len(patches) >= -(-len(leads) // 50)
