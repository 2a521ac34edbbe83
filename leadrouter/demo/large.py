"""A large generated account: forty managers, a month, three thousand leads.

What a bigger sales floor than the demo's looks like: two teams (calls and
written requests) on 5/2 and 2/2 shifts, limits that bite, four templates
of four algorithms with SLA timers, and a channel no template takes, left to
the button. As with the demo, the stream holds only what people and partner
systems did; RecordHistory has the engine decide who got each lead, so the
account's past is what the product would have done. Deterministic by seed.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from leadrouter.demo.history import OWNER, Stream, arrival, as_lines, closing

TIMEZONE = "Asia/Tomsk"
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
# Calls three times in eight; whatsapp is taken by no template: the button's.
CHANNELS = ("call", "call", "call", "form", "form", "chat", "email", "whatsapp")
BUTTONS = "whatsapp"
FIRST = ("Anna", "Boris", "Vera", "Gleb", "Daria", "Egor", "Zoya", "Ivan")
LAST = ("Orlova", "Petrov", "Sokolova", "Titov", "Frolova")


def managers(count: int) -> list[tuple[str, str]]:
    """(id, name) of each manager; names are distinct up to 40 managers."""
    return [
        (
            f"m{i + 1:02d}",
            f"{FIRST[i % len(FIRST)]} {LAST[i // len(FIRST) % len(LAST)]}",
        )
        for i in range(count)
    ]


def _team(ids: list[str], weighted: bool = False) -> list[dict[str, Any]]:
    return [
        {"user": u, "weight": 1 + i % 3} if weighted else {"user": u}
        for i, u in enumerate(ids)
    ]


def _limits(i: int) -> dict[str, int]:
    limits = {
        "max_active": 25,
        "max_new_today": 10,
        "max_lost_today": 3,
        "max_overdue_tasks": 2,
    }
    if i % 3 == 0:
        limits["interval_minutes"] = 20
    if i % 5 == 0:
        limits["days_without_sales"] = 10
    return limits


def workspace(count: int = 40, first: date = date(2026, 1, 1)) -> str:
    """The account's workspace YAML: half the managers on calls, half on the rest."""
    people = managers(count)
    ids = [u for u, _ in people]
    calls, written = ids[: count // 2], ids[count // 2 :]
    # Three in five work 5/2 in the day, the rest 2/2 from morning to night,
    # half of them starting two days later: some of them are on every day.
    weekly = [u for i, u in enumerate(ids) if i % 5 < 3]
    shifts = [u for u in ids if u not in weekly]
    spec: dict[str, Any] = {
        "account": {"timezone": TIMEZONE},
        "users": [
            {"id": "head", "name": "Head of sales"},
            {"id": "inbox", "name": "Inbox", "technical": True},
            *({"id": u, "name": name} for u, name in people),
        ],
        "pipelines": [
            {
                "id": "sales",
                "name": "Sales",
                "stages": [
                    {"id": "new", "kind": "open"},
                    {"id": "taken", "kind": "open"},
                    {"id": "meeting", "kind": "open"},
                    {"id": "offer", "kind": "open"},
                    {"id": "won", "kind": "won"},
                    {"id": "lost", "kind": "lost"},
                ],
            }
        ],
        "groups": [
            {
                "id": group,
                "name": name,
                "source_stages": ["sales/new"],
                "target_stage": "sales/taken",
                "key_stage": "sales/meeting",
                "exchange_users": ["inbox"],
                "members": [
                    {"user": u, "limits": _limits(ids.index(u))} for u in members
                ],
            }
            for group, name, members in (
                ("calls", "Calls team", calls),
                ("written", "Written requests team", written),
            )
        ],
        "schedules": [
            {"user": u, "weekly": {day: ["09:00-18:00"] for day in WEEKDAYS}}
            | {"presence": "follow_schedule"}
            for u in weekly
        ]
        + [
            {
                "user": u,
                "cycle": {
                    "on": 2,
                    "off": 2,
                    "anchor": (first + timedelta(days=2 * (n % 2))).isoformat(),
                    "window": "08:00-22:00",
                },
                "presence": "follow_schedule",
            }
            for n, u in enumerate(shifts)
        ],
        "templates": [
            {
                "id": "calls-day",
                "match": {"channels": ["call"]},
                "days": WEEKDAYS,
                "window": "09:00-18:00",
                "participants": _team(calls, weighted=True),
                "algorithm": "weighted",
                "respect_limits": True,
                "target_stage": "sales/taken",
                "reassign_after_minutes": 30,
            },
            {
                "id": "calls-shifts",
                "match": {"channels": ["call"]},
                "participants": _team([u for u in calls if u in shifts]),
                "algorithm": "least_loaded",
                "target_stage": "sales/taken",
            },
            {
                "id": "forms",
                "match": {"channels": ["form"]},
                "participants": _team(written),
                "algorithm": "round_robin",
                "target_stage": "sales/taken",
            },
            {
                "id": "messages",
                "match": {"channels": ["chat", "email"]},
                "participants": _team(written, weighted=True),
                "algorithm": "random",
                "target_stage": "sales/taken",
                "reassign_after_minutes": 45,
            },
        ],
    }
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)


def _work(
    rng: random.Random, lead: str, at: datetime, task: str
) -> list[dict[str, Any]]:
    """What whoever gets the lead does: mostly soon, sometimes hours later."""
    soon = rng.random() < 0.88
    touched = at + timedelta(
        minutes=rng.randrange(2, 25) if soon else rng.randrange(35, 150)
    )
    out: list[dict[str, Any]] = [
        {"type": "stage_changed", "at": touched, "lead": lead, "to": "meeting"}
    ]
    if rng.random() < 0.6:
        deadline = touched + timedelta(hours=rng.randrange(2, 48))
        out.append(
            {
                "type": "task_created",
                "at": touched,
                "task": task,
                "lead": lead,
                "responsible": OWNER,
                "deadline": deadline,
            }
        )
        # One task in four is done late, so the overdue limits have work.
        late = rng.random() < 0.25
        done = deadline + timedelta(hours=rng.randrange(1, 30) * (1 if late else -1))
        out.append({"type": "task_completed", "at": max(done, touched), "task": task})
    # An offer follows within a day or so: a lead that came back to push after
    # its first move (held overnight, say) is worked again then.
    offered = touched + timedelta(hours=rng.randrange(2, 30))
    out.append({"type": "stage_changed", "at": offered, "lead": lead, "to": "offer"})
    closed = offered + timedelta(hours=rng.randrange(1, 100))
    out += closing(rng, lead, closed, won=0.25, lost=0.3)
    return out


def stream(
    end: datetime,
    *,
    count: int = 40,
    days: int = 30,
    leads_per_day: int = 100,
    presses_per_day: int = 40,
    seed: int = 40,
) -> Stream:
    """The account's `days` up to `end`: arrivals, work and presses of the button."""
    rng = random.Random(seed)
    tz = ZoneInfo(TIMEZONE)
    start = end - timedelta(days=days)
    people = [u for u, _ in managers(count)]
    events: list[dict[str, Any]] = []
    for day in range(days):
        for n in range(leads_per_day):
            lead = f"G{day:02d}{n:03d}"
            # Mostly while someone works (08:00-22:00), a few in the night.
            hour = rng.randrange(8, 22) if rng.random() < 0.95 else rng.randrange(24)
            local = (start + timedelta(days=day)).astimezone(tz)
            at = local.replace(hour=hour, minute=0, second=0) + timedelta(
                seconds=rng.randrange(3600)
            )
            channel = rng.choice(CHANNELS)
            events.append(
                arrival(lead, at, "inbox", channel, 1000 * rng.randrange(1, 30))
            )
            # The button's leads wait for a press; a night's, for the morning.
            if channel != BUTTONS:
                morning = local.replace(hour=8) + timedelta(days=hour >= 22)
                begins = at if 8 <= hour < 22 else morning
                events += _work(rng, lead, begins, f"GT{day:02d}{n:03d}")
    presses: list[tuple[datetime, str, str]] = []
    for day in range(days):
        local = (start + timedelta(days=day)).astimezone(tz)
        for _ in range(presses_per_day):
            user = rng.choice(people)
            at = local.replace(
                hour=rng.randrange(8, 21), minute=rng.randrange(60), second=0
            )
            group = "calls" if people.index(user) < count // 2 else "written"
            if start <= at < end:
                presses.append((at, user, group))
    return Stream(as_lines(events, end), sorted(presses), start, end)
