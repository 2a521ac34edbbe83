"""Workspaces, CRM history and GraphQL reads for the limits' end-to-end tests."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from leadrouter.cli import import_lines
from tests.stack import Stack

TOMSK = ZoneInfo("Asia/Tomsk")
BERLIN = ZoneInfo("Europe/Berlin")

# Three pipelines: the main one, a second live one (limits count "in all
# pipelines") and an archived one (ignored by every limit).
PIPELINES = """
pipelines:
  - id: sales
    stages:
      - {id: new, kind: open}
      - {id: taken, kind: open}
      - {id: meeting, name: Meeting held, kind: open}
      - {id: parked, kind: open}
      - {id: won, kind: won}
      - {id: won_internal, kind: won}
      - {id: lost, kind: lost}
      - {id: spam, kind: lost}
  - id: rentals
    stages:
      - {id: new, kind: open}
      - {id: viewing, kind: open}
      - {id: signed, kind: won}
      - {id: refused, kind: lost}
  - id: old
    archived: true
    stages:
      - {id: open, kind: open}
      - {id: meeting, kind: open}
      - {id: done, kind: won}
      - {id: gone, kind: lost}
"""


def workspace(
    limits: dict[str, dict[str, int]],
    *,
    timezone: str = "Asia/Tomsk",
    counting: dict[str, Any] | None = None,
    disabled: tuple[str, ...] = (),
) -> str:
    """A workspace whose group `main` has the given members with these limits.

    `counting` overrides the group's counting settings (excluded_stages,
    sale_stages, loss_stages, key_stage).
    """
    settings: dict[str, Any] = {"key_stage": "sales/meeting"}
    settings.update(counting or {})
    members = [{"user": user, "limits": values} for user, values in limits.items()] + [
        {"user": user, "enabled": False} for user in disabled
    ]
    # JSON is YAML's flow style, so values go in without any quoting worries.
    group_lines = "".join(
        f"    {key}: {json.dumps(value)}\n" for key, value in settings.items()
    )
    member_lines = "".join(f"      - {json.dumps(m)}\n" for m in members)
    return (
        f"account: {{timezone: {timezone}}}\n"
        "users:\n"
        "  - {id: head, name: Head of sales}\n"
        "  - {id: ursula, name: Ursula}\n"
        "  - {id: nadezhda, name: Nadezhda}\n"
        "  - {id: marina, name: Marina}\n"
        "  - {id: pool, name: Lead exchange, technical: true}\n"
        f"{PIPELINES}"
        "groups:\n"
        "  - id: main\n"
        "    source_stages: [sales/new]\n"
        "    target_stage: sales/taken\n"
        "    exchange_users: [pool]\n"
        "    cascade: true\n"
        f"{group_lines}"
        "    members:\n"
        f"{member_lines}"
    )


async def apply(stack: Stack, yaml_text: str) -> None:
    result = await stack.apply(yaml_text)
    assert result["ok"], result["problems"]


def local(text: str, tz: ZoneInfo = TOMSK) -> datetime:
    """'2026-05-20 10:00' as a wall-clock time of the account's zone."""
    return datetime.fromisoformat(text).replace(tzinfo=tz)


_files = itertools.count(1)


@dataclass
class History:
    """Canonical CRM events, written as a JSON Lines history file."""

    events: list[dict[str, Any]] = field(default_factory=list)

    def _add(self, type_: str, at: datetime, **fields: Any) -> History:
        self.events.append({"type": type_, "at": at.isoformat(), **fields})
        return self

    def lead(
        self,
        lead: str,
        at: datetime,
        *,
        owner: str = "pool",
        stage: str = "new",
        pipeline: str = "sales",
    ) -> History:
        return self._add(
            "lead_created",
            at,
            lead=lead,
            name=f"Lead {lead}",
            pipeline=pipeline,
            stage=stage,
            responsible=owner,
            channel="form",
        )

    def move(
        self,
        lead: str,
        at: datetime,
        to: str,
        *,
        pipeline: str | None = None,
        loss_reason: str | None = None,
    ) -> History:
        extra: dict[str, Any] = {}
        if pipeline is not None:
            extra["pipeline"] = pipeline
        if loss_reason is not None:
            extra["loss_reason"] = loss_reason
        return self._add("stage_changed", at, lead=lead, to=to, **extra)

    def hand(self, lead: str, at: datetime, to: str) -> History:
        return self._add("responsible_changed", at, lead=lead, to=to)

    def reopen(self, lead: str, at: datetime, by: str = "head") -> History:
        return self._add("lead_reopened", at, lead=lead, by=by)

    def task(
        self,
        task: str,
        at: datetime,
        *,
        owner: str,
        deadline: datetime,
        lead: str | None = None,
    ) -> History:
        extra = {"lead": lead} if lead is not None else {}
        return self._add(
            "task_created",
            at,
            task=task,
            responsible=owner,
            deadline=deadline.isoformat(),
            **extra,
        )

    def complete(self, task: str, at: datetime) -> History:
        return self._add("task_completed", at, task=task)

    async def load(self, stack: Stack, directory: Path) -> None:
        """Imports the events as `leadrouter import FILE` does, then forgets them."""
        path = directory / f"history-{next(_files)}.jsonl"
        path.write_text("".join(json.dumps(e) + "\n" for e in self.events))
        status = await import_lines(
            stack.clients, stack.account, path.read_text().splitlines(), str(path)
        )
        assert status == 0, f"{path} was not imported"
        self.events.clear()


ELIGIBILITY = """
query($g: ID!, $u: [ID!], $at: DateTime) {
  eligibility(groupId: $g, userIds: $u, at: $at) {
    userId membership eligible
    limits { limit value threshold passed passesAt periodCount }
  }
}
"""

CLAIM = """
mutation($g: ID!, $k: String) {
  claimLead(groupId: $g, idempotencyKey: $k) {
    __typename
    ... on Claimed { lead { id responsible stage } }
    ... on Refused {
      reasons { code limit value threshold passesAt periodCount }
    }
  }
}
"""


def instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _verdict(raw: dict[str, Any]) -> dict[str, Any]:
    return {**raw, "passesAt": instant(raw["passesAt"])}


@dataclass
class Seen:
    """One user's eligibility as the manager sees it."""

    membership: str
    eligible: bool
    limits: dict[str, dict[str, Any]]


async def eligibility(
    stack: Stack, user: str, at: datetime | None = None, group: str = "main"
) -> Seen:
    """The user's own eligibility, asked by the user (a manager)."""
    variables: dict[str, Any] = {"g": group}
    if at is not None:
        variables["at"] = at.isoformat()
    data = await stack.data(ELIGIBILITY, variables, user=user, role="manager")
    (row,) = data["eligibility"]
    assert row["userId"] == user
    return Seen(
        membership=row["membership"],
        eligible=row["eligible"],
        limits={v["limit"]: _verdict(v) for v in row["limits"]},
    )


async def limit(
    stack: Stack, user: str, name: str, at: datetime | None = None
) -> dict[str, Any]:
    """One limit's verdict for the user, without the repeated name."""
    seen = await eligibility(stack, user, at)
    verdict = dict(seen.limits[name])
    del verdict["limit"]
    return verdict


def verdict(
    value: int | None,
    threshold: int,
    passed: bool,
    passes_at: datetime | None = None,
    period_count: int | None = None,
) -> dict[str, Any]:
    return {
        "value": value,
        "threshold": threshold,
        "passed": passed,
        "passesAt": passes_at,
        "periodCount": period_count,
    }


async def claim(stack: Stack, user: str, key: str | None = None) -> dict[str, Any]:
    """The manager presses "Get lead"; refusal reasons come back keyed by limit."""
    data = await stack.data(CLAIM, {"g": "main", "k": key}, user=user, role="manager")
    result: dict[str, Any] = data["claimLead"]
    if result["__typename"] == "Refused":
        result["reasons"] = [
            {**r, "passesAt": instant(r["passesAt"])} for r in result["reasons"]
        ]
    return result


def refusal(
    name: str,
    value: int | None,
    threshold: int,
    passes_at: datetime | None = None,
    period_count: int | None = None,
) -> dict[str, Any]:
    """A claim refusal reason for a failing limit, as the manager reads it."""
    return {
        "code": "limit",
        "limit": name,
        "value": value,
        "threshold": threshold,
        "passesAt": passes_at,
        "periodCount": period_count,
    }
