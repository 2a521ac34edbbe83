"""The bench account's history: 18 months of leads, events, tasks and decisions.

Written straight into the services' tables with COPY (the account's shape,
workspace and template database are bench.generate's), as the product's own
followers would have left them after reading that history.
"""

from __future__ import annotations

import bisect
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

from bench.generate import (
    ACCOUNT,
    CHANNELS,
    LOCAL,
    PIPELINE,
    POOL_USER,
    REASONS,
    SOURCE,
    TARGET,
    TIMEZONE,
    Sizes,
    group_of,
    managers,
    pg_dsn,
)


def _ts(at: datetime) -> str:
    return at.isoformat()


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


@dataclass
class Written:
    leads: int = 0
    events: int = 0
    tasks: int = 0
    overdue_tasks: int = 0
    decisions: int = 0
    distribution_rows: int = 0
    seconds: float = 0.0


class History:
    """The account's 18 months, generated lead by lead from one seed."""

    # Stage moves after a lead is taken: how many (0..4) and how often.
    EXTRA_CHOICES = (0, 1, 2, 3, 4)

    def __init__(self, sizes: Sizes, seed: int, today: date) -> None:
        self.sizes = sizes
        self.seed = seed
        self.now = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
        self.start = self.now - timedelta(days=30 * sizes.months)
        people = managers(sizes.managers)
        rng = random.Random(seed)
        ranked = people[:]
        rng.shuffle(ranked)
        # Power-law skew: the busiest manager gets ~40x the quietest one's leads.
        self.people = ranked
        weights = [1 / (rank + 1) ** 0.6 for rank in range(len(ranked))]
        self.cumulative = []
        total = 0.0
        for w in weights:
            total += w
            self.cumulative.append(total)
        self.group = {m: group_of(i, sizes) for i, m in enumerate(people)}
        self.worked = sizes.leads - sizes.pool
        self.extras = self._extras(rng)

    def _pick(self, rng: random.Random) -> str:
        x = rng.random() * self.cumulative[-1]
        return self.people[bisect.bisect_left(self.cumulative, x)]

    def _extras(self, rng: random.Random) -> bytearray:
        """Stage moves per worked lead, adjusted so the log has exactly `events`."""
        s = self.sizes
        extras = bytearray(
            rng.choices(self.EXTRA_CHOICES, (1, 2, 4, 2, 1), k=self.worked)
        )
        # Fixed events: pool leads 1, worked leads 3 + extras, tasks 1 or 2 each.
        want = s.events - s.pool - 3 * self.worked - self._task_events(s)
        have = sum(extras)
        i = 0
        while have != want and i < 5 * self.worked:
            j = i % self.worked
            if have < want and extras[j] < 4:
                extras[j] += 1
                have += 1
            elif have > want and extras[j] > 0:
                extras[j] -= 1
                have -= 1
            i += 1
        return extras

    def _task_events(self, s: Sizes) -> int:
        # Every task is created; 9 in 10 of the ones due are completed. The
        # exact count is known only after drawing, so tasks draw from their own
        # stream first (see tasks()) and the lead extras absorb the difference.
        return sum(1 + done for *_, done in self._task_plan())

    def _task_plan(self) -> Iterator[tuple[int, int, int, int]]:
        """(lead index, deadline offset seconds, completed offset or -1, done 0/1)."""
        rng = random.Random(self.seed + 1)
        span = int((self.now - self.start).total_seconds())
        for _ in range(self.sizes.tasks):
            lead = rng.randrange(self.worked)
            created = self._created_offset(lead, span)
            deadline = created + rng.randrange(3600, 14 * 86400)
            if deadline >= span:  # still ahead: open, not overdue
                yield lead, deadline, -1, 0
            elif rng.random() < 0.9:
                yield (
                    lead,
                    deadline,
                    max(created, deadline - rng.randrange(0, 86400)),
                    1,
                )
            else:
                yield lead, deadline, -1, 0

    def _created_offset(self, lead: int, span: int) -> int:
        # Worked leads spread over the whole span, oldest first, ending a day ago.
        return (span - 86400) * lead // max(1, self.worked)

    def write(self, conn: psycopg.Connection[Any]) -> Written:
        """COPYs leads, events, tasks and the reports read model; returns counts."""
        started = time.perf_counter()
        out = Written()
        s = self.sizes
        span = int((self.now - self.start).total_seconds())
        rng = random.Random(self.seed + 2)
        owners: list[str] = []
        distribution: dict[tuple[date, str, str, str], int] = {}
        with (
            conn.cursor().copy(
                "COPY crm.leads (account, id, name, budget, pipeline, stage, "
                "stage_key, responsible, channel, tags, created_at, closed_at, "
                "loss_reason, stage_changed_at, stage_changed_by, last_open_stage) "
                "FROM STDIN"
            ) as leads,
            _second(conn)
            .cursor()
            .copy(
                'COPY crm.events ("offset", account, type, at, lead_id, stage_to, '
                "user_to, actor, payload) FROM STDIN"
            ) as events,
        ):
            offset = 0
            lead_rows: list[str] = []
            event_rows: list[str] = []

            def event(
                kind: str,
                at: datetime,
                lead: str,
                stage_to: str,
                user_to: str,
                actor: str,
                payload: str,
            ) -> None:
                nonlocal offset
                offset += 1
                event_rows.append(
                    f"{offset}\t{ACCOUNT}\t{kind}\t{_ts(at)}\t{lead}\t{stage_to}\t"
                    f"{user_to}\t{actor}\t{_esc(payload)}\n"
                )

            def flush(force: bool = False) -> None:
                if force or len(event_rows) > 20000:
                    leads.write("".join(lead_rows))
                    events.write("".join(event_rows))
                    lead_rows.clear()
                    event_rows.clear()

            for i in range(s.leads):
                lead_id = f"L{i + 1:07d}"
                pooled = i >= self.worked
                if pooled:
                    # The newest leads wait in the pool, over the last 30 days.
                    back = 30 * 86400 * (s.leads - i) // max(1, s.pool)
                    created = self.now - timedelta(seconds=back)
                else:
                    created = self.start + timedelta(
                        seconds=self._created_offset(i, span)
                    )
                channel = CHANNELS[i % len(CHANNELS)]
                budget = rng.randrange(0, 500_000, 1000)
                event(
                    "lead_created",
                    created,
                    lead_id,
                    SOURCE,
                    POOL_USER,
                    POOL_USER,
                    json.dumps(
                        {
                            "at": _ts(created),
                            "type": "lead_created",
                            "lead": lead_id,
                            "pipeline": PIPELINE,
                            "stage": "new",
                            "responsible": POOL_USER,
                            "channel": channel,
                            "budget": budget,
                        }
                    ),
                )
                if pooled:
                    owners.append(POOL_USER)
                    lead_rows.append(
                        f"{ACCOUNT}\t{lead_id}\tLead {i + 1}\t{budget}\t{PIPELINE}\t"
                        f"new\t{SOURCE}\t{POOL_USER}\t{channel}\t\t{_ts(created)}\t"
                        f"\\N\t\t{_ts(created)}\t{POOL_USER}\tnew\n"
                    )
                    flush()
                    continue
                user = self._pick(rng)
                owners.append(user)
                taken = created + timedelta(seconds=rng.randrange(60, 6 * 3600))
                event(
                    "responsible_changed",
                    taken,
                    lead_id,
                    "",
                    user,
                    POOL_USER,
                    json.dumps(
                        {
                            "at": _ts(taken),
                            "type": "responsible_changed",
                            "lead": lead_id,
                            "to": user,
                        }
                    ),
                )
                event(
                    "stage_changed",
                    taken,
                    lead_id,
                    TARGET,
                    "",
                    user,
                    json.dumps(
                        {
                            "at": _ts(taken),
                            "type": "stage_changed",
                            "lead": lead_id,
                            "to": "taken",
                        }
                    ),
                )
                kind = rng.choices(("claim", "push", "manual"), (60, 35, 5))[0]
                day = (taken + LOCAL).date()
                key = (day, user, self.group[user], kind)
                distribution[key] = distribution.get(key, 0) + 1
                stage, at, closed, reason, last_open = "taken", taken, None, "", "taken"
                moves = self.extras[i]
                closes = ("won", "lost", "lost")
                for step in range(moves):
                    at = min(
                        self.now - timedelta(seconds=1),
                        at + timedelta(seconds=rng.randrange(600, 5 * 86400)),
                    )
                    if step == 0 and moves >= 2:
                        stage, last_open = "meeting", "meeting"
                        body = {"to": "meeting"}
                        kind_ = "stage_changed"
                    elif step == 2:  # reopened: back to the last open stage
                        stage, closed, reason = last_open, None, ""
                        body = {"by": "head"}
                        kind_ = "lead_reopened"
                    else:
                        stage = rng.choice(closes)
                        closed = at
                        reason = rng.choice(REASONS) if stage == "lost" else ""
                        body = {"to": stage}
                        if reason:
                            body["loss_reason"] = reason
                        kind_ = "stage_changed"
                    event(
                        kind_,
                        at,
                        lead_id,
                        f"{PIPELINE}/{stage}",
                        "",
                        user,
                        json.dumps(
                            {"at": _ts(at), "type": kind_, "lead": lead_id, **body}
                        ),
                    )
                lead_rows.append(
                    f"{ACCOUNT}\t{lead_id}\tLead {i + 1}\t{budget}\t{PIPELINE}\t"
                    f"{stage}\t{PIPELINE}/{stage}\t{user}\t{channel}\t\t"
                    f"{_ts(created)}\t{_ts(closed) if closed else chr(92) + 'N'}\t"
                    f"{_esc(reason)}\t{_ts(at)}\t{user}\t{last_open}\n"
                )
                flush()
            # Tasks: rows, and their creation and completion in the log.
            with (
                _third(conn)
                .cursor()
                .copy(
                    "COPY crm.tasks (account, id, lead_id, responsible, deadline, "
                    "completed_at, text) FROM STDIN"
                ) as tasks
            ):
                task_rows: list[str] = []
                for n, (lead, deadline, done_at, done) in enumerate(self._task_plan()):
                    task_id = f"T{n + 1:07d}"
                    lead_id = f"L{lead + 1:07d}"
                    owner = owners[lead]
                    due = self.start + timedelta(seconds=deadline)
                    created = self.start + timedelta(
                        seconds=self._created_offset(lead, span)
                    )
                    event(
                        "task_created",
                        created,
                        lead_id,
                        "",
                        "",
                        owner,
                        json.dumps(
                            {
                                "at": _ts(created),
                                "type": "task_created",
                                "task": task_id,
                                "lead": lead_id,
                                "responsible": owner,
                                "deadline": _ts(due),
                            }
                        ),
                    )
                    completed = "\\N"
                    if done:
                        finished = self.start + timedelta(seconds=done_at)
                        completed = _ts(finished)
                        event(
                            "task_completed",
                            finished,
                            lead_id,
                            "",
                            "",
                            owner,
                            json.dumps(
                                {
                                    "at": _ts(finished),
                                    "type": "task_completed",
                                    "task": task_id,
                                }
                            ),
                        )
                    elif due < self.now:
                        out.overdue_tasks += 1
                    task_rows.append(
                        f"{ACCOUNT}\t{task_id}\t{lead_id}\t{owner}\t{_ts(due)}\t"
                        f"{completed}\tCall back\n"
                    )
                    if len(task_rows) > 20000:
                        tasks.write("".join(task_rows))
                        task_rows.clear()
                tasks.write("".join(task_rows))
                out.tasks = s.tasks
            flush(force=True)
            out.leads = s.leads
            out.events = offset
        _commit_all(conn)
        out.decisions, out.distribution_rows = self._write_read_model(
            conn, distribution, rng
        )
        self._set_positions(conn, offset)
        out.seconds = time.perf_counter() - started
        return out

    def _write_read_model(
        self,
        conn: psycopg.Connection[Any],
        distribution: dict[tuple[date, str, str, str], int],
        rng: random.Random,
    ) -> tuple[int, int]:
        """Day counters of 1,000,000 decisions (every hand-out, then refusals),
        and the leads' states and closings."""
        handed = sum(distribution.values())
        refused = max(0, self.sizes.decisions - handed)  # refusals count nowhere
        with conn.cursor().copy(
            "COPY reports.distribution_days (account, day, user_id, group_id, kind, "
            "week, month, leads) FROM STDIN"
        ) as copy:
            rows = []
            for (day, user, group, kind), leads in sorted(distribution.items()):
                week = day - timedelta(days=day.weekday())
                rows.append(
                    f"{ACCOUNT}\t{day}\t{user}\t{group}\t{kind}\t{week}\t"
                    f"{day.replace(day=1)}\t{leads}\n"
                )
            copy.write("".join(rows))
        # What the reports service holds once it has read the history: each
        # lead's pipeline and owner, and each closed lead's closing. Without
        # them every move of a generated lead names a stage of no known
        # pipeline, and the reports read the crm's directory again each batch.
        conn.execute(
            "INSERT INTO reports.lead_states (account, lead_id, pipeline, responsible) "
            "SELECT account, id, pipeline, responsible FROM crm.leads"
        )
        conn.execute(
            "INSERT INTO reports.lead_closings (account, lead_id, closed_at, outcome, "
            "reason, responsible, stage, deleted) "
            "SELECT l.account, l.id, l.closed_at, st.kind, "
            "CASE WHEN st.kind = 'lost' THEN l.loss_reason ELSE '' END, "
            "l.responsible, l.stage_key, false FROM crm.leads l JOIN crm.stages st "
            "ON st.account = l.account AND st.pipeline = l.pipeline "
            "AND st.id = l.stage "
            "WHERE l.closed_at IS NOT NULL AND st.kind IN ('won', 'lost')"
        )
        conn.execute(
            "INSERT INTO reports.account_zones (account, timezone) VALUES (%s, %s) "
            "ON CONFLICT DO NOTHING",
            (ACCOUNT, TIMEZONE),
        )
        conn.commit()
        return handed + refused, len(distribution)

    def _set_positions(self, conn: psycopg.Connection[Any], offset: int) -> None:
        """Followers start after the history, as after an import they have read."""
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('crm.events', 'offset'), %s)",
            (offset,),
        )
        conn.execute(
            'INSERT INTO assigner.subscriptions (name, "offset") VALUES '
            "('crm-events', %s) ON CONFLICT (name) DO UPDATE SET \"offset\" = %s",
            (offset, offset),
        )
        conn.execute(
            'INSERT INTO reports.stream_offsets (stream, "offset") VALUES '
            "('crm.events', %s) ON CONFLICT (stream) DO UPDATE SET \"offset\" = %s",
            (offset, offset),
        )
        for m in managers(self.sizes.managers):
            conn.execute(
                "INSERT INTO crm.claims (account, group_id, user_id, at) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (ACCOUNT, self.group[m], m, self.now - timedelta(days=2)),
            )
        conn.commit()


_extra: dict[int, list[psycopg.Connection[Any]]] = {}


def _second(conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    return _sibling(conn, 0)


def _third(conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    return _sibling(conn, 1)


def _sibling(conn: psycopg.Connection[Any], n: int) -> psycopg.Connection[Any]:
    """More connections to the same database: two COPYs stream at once."""
    pool = _extra.setdefault(id(conn), [])
    while len(pool) <= n:
        pool.append(psycopg.connect(conn.info.dsn))
    return pool[n]


def _commit_all(conn: psycopg.Connection[Any]) -> None:
    conn.commit()
    for other in _extra.pop(id(conn), []):
        other.commit()
        other.close()


INDEXED = {"crm": ("leads", "events", "tasks")}


def drop_indexes(database_url: str) -> list[str]:
    """The secondary indexes of the big tables, dropped; their DDL to rebuild them."""
    rebuild: list[str] = []
    with psycopg.connect(pg_dsn(database_url), autocommit=True) as conn:
        for schema, tables in INDEXED.items():
            for table in tables:
                rows = conn.execute(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s "
                    "AND tablename = %s AND indexname NOT LIKE %s",
                    (schema, table, "%_pkey"),
                ).fetchall()
                for name, ddl in rows:
                    conn.execute(f'DROP INDEX "{schema}"."{name}"')
                    rebuild.append(ddl)
    return rebuild


def rebuild_indexes(database_url: str, ddl: list[str]) -> None:
    with psycopg.connect(pg_dsn(database_url), autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        for statement in ddl:
            conn.execute(statement)
        # VACUUM as autovacuum would have by now on a real account: it marks
        # the pages all-visible, so counts can be answered from indexes alone.
        conn.execute("VACUUM (ANALYZE)")


def write_history(database_url: str, sizes: Sizes, seed: int, today: date) -> Written:
    """The bulk rows, on top of an applied workspace; indexes rebuilt after."""
    started = time.perf_counter()
    ddl = drop_indexes(database_url)
    with psycopg.connect(pg_dsn(database_url)) as conn:
        written = History(sizes, seed, today).write(conn)
    rebuild_indexes(database_url, ddl)
    written.seconds = time.perf_counter() - started
    return written
