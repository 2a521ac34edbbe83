"""Claim bursts: managers pressing "Get lead" at once, and the raw database floor.

The product side is N managers, each pressing again as soon as the previous
press answered, through GraphQL on one or more gateways, until a fixed number
of presses were made. The baselines run the same claim transaction by hand:
the oldest pool lead locked (SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on
SQLite), moved to the manager, logged as two canonical events, remembered as
an operation and journaled as a decision.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sqlite3
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg

from bench.generate import ACCOUNT, POOL_USER, SOURCE, TARGET

CLAIM = """mutation($g: ID!) { claimLead(groupId: $g) {
  __typename
  ... on Claimed { lead { id } }
  ... on Refused { reasons { code limit } }
} }"""


@dataclass
class Burst:
    """What one burst did: presses, leads handed out, failures and latencies."""

    seconds: float
    latencies: list[float]
    leads: list[str]
    refused: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return len(self.leads) / self.seconds if self.seconds else 0.0

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 0.99) * 1000

    @property
    def duplicates(self) -> int:
        return len(self.leads) - len(set(self.leads))


@dataclass
class LongBurst:
    """One long burst, with the rate of its first and its last quarter of claims."""

    burst: Burst
    first: float  # claims/s over the first quarter of the claims
    last: float  # claims/s over the last quarter


async def long_graphql_burst(
    urls: list[str], tokens: dict[str, tuple[str, str]], concurrency: int, presses: int
) -> LongBurst:
    """A burst long enough that whatever grows with the claims made shows."""
    quarter = max(1, presses // 4)
    marks: list[tuple[int, float]] = []
    burst = await graphql_burst(
        urls,
        tokens,
        concurrency,
        presses,
        lambda claimed, seconds: marks.append((claimed, seconds)),
        every=quarter,
    )
    if len(marks) < 3 or not burst.seconds:
        return LongBurst(burst, burst.throughput, burst.throughput)
    (n1, t1), (n3, t3) = marks[0], marks[2]
    tail = burst.seconds - t3
    last = (len(burst.leads) - n3) / tail if tail > 0 else 0.0
    return LongBurst(burst, n1 / t1 if t1 else 0.0, last)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


async def graphql_burst(
    urls: list[str],
    tokens: dict[str, tuple[str, str]],
    concurrency: int,
    presses: int,
    progress: Callable[[int, float], None] | None = None,
    every: int = 10_000,
) -> Burst:
    """`concurrency` managers (user -> (token, group)) press until `presses` made.

    `progress`, if given, hears the leads handed out so far and the seconds
    taken, every `every` leads: a long soak shows it is moving.
    """
    users = list(tokens)[:concurrency]
    remaining = itertools.count()
    latencies: list[float] = []
    leads: list[str] = []
    refused: dict[str, int] = {}
    errors: list[str] = []
    limits = httpx.Limits(
        max_connections=concurrency, max_keepalive_connections=concurrency
    )

    async def manager(i: int, user: str, http: httpx.AsyncClient) -> None:
        token, group = tokens[user]
        url = urls[i % len(urls)]
        headers = {"Authorization": f"Bearer {token}"}
        body = {"query": CLAIM, "variables": {"g": group}}
        while next(remaining) < presses:
            started = time.perf_counter()
            try:
                reply = await http.post(url, json=body, headers=headers)
                data = reply.json()
            except (httpx.HTTPError, ValueError) as error:
                errors.append(f"{type(error).__name__}: {error}")
                continue
            latencies.append(time.perf_counter() - started)
            if data.get("errors"):
                errors.append(json.dumps(data["errors"])[:300])
                continue
            result = data["data"]["claimLead"]
            if result["__typename"] == "Claimed":
                leads.append(result["lead"]["id"])
                if progress is not None and len(leads) % every == 0:
                    progress(len(leads), time.perf_counter() - began)
            else:
                for reason in result["reasons"]:
                    key = reason["code"] + (
                        f":{reason['limit']}" if reason.get("limit") else ""
                    )
                    refused[key] = refused.get(key, 0) + 1

    async with httpx.AsyncClient(timeout=300, limits=limits) as http:
        began = time.perf_counter()
        await asyncio.gather(*(manager(i, u, http) for i, u in enumerate(users)))
        took = time.perf_counter() - began
    return Burst(took, latencies, leads, refused, errors)


def _threads(
    workers: int,
    presses: int,
    claim: Callable[[Any, str], str | None],
    connect: Callable[[], Any],
    users: list[str],
) -> Burst:
    counter = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    leads: list[str] = []
    errors: list[str] = []

    def work(n: int) -> None:
        for attempt in range(100):
            try:
                conn = connect()
                break
            except Exception as error:  # a shared server can be out of connections
                if attempt == 99:
                    errors.append(f"{type(error).__name__}: {error}")
                    return
                time.sleep(0.1)
        user = users[n % len(users)]
        try:
            while True:
                with lock:
                    if next(counter) >= presses:
                        return
                started = time.perf_counter()
                try:
                    lead = claim(conn, user)
                except Exception as error:  # counted: a busy error is a failure here
                    errors.append(f"{type(error).__name__}: {error}")
                    continue
                took = time.perf_counter() - started
                with lock:
                    latencies.append(took)
                    if lead is not None:
                        leads.append(lead)
        finally:
            conn.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Burst(time.perf_counter() - started, latencies, leads, {}, errors)


def _payloads(lead: str, user: str, now: datetime) -> tuple[str, str, str]:
    at = now.isoformat()
    return (
        json.dumps({"at": at, "type": "responsible_changed", "lead": lead, "to": user}),
        json.dumps({"at": at, "type": "stage_changed", "lead": lead, "to": "taken"}),
        json.dumps(
            {"lead": lead, "moved": {"contacts": 0, "companies": 0, "tasks": 0}}
        ),
    )


def hand_out(
    conn: psycopg.Connection[Any],
    lead: str,
    user: str,
    now: datetime,
    moved: str = "{}",
    staged: str = "{}",
) -> None:
    """The lead to `user` in the target stage, and the two events that say so."""
    conn.execute(
        "UPDATE crm.leads SET responsible = %s, stage = 'taken', "
        "stage_key = %s, stage_changed_at = %s, stage_changed_by = %s "
        "WHERE account = %s AND id = %s",
        (user, TARGET, now, user, ACCOUNT, lead),
    )
    # The crm's order of the log: offsets visible in the order handed out.
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (ACCOUNT,))
    conn.execute(
        "INSERT INTO crm.events (account, type, at, lead_id, stage_to, "
        "user_to, actor, payload) VALUES "
        "(%s, 'responsible_changed', %s, %s, '', %s, %s, %s),"
        " (%s, 'stage_changed', %s, %s, %s, '', %s, %s)",
        (
            *(ACCOUNT, now, lead, user, POOL_USER, moved),
            *(ACCOUNT, now, lead, TARGET, user, staged),
        ),
    )


def journal(
    conn: psycopg.Connection[Any],
    kind: str,
    lead: str,
    user: str,
    now: datetime,
    template: str = "",
) -> None:
    """The decision, in the journal's own transaction and order."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('decisions'))")
        conn.execute(
            "INSERT INTO assigner.decisions (account, kind, outcome, group_id, "
            "actor, lead_id, assignee, at, reasons, details, template_id, "
            "algorithm, trace_id) VALUES (%s, %s, %s, '', %s, %s, %s, %s, '[]', "
            "'{}', %s, %s, '')",
            (
                ACCOUNT,
                kind,
                "claimed" if kind == "claim" else "assigned",
                user if kind == "claim" else "",
                lead,
                user,
                now,
                template,
                "weighted" if template else "",
            ),
        )


def raw_pg_claim(conn: psycopg.Connection[Any], user: str) -> str | None:
    """One claim by hand: the crm's take and the assigner's journal entry."""
    now = datetime.now(UTC)
    with conn.transaction():
        row = conn.execute(
            "SELECT id FROM crm.leads WHERE account = %s AND stage_key = %s "
            "AND responsible = %s ORDER BY created_at, id LIMIT 1 "
            "FOR UPDATE SKIP LOCKED",
            (ACCOUNT, SOURCE, POOL_USER),
        ).fetchone()
        if row is None:
            return None
        lead = str(row[0])
        moved, staged, result = _payloads(lead, user, now)
        hand_out(conn, lead, user, now, moved, staged)
        conn.execute(
            "INSERT INTO crm.operations (account, id, result) VALUES (%s, %s, %s)",
            (ACCOUNT, f"raw:{lead}", result),
        )
    journal(conn, "claim", lead, user, now)
    return lead


def raw_pg_burst(dsn: str, workers: int, presses: int, users: list[str]) -> Burst:
    return _threads(
        workers,
        presses,
        raw_pg_claim,
        lambda: psycopg.connect(dsn, autocommit=True),
        users,
    )


def raw_sqlite_claim(conn: sqlite3.Connection, user: str) -> str | None:
    now = datetime.now(UTC)
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute(
            "SELECT id FROM leads WHERE account = ? AND stage_key = ? "
            "AND responsible = ? ORDER BY created_at, id LIMIT 1",
            (ACCOUNT, SOURCE, POOL_USER),
        ).fetchone()
        if row is None:
            conn.execute("COMMIT")
            return None
        lead = str(row[0])
        moved, staged, result = _payloads(lead, user, now)
        conn.execute(
            "UPDATE leads SET responsible = ?, stage = 'taken', stage_key = ?, "
            "stage_changed_at = ?, stage_changed_by = ? WHERE account = ? AND id = ?",
            (user, TARGET, now.isoformat(), user, ACCOUNT, lead),
        )
        conn.execute(
            "INSERT INTO events (account, type, at, lead_id, stage_to, user_to, actor, "
            "payload) VALUES (?, 'responsible_changed', ?, ?, '', ?, ?, ?), "
            "(?, 'stage_changed', ?, ?, ?, '', ?, ?)",
            (
                ACCOUNT,
                now.isoformat(),
                lead,
                user,
                POOL_USER,
                moved,
                ACCOUNT,
                now.isoformat(),
                lead,
                TARGET,
                user,
                staged,
            ),
        )
        conn.execute(
            "INSERT INTO operations (account, id, result) VALUES (?, ?, ?)",
            (ACCOUNT, f"raw:{lead}", result),
        )
        conn.execute("COMMIT")
        return lead
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def raw_sqlite_burst(path: str, workers: int, presses: int, users: list[str]) -> Burst:
    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    return _threads(workers, presses, raw_sqlite_claim, connect, users)
