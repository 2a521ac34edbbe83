"""Test data: a small workspace and helpers to write CRM history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

WORKSPACE = """
account: {timezone: Asia/Tomsk}
users:
  - {id: head, name: Head}
  - {id: ursula, name: Ursula}
  - {id: nadezhda, name: Nadezhda}
  - {id: marina, name: Marina}
  - {id: pavel, name: Pavel}
  - {id: pool, name: Lead exchange, technical: true}
pipelines:
  - id: sales
    stages:
      - {id: new, kind: open}
      - {id: taken, kind: open}
      - {id: meeting, kind: open}
      - {id: won, kind: won}
      - {id: lost, kind: lost}
groups:
  - id: main
    source_stages: [sales/new]
    target_stage: sales/taken
    key_stage: sales/meeting
    exchange_users: [pool]
    cascade: true
    members:
      - {user: ursula}
      - {user: nadezhda}
      - {user: marina, limits: {max_active: 2}}
      - {user: pavel, enabled: false}
"""


def lead_created(
    lead: str,
    at: datetime,
    *,
    responsible: str = "pool",
    stage: str = "new",
    contacts: list[str] | None = None,
    channel: str = "form",
) -> dict[str, Any]:
    return {
        "type": "lead_created",
        "at": at.isoformat(),
        "lead": lead,
        "name": f"Lead {lead}",
        "pipeline": "sales",
        "stage": stage,
        "responsible": responsible,
        "channel": channel,
        "contacts": contacts or [],
    }
