"""Demo CRM history, dated relative to now so the demo's limits bite today."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

POOL_SIZE = 30
CHANNELS = ("call", "form", "email", "chat")


def demo_history(now: datetime, timezone: str = "Asia/Tomsk") -> list[str]:
    """Canonical history lines: a pool of new leads and some work of each manager."""
    events: list[dict[str, Any]] = []
    local = now.astimezone(ZoneInfo(timezone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    # Spaced out between local midnight and now, so they fall on "today" at any hour.
    since_midnight = local - midnight

    def at(delta: timedelta) -> str:
        return (now - delta).isoformat()

    for i in range(1, POOL_SIZE + 1):
        events.append(
            {
                "type": "lead_created",
                "at": at(timedelta(days=3, minutes=-17 * i)),
                "lead": f"P{i:03d}",
                "name": f"Request #{i}",
                "pipeline": "sales",
                "stage": "new",
                "responsible": "pool",
                "channel": CHANNELS[i % len(CHANNELS)],
                "contacts": [f"C{i:03d}"],
                "budget": 1000 * (i % 7 + 1),
            }
        )
    # Marina is at her active limit (5) and lost 4 leads today (limit 3).
    for i in range(1, 10):
        lead = f"M{i:03d}"
        events.append(
            {
                "type": "lead_created",
                "at": at(timedelta(days=10, hours=i)),
                "lead": lead,
                "name": f"Marina's deal #{i}",
                "pipeline": "sales",
                "stage": "taken",
                "responsible": "marina",
                "channel": "call",
            }
        )
    for i in range(6, 10):
        events.append(
            {
                "type": "stage_changed",
                "at": at(since_midnight * (i - 5) / 6),
                "lead": f"M{i:03d}",
                "to": "lost",
                "loss_reason": "too expensive" if i % 2 else "no answer",
            }
        )
    events.append(
        {
            "type": "task_created",
            "at": at(timedelta(days=4)),
            "task": "T-M1",
            "lead": "M001",
            "responsible": "marina",
            "deadline": at(timedelta(days=2)),
        }
    )
    # Ursula has three deals going and one sale this month.
    for i in range(1, 4):
        events.append(
            {
                "type": "lead_created",
                "at": at(timedelta(days=6, hours=i)),
                "lead": f"U{i:03d}",
                "name": f"Ursula's deal #{i}",
                "pipeline": "sales",
                "stage": "taken",
                "responsible": "ursula",
                "channel": "form",
            }
        )
    events.append(
        {
            "type": "stage_changed",
            "at": at(timedelta(days=1)),
            "lead": "U001",
            "to": "won",
        }
    )
    events.sort(key=lambda e: e["at"])
    return [json.dumps(e, ensure_ascii=False) for e in events]
