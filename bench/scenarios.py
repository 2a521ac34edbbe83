"""Eligibility, push and reports: each timed against a hand-written baseline.

Each product figure goes through the service processes over gRPC, as the
gateway calls them; each baseline is SQL written by hand against the same
tables, in the same run.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from bench.claims import hand_out, journal
from bench.generate import (
    ACCOUNT,
    ALL_GROUP,
    KEY_STAGE,
    PIPELINE,
    POOL_USER,
    PUSH_CHANNEL,
    PUSH_TEMPLATE,
    SOURCE,
    TARGET,
    TIMEZONE,
)
from leadrouter.clients import Clients
from leadrouter.crm.v1 import crm_pb2
from leadrouter.limits.v1 import limits_pb2
from leadrouter.reports.v1 import reports_pb2
from leadrouter.timestamps import to_ts
from services.limits.domain import calendar

OPEN = ["sales/new", TARGET, KEY_STAGE]
WON = ["sales/won"]
LOST = ["sales/lost"]
FIGURES = (
    "open_leads",
    "new_today",
    "overdue_tasks",
    "sales_in_window",
    "lost_today",
    "lost_month",
    "sales_last_month",
    "sales_this_month",
    "key_stage_last_week",
    "key_stage_this_week",
)


async def timed(runs: int, fn: Any) -> list[float]:
    await fn()  # warm caches and connections
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        await fn()
        out.append(time.perf_counter() - started)
    return out


# -- eligibility ---------------------------------------------------------------

# The same figures by the same rules as the limits: a task on a lead that sits
# in no counted stage (excluded, or of an archived pipeline) is not counted,
# nor a sale or key-stage move of such a lead; sales are distinct leads, and a
# reopening is no move into a stage.
ELIGIBILITY_SQL = """
WITH u AS (SELECT unnest(%(users)s::text[]) AS user_id),
open_leads AS (
  SELECT responsible AS user_id, count(*) AS n FROM crm.leads
  WHERE account = %(a)s AND stage_key = ANY(%(open)s) AND responsible = ANY(%(users)s)
  GROUP BY responsible),
new_today AS (
  SELECT e.user_to AS user_id, count(DISTINCT e.lead_id) AS n
  FROM crm.events e JOIN crm.leads l ON l.account = e.account AND l.id = e.lead_id
  WHERE e.account = %(a)s AND e.type IN ('lead_created', 'responsible_changed')
    AND e.user_to = ANY(%(users)s) AND e.at >= %(today)s AND e.at <= %(now)s
  GROUP BY e.user_to),
overdue AS (
  SELECT t.responsible AS user_id, count(*) AS n, min(t.deadline) AS oldest
  FROM crm.tasks t LEFT JOIN crm.leads l ON l.account = t.account AND l.id = t.lead_id
  WHERE t.account = %(a)s AND t.responsible = ANY(%(users)s)
    AND t.completed_at IS NULL AND t.deadline < %(now)s
    AND (t.lead_id IS NULL OR l.stage_key = ANY(%(counted)s))
  GROUP BY t.responsible),
sales AS (
  SELECT e.actor AS user_id,
    count(DISTINCT CASE WHEN e.at >= %(prev_month)s AND e.at < %(month)s
                   THEN e.lead_id END) AS last,
    count(DISTINCT CASE WHEN e.at >= %(month)s THEN e.lead_id END) AS current,
    count(DISTINCT CASE WHEN e.at >= %(since)s THEN e.lead_id END) AS win
  FROM crm.events e JOIN crm.leads l ON l.account = e.account AND l.id = e.lead_id
  WHERE e.account = %(a)s AND e.type = 'stage_changed'
    AND e.actor = ANY(%(users)s) AND e.at <= %(now)s AND e.stage_to = ANY(%(won)s)
    AND e.at >= least(%(prev_month)s, %(since)s) AND l.stage_key = ANY(%(counted)s)
  GROUP BY e.actor),
lost AS (
  SELECT stage_changed_by AS user_id, count(*) AS month,
    sum(CASE WHEN stage_changed_at >= %(today)s THEN 1 ELSE 0 END) AS today
  FROM crm.leads WHERE account = %(a)s AND stage_changed_by = ANY(%(users)s)
    AND stage_key = ANY(%(lost)s) AND stage_changed_at >= %(month)s
    AND stage_changed_at <= %(now)s
  GROUP BY stage_changed_by),
key_stage AS (
  SELECT e.actor AS user_id,
    count(DISTINCT CASE WHEN e.at < %(week)s THEN e.lead_id END) AS last,
    count(DISTINCT CASE WHEN e.at >= %(week)s THEN e.lead_id END) AS current
  FROM crm.events e JOIN crm.leads l ON l.account = e.account AND l.id = e.lead_id
  WHERE e.account = %(a)s AND e.type = 'stage_changed'
    AND e.actor = ANY(%(users)s) AND e.at <= %(now)s AND e.stage_to = %(key)s
    AND e.at >= %(prev_week)s AND l.stage_key = ANY(%(counted)s)
  GROUP BY e.actor)
SELECT u.user_id, coalesce(o.n, 0), coalesce(t.n, 0), coalesce(d.n, 0),
  coalesce(s.win, 0), coalesce(l.today, 0), coalesce(l.month, 0),
  coalesce(s.last, 0), coalesce(s.current, 0), coalesce(k.last, 0),
  coalesce(k.current, 0), d.oldest
FROM u LEFT JOIN open_leads o USING (user_id) LEFT JOIN new_today t USING (user_id)
  LEFT JOIN overdue d USING (user_id) LEFT JOIN sales s USING (user_id)
  LEFT JOIN lost l USING (user_id) LEFT JOIN key_stage k USING (user_id)
"""


@dataclass
class Eligibility:
    product: list[float]
    baseline: list[float]
    members: int
    identical: bool
    mismatches: list[str]


async def eligibility(
    clients: Clients, dsn: str, members: list[str], runs: int, days_without_sales: int
) -> Eligibility:
    now = datetime.now(UTC)
    cal = calendar(now, ZoneInfo(TIMEZONE))
    since = now - timedelta(days=days_without_sales)

    async def product() -> Any:
        return await clients.limits.get_eligibility(
            limits_pb2.GetEligibilityRequest(
                account=ACCOUNT, group_id=ALL_GROUP, at=to_ts(now)
            ),
        )

    params = {
        "a": ACCOUNT,
        "users": members,
        "open": OPEN,
        "won": WON,
        "lost": LOST,
        "counted": [*OPEN, *WON, *LOST],
        "key": KEY_STAGE,
        "now": now,
        "today": cal.today_start,
        "month": cal.month_start,
        "prev_month": cal.prev_month_start,
        "week": cal.week_start,
        "prev_week": cal.prev_week_start,
        "since": since,
    }
    conn = await psycopg.AsyncConnection.connect(dsn, autocommit=True)

    async def baseline() -> list[Any]:
        cur = await conn.execute(ELIGIBILITY_SQL, params)
        return await cur.fetchall()

    try:
        product_times = await timed(runs, product)
        baseline_times = await timed(runs, baseline)
        rows = await baseline()
    finally:
        await conn.close()
    # The figures the limits read: what the crm measured for the same moment.
    request = crm_pb2.GetActivityRequest(
        account=ACCOUNT,
        user_ids=members,
        stages=crm_pb2.StageSettings(key_stage=KEY_STAGE),
        now=to_ts(now),
        today_start=to_ts(cal.today_start),
        month_start=to_ts(cal.month_start),
        prev_month_start=to_ts(cal.prev_month_start),
        week_start=to_ts(cal.week_start),
        prev_week_start=to_ts(cal.prev_week_start),
    )
    for m in members:
        request.sales_since[m].CopyFrom(to_ts(since))
    measured = await clients.crm.get_activity(request)
    by_user = {u.user_id: u for u in measured.users}
    mismatches = []
    for row in rows:
        user, *numbers, oldest = row
        got = by_user[user]
        mine = dict(zip(FIGURES, [int(x) for x in numbers], strict=True))
        theirs = {f: int(getattr(got, f)) for f in FIGURES}
        if mine != theirs:
            mismatches.append(f"{user}: sql {mine} != service {theirs}")
        has = got.HasField("oldest_overdue_deadline")
        if (oldest is None) == has or (
            oldest is not None
            and abs(got.oldest_overdue_deadline.ToDatetime(UTC) - oldest)
            > timedelta(milliseconds=1)
        ):
            mismatches.append(f"{user}: oldest overdue differs")
    return Eligibility(
        product_times, baseline_times, len(members), not mismatches, mismatches[:5]
    )


# -- push ------------------------------------------------------------------------


@dataclass
class Push:
    seconds: float
    assigned: int
    split: dict[str, int]
    expected: dict[str, int]

    @property
    def exact(self) -> bool:
        return self.split == self.expected

    @property
    def throughput(self) -> float:
        return self.assigned / self.seconds if self.seconds else 0.0


def expected_split(weights: dict[str, int], leads: int) -> dict[str, int]:
    total = sum(weights.values())
    return {u: leads * w // total for u, w in weights.items()}


async def push(
    clients: Clients, dsn: str, weights: dict[str, int], leads: int, timeout: float
) -> Push:
    """`leads` submitted at once; done when the journal shows each one assigned."""
    conn = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
    try:
        cur = await conn.execute("SELECT coalesce(max(seq), 0) FROM assigner.decisions")
        row = await cur.fetchone()
        before = int(row[0]) if row else 0
        gate = asyncio.Semaphore(32)

        async def submit(n: int) -> None:
            async with gate:
                await clients.crm.submit_lead(
                    crm_pb2.SubmitLeadRequest(
                        account=ACCOUNT,
                        lead=crm_pb2.Lead(
                            name=f"Web lead {n}",
                            pipeline=PIPELINE,
                            stage="new",
                            responsible=POOL_USER,
                            channel=PUSH_CHANNEL,
                        ),
                    ),
                )

        started = time.perf_counter()
        await asyncio.gather(*(submit(n) for n in range(leads)))
        split: dict[str, int] = {}
        deadline = started + timeout
        while time.perf_counter() < deadline:
            cur = await conn.execute(
                "SELECT assignee, count(*) FROM assigner.decisions WHERE seq > %s "
                "AND kind = 'push' AND outcome = 'assigned' AND template_id = %s "
                "GROUP BY assignee",
                (before, PUSH_TEMPLATE),
            )
            split = {str(u): int(n) for u, n in await cur.fetchall()}
            if sum(split.values()) >= leads:
                break
            await asyncio.sleep(0.05)
        took = time.perf_counter() - started
    finally:
        await conn.close()
    return Push(took, sum(split.values()), split, expected_split(weights, leads))


def raw_push(dsn: str, weights: dict[str, int], leads: int) -> Push:
    """The floor: one loop creating each lead and handing it out by weight.

    Smooth weighted rotation kept in a row locked per lead, the lead row and
    its events written, the decision journaled: one transaction per lead.
    """
    split: Counter[str] = Counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO assigner.rotations (account, template_id, state) "
            "VALUES (%s, 'raw-push', '{}') ON CONFLICT DO NOTHING",
            (ACCOUNT,),
        )
        started = time.perf_counter()
        total = sum(weights.values())
        for n in range(leads):
            now = datetime.now(UTC)
            lead = f"raw-{time.time_ns()}-{n}"
            with conn.transaction():
                conn.execute(
                    "INSERT INTO crm.leads (account, id, name, budget, pipeline, "
                    "stage, stage_key, responsible, channel, tags, created_at, "
                    "loss_reason, "
                    "stage_changed_at, stage_changed_by, last_open_stage) VALUES "
                    "(%s, %s, %s, 0, %s, 'new', %s, %s, %s, '', %s, '', %s, %s, 'new')",
                    (
                        ACCOUNT,
                        lead,
                        f"Raw lead {n}",
                        PIPELINE,
                        SOURCE,
                        POOL_USER,
                        PUSH_CHANNEL,
                        now,
                        now,
                        POOL_USER,
                    ),
                )
                row = conn.execute(
                    "SELECT state FROM assigner.rotations WHERE account = %s "
                    "AND template_id = 'raw-push' FOR UPDATE",
                    (ACCOUNT,),
                ).fetchone()
                credit = {
                    u: Fraction(c)
                    for u, c in json.loads(row[0] if row else "{}").items()
                }
                for u, w in weights.items():
                    credit[u] = credit.get(u, Fraction(0)) + w
                user = max(weights, key=lambda u: (credit[u], -list(weights).index(u)))
                credit[user] -= total
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (ACCOUNT,))
                conn.execute(
                    "INSERT INTO crm.events (account, type, at, lead_id, stage_to, "
                    "user_to, actor, payload) VALUES "
                    "(%s, 'lead_created', %s, %s, %s, %s, %s, '{}')",
                    (ACCOUNT, now, lead, SOURCE, POOL_USER, POOL_USER),
                )
                hand_out(conn, lead, user, now)
                conn.execute(
                    "UPDATE assigner.rotations SET state = %s WHERE account = %s "
                    "AND template_id = 'raw-push'",
                    (json.dumps({u: str(c) for u, c in credit.items()}), ACCOUNT),
                )
            journal(conn, "push", lead, user, now, template="raw-push")
            split[user] += 1
        took = time.perf_counter() - started
    return Push(took, leads, dict(split), expected_split(weights, leads))


# -- reports ---------------------------------------------------------------------


@dataclass
class Reports:
    product: list[float]
    baseline: list[float]
    managers: int
    leads: int


def last_full_month(today: date) -> tuple[date, date]:
    first = today.replace(day=1)
    end = first - timedelta(days=1)
    return end.replace(day=1), end


async def reports(clients: Clients, dsn: str, runs: int, today: date) -> Reports:
    start, end = last_full_month(today)

    async def product() -> Any:
        return await clients.reports.distribution_report(
            reports_pb2.DistributionReportRequest(
                account=ACCOUNT, bucket="day", **{"from": str(start), "to": str(end)}
            ),
        )

    conn = await psycopg.AsyncConnection.connect(dsn, autocommit=True)

    async def baseline() -> list[Any]:
        cur = await conn.execute(
            "SELECT user_id, day, kind, sum(leads) FROM reports.distribution_days "
            "WHERE account = %s AND day BETWEEN %s AND %s GROUP BY user_id, day, kind",
            (ACCOUNT, start, end),
        )
        return await cur.fetchall()

    try:
        product_times = await timed(runs, product)
        baseline_times = await timed(runs, baseline)
    finally:
        await conn.close()
    reply = await product()
    return Reports(
        product_times, baseline_times, len(reply.managers), reply.total.total
    )
