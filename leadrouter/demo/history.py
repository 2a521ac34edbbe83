"""The demo account's past: a generated stream, decided by the product's engine.

The stream is what people and partner systems did over the last DAYS days:
requests and calls arriving in the inbox, the managers working the leads
they get (a meeting, a task, a sale or a loss), presses of the button. Who
gets each lead is not in it: the assigner's RecordHistory runs the engine
over the stream with the demo workspace, exactly as live push and the
button would have, and records the outcome as the account's history and
journal. So the demo's past is what the product would have done, and
what-if with the demo workspace over those days reproduces it.

Dated relative to now, so the demo's limits bite today at any hour: Marina
is at her active limit and lost four leads today; the pool holds a backlog
from before the range for the button.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from leadrouter.assigner.v1 import assigner_pb2
from leadrouter.clients import Clients
from leadrouter.errors import Problem
from leadrouter.timestamps import to_ts

DAYS = 14
POOL_SIZE = 30  # the backlog waiting for the button before the range
CHANNELS = ("call", "call", "form", "email", "chat")
RECORD_SECONDS = 600.0
LOSS_REASONS = ("too expensive", "no answer", "competitor")
OWNER = "(owner)"  # a task's owner: whoever has its lead then (RecordHistory)
# Who presses the button, and in which hours of the local day.
PRESSERS = {
    "ursula": range(10, 18),
    "nadezhda": range(9, 16),
    "marina": range(17, 23),
    "pavel": range(11, 12),  # a disabled member: refused for that
}


@dataclass(frozen=True)
class Stream:
    lines: list[str]
    presses: list[tuple[datetime, str, str]]  # (at, user, group)
    start: datetime
    end: datetime


def demo_stream(
    now: datetime,
    timezone: str = "Asia/Tomsk",
    *,
    days: int = DAYS,
    seed: int = 1,
    leads_per_day: int = 20,
) -> Stream:
    """The demo's stream up to `now`: arrivals and work in the last `days`."""
    rng = random.Random(seed)
    tz = ZoneInfo(timezone)
    start = now - timedelta(days=days)
    events: list[dict[str, Any]] = []
    events += _backlog(start)
    events += _marinas_deals(now, tz)
    local = now.astimezone(tz)
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    task = 0
    for day in range(days):
        for n in range(leads_per_day):
            at = start + timedelta(days=day, seconds=rng.randrange(86_400))
            lead = f"D{day:02d}{n:02d}"
            events.append(
                arrival(
                    lead, at, "pool", rng.choice(CHANNELS), 1000 * rng.randrange(1, 20)
                )
            )
            task += 1
            events += _work(rng, lead, at, f"DT{task}", today)
    presses = _presses(rng, start, now, tz)
    return Stream(as_lines(events, now), presses, start, now)


def arrival(
    lead: str, at: datetime, responsible: str, channel: str, budget: int
) -> dict[str, Any]:
    """A request that comes into the sales pipeline's first stage."""
    return {
        "type": "lead_created",
        "at": at,
        "lead": lead,
        "name": f"Request {lead}",
        "pipeline": "sales",
        "stage": "new",
        "responsible": responsible,
        "channel": channel,
        "budget": budget,
    }


def as_lines(events: list[dict[str, Any]], end: datetime) -> list[str]:
    """The events before `end` as the history file's lines, in time order."""
    kept = sorted((e for e in events if e["at"] < end), key=lambda e: e["at"])
    return [
        json.dumps(
            {k: v.isoformat() if isinstance(v, datetime) else v for k, v in e.items()},
            ensure_ascii=False,
        )
        for e in kept
    ]


def _backlog(start: datetime) -> list[dict[str, Any]]:
    """Requests from an exhibition, imported before the range: the pool."""
    return [
        {
            "type": "lead_created",
            "at": start - timedelta(days=3, minutes=-17 * i),
            "lead": f"P{i:03d}",
            "name": f"Exhibition contact #{i}",
            "pipeline": "sales",
            "stage": "new",
            "responsible": "pool",
            "channel": "form",
            "contacts": [f"C{i:03d}"],
            "budget": 1000 * (i % 7 + 1),
        }
        for i in range(1, POOL_SIZE + 1)
    ]


def _marinas_deals(now: datetime, tz: ZoneInfo) -> list[dict[str, Any]]:
    """Marina's own deals: at her active limit (5), four lost today (limit 3)."""
    local = now.astimezone(tz)
    since_midnight = local - local.replace(hour=0, minute=0, second=0, microsecond=0)
    out: list[dict[str, Any]] = []
    for i in range(1, 10):
        out.append(
            {
                "type": "lead_created",
                "at": now - timedelta(days=DAYS + 1, hours=i),
                "lead": f"M{i:03d}",
                "name": f"Marina's deal #{i}",
                "pipeline": "sales",
                "stage": "taken",
                "responsible": "marina",
                "channel": "call",
            }
        )
    for i in range(6, 10):
        out.append(
            {
                "type": "stage_changed",
                "at": now - since_midnight * (i - 5) / 6,
                "lead": f"M{i:03d}",
                "to": "lost",
                "loss_reason": "too expensive" if i % 2 else "no answer",
            }
        )
    return out


def _work(
    rng: random.Random, lead: str, at: datetime, task: str, today: datetime
) -> list[dict[str, Any]]:
    """What whoever gets the lead does with it: soon, late, or never.

    Nobody closes a generated lead today: today's losses are Marina's four.
    """
    out: list[dict[str, Any]] = []
    # Most are taken into work within minutes; some wait hours, and go to a
    # colleague when their owner's shift ends first.
    soon = rng.random() < 0.85
    minutes = rng.randrange(3, 25) if soon else rng.randrange(40, 300)
    touched = at + timedelta(minutes=minutes)
    out.append({"type": "stage_changed", "at": touched, "lead": lead, "to": "meeting"})
    if rng.random() < 0.5:
        # Done before its deadline: the demo's overdue counts are its own.
        out.append(
            {
                "type": "task_created",
                "at": touched,
                "task": task,
                "lead": lead,
                "responsible": OWNER,
                "deadline": touched + timedelta(days=1),
            }
        )
        out.append(
            {
                "type": "task_completed",
                "at": touched + timedelta(hours=rng.randrange(1, 20)),
                "task": task,
            }
        )
    closed = touched + timedelta(hours=rng.randrange(4, 48))
    out += closing(rng, lead, closed, won=0.4, lost=0.5, allowed=closed < today)
    return out


def closing(
    rng: random.Random,
    lead: str,
    at: datetime,
    *,
    won: float,
    lost: float,
    allowed: bool = True,
) -> list[dict[str, Any]]:
    """Won with chance `won`, lost (with a reason) with `lost`, or still open."""
    outcome = rng.random()
    if not allowed or outcome >= won + lost:
        return []
    if outcome < won:
        return [{"type": "stage_changed", "at": at, "lead": lead, "to": "won"}]
    reason = rng.choice(LOSS_REASONS)
    return [
        {"type": "stage_changed", "at": at, "lead": lead, "to": "lost"}
        | {"loss_reason": reason}
    ]


def _presses(
    rng: random.Random, start: datetime, end: datetime, tz: ZoneInfo
) -> list[tuple[datetime, str, str]]:
    out: list[tuple[datetime, str, str]] = []
    day = start.astimezone(tz).date()
    while day <= end.astimezone(tz).date():
        for user, hours in PRESSERS.items():
            if day.weekday() >= 5 or rng.random() < 0.5:
                continue
            hour = rng.choice(list(hours))
            at = datetime(
                day.year, day.month, day.day, hour, rng.randrange(60), tzinfo=tz
            )
            if start <= at < end:
                out.append((at, user, "main"))
        day += timedelta(days=1)
    return sorted(out)


async def record_demo(
    clients: Clients, account: str, workspace_yaml: str, now: datetime
) -> list[Problem]:
    """Has the assigner record the demo's past (the workspace applied first)."""
    return await record_stream(clients, account, workspace_yaml, demo_stream(now))


async def record_stream(
    clients: Clients,
    account: str,
    workspace_yaml: str,
    stream: Stream,
    timeout: float = RECORD_SECONDS,
) -> list[Problem]:
    """Has the assigner decide a stream with the workspace, and keep it as the past.

    `timeout` is the whole recording's (see below).
    """
    request = assigner_pb2.RecordHistoryRequest(
        account=account, workspace_yaml=workspace_yaml, lines=stream.lines
    )
    getattr(request, "from").CopyFrom(to_ts(stream.start))  # `from` is a keyword
    request.to.CopyFrom(to_ts(stream.end))
    for at, user, group in stream.presses:
        request.presses.add(at=to_ts(at), user_id=user, group_id=group)
    # Two weeks of an account decided one by one: a batch job, not a request
    # with a person waiting, so it gets minutes rather than the usual seconds
    # (a busy machine must not lose the demo to a deadline).
    reply = await clients.assigner.record_history(request, timeout=timeout)
    return [Problem(p.path, p.message) for p in reply.problems]
