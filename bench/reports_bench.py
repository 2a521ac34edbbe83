"""Benchmark: a month's distribution report for 500 managers over a loaded read model.

Loads 1,000,000 decisions (and 1,000,000 CRM events) through the reports
service's own projection code into a fresh database, then times:

  - the DistributionReport RPC (gRPC on loopback, as the gateway calls it),
  - a raw aggregate SQL over the read model (the floor the RPC sits on),
  - the same month aggregated from a plain 1,000,000-row decision log, which
    is what a report without a read model would have to scan,
  - the LossReasonsReport RPC over the last-closing table.

    .venv/bin/python bench/reports_bench.py                 # SQLite file
    .venv/bin/python bench/reports_bench.py --decisions 100000 --crm-events 0
    LEADROUTER_BENCH_DATABASE_URL=postgresql+psycopg://… .venv/bin/python …

Figures go to stdout. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from leadrouter.clients import Clients  # noqa: E402
from leadrouter.db import Database  # noqa: E402
from leadrouter.reports.v1 import reports_pb2  # noqa: E402
from services.reports.server import ReportsRunner, ReportsServicer  # noqa: E402
from services.reports.store import (  # noqa: E402
    DECISIONS,
    CrmFact,
    DecisionFact,
    ReportsStore,
)
from services.reports.tables import metadata  # noqa: E402

ACCOUNT = "bench"
TIMEZONE = "Asia/Tomsk"
MANAGERS = [f"m{i:03d}" for i in range(500)]
GROUPS = [f"g{i:02d}" for i in range(10)]
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
MONTH = ("2026-06-01", "2026-06-30")
STAGE_KINDS = {
    "sales/new": "open",
    "sales/taken": "open",
    "sales/won": "won",
    "sales/lost": "lost",
}
REASONS = ["too expensive", "no answer", "competitor", "not a fit", ""]
BATCH = 5000


def synthetic_decisions(n: int, rng: random.Random) -> Iterator[DecisionFact]:
    """A year of decisions: claims, pushes and a few manual ones, some refused."""
    span = 365 * 24 * 3600
    for offset in range(1, n + 1):
        user = rng.choice(MANAGERS)
        kind = rng.choices(("claim", "push", "manual"), (60, 35, 5))[0]
        refused = kind == "claim" and rng.random() < 0.1
        yield DecisionFact(
            offset=offset,
            account=ACCOUNT,
            kind=kind,
            outcome="refused"
            if refused
            else ("claimed" if kind == "claim" else "assigned"),
            group_id=GROUPS[int(user[1:]) % len(GROUPS)],
            assignee="" if refused else user,
            lead_id=f"L{offset}",
            at=YEAR_START + timedelta(seconds=span * offset // n),
        )


def synthetic_crm_events(n: int, rng: random.Random) -> Iterator[CrmFact]:
    """Leads created, handed to a manager, then won or lost; some reopened."""
    span = 365 * 24 * 3600
    offset = 0
    lead = 0
    while offset < n:
        lead += 1
        at = YEAR_START + timedelta(seconds=span * offset // max(n, 1))
        lead_id = f"L{lead}"
        user = rng.choice(MANAGERS)
        steps: list[tuple[str, dict[str, Any]]] = [
            (
                "lead_created",
                {"pipeline": "sales", "stage": "new", "responsible": "pool"},
            ),
            ("responsible_changed", {"to": user}),
            ("stage_changed", {"to": "taken"}),
        ]
        outcome = rng.choice(("won", "lost", "open"))
        if outcome != "open":
            steps.append(
                ("stage_changed", {"to": outcome, "loss_reason": rng.choice(REASONS)})
            )
            if rng.random() < 0.05:
                steps.append(("lead_reopened", {"by": "head"}))
                steps.append(("stage_changed", {"to": "won"}))
        for i, (kind, data) in enumerate(steps):
            offset += 1
            if offset > n:
                return
            yield CrmFact(
                offset=offset,
                account=ACCOUNT,
                type=kind,
                lead_id=lead_id,
                at=at + timedelta(hours=i),
                data={"type": kind, "lead": lead_id, **data},
            )


def batches(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def load(store: ReportsStore, args: argparse.Namespace, rng: random.Random) -> None:
    zones = {ACCOUNT: TIMEZONE}
    started = time.perf_counter()
    for batch in batches(synthetic_decisions(args.decisions, rng), BATCH):
        store.apply_decisions(facts=batch, zones=zones)
    took = time.perf_counter() - started
    print(
        f"loaded {args.decisions:,} decisions into the read model in {took:.1f} s "
        f"({args.decisions / took:,.0f}/s)"
    )
    if args.crm_events:
        started = time.perf_counter()
        kinds = {ACCOUNT: STAGE_KINDS}
        for batch in batches(synthetic_crm_events(args.crm_events, rng), BATCH):
            store.apply_crm_events(batch, kinds)
        took = time.perf_counter() - started
        print(
            f"loaded {args.crm_events:,} CRM events into the read model in {took:.1f} s"
            f" ({args.crm_events / took:,.0f}/s)"
        )


def named(db: Database, table: str) -> str:
    """A table's name in raw SQL: PostgreSQL keeps the service's tables in a schema."""
    return table if db.is_sqlite else f'"{db.schema}".{table}'


def load_raw_log(db: Database, n: int, rng: random.Random) -> None:
    """The same decisions as a plain journal table, for the scan comparison."""
    log = named(db, "bench_decision_log")
    with db.engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {log}"))
        conn.execute(
            text(
                f"CREATE TABLE {log} (seq BIGINT PRIMARY KEY, "
                "account VARCHAR NOT NULL, kind VARCHAR NOT NULL, "
                "outcome VARCHAR NOT NULL, group_id VARCHAR NOT NULL, "
                "assignee VARCHAR NOT NULL, at TIMESTAMP NOT NULL)"
            )
        )
        insert = text(
            f"INSERT INTO {log} VALUES "
            "(:seq, :account, :kind, :outcome, :group_id, :assignee, :at)"
        )
        for batch in batches(synthetic_decisions(n, rng), BATCH):
            conn.execute(
                insert,
                [
                    {
                        "seq": d.offset,
                        "account": d.account,
                        "kind": d.kind,
                        "outcome": d.outcome,
                        "group_id": d.group_id,
                        "assignee": d.assignee,
                        "at": d.at.replace(tzinfo=None),
                    }
                    for d in batch
                ],
            )
        conn.execute(text(f"CREATE INDEX ix_bench_log_at ON {log} (account, at)"))


async def timed(label: str, runs: int, fn: Callable[[], Awaitable[Any]]) -> list[float]:
    await fn()  # warm caches and connections
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    print(
        f"  {label:<52} median {statistics.median(times):8.1f} ms   "
        f"p95 {p95:8.1f} ms   max {times[-1]:8.1f} ms"
    )
    return times


async def measure(
    db: Database, store: ReportsStore, runs: int, has_log: bool, decisions: int
) -> None:
    servicer = ReportsServicer(store, Clients({}))

    def register(server: Any) -> list[str]:
        from leadrouter.reports.v1 import reports_pb2_grpc

        reports_pb2_grpc.add_ReportsServicer_to_server(servicer, server)
        return [reports_pb2.DESCRIPTOR.services_by_name["Reports"].full_name]

    runner = ReportsRunner("reports", register)
    port = await runner.start("127.0.0.1:0")
    clients = Clients({"reports": [f"127.0.0.1:{port}"]}, timeout=60)
    try:
        month = {"from": MONTH[0], "to": MONTH[1]}
        reply = await clients.reports.distribution_report(
            reports_pb2.DistributionReportRequest(
                account=ACCOUNT, bucket="day", **month
            ),
        )
        with db.engine.connect() as conn:
            cells = conn.execute(
                text(f"SELECT COUNT(*) FROM {named(db, 'distribution_days')}")
            ).scalar()
            closings = conn.execute(
                text(f"SELECT COUNT(*) FROM {named(db, 'lead_closings')}")
            ).scalar()
        print(
            f"read model: {cells:,} day counters, {closings:,} last closings; "
            f"June report: {len(reply.managers)} managers, "
            f"{len(reply.cells.user_id):,} (manager, day) cells, "
            f"{reply.total.total:,} leads handed out"
        )
        print(f"timings over {runs} runs ({db.engine.dialect.name}):")
        for bucket in ("day", "week", "month"):
            await timed(
                f"DistributionReport RPC, June by {bucket}",
                runs,
                lambda b=bucket: clients.reports.distribution_report(  # type: ignore[misc]
                    reports_pb2.DistributionReportRequest(
                        account=ACCOUNT, bucket=b, **month
                    ),
                ),
            )

        def raw_read_model() -> list[Any]:
            with db.engine.connect() as conn:
                return list(
                    conn.execute(
                        text(
                            "SELECT user_id, kind, SUM(leads) FROM "
                            f"{named(db, 'distribution_days')} "
                            "WHERE account = :a AND day BETWEEN :f AND :t "
                            "GROUP BY user_id, kind"
                        ),
                        {"a": ACCOUNT, "f": date(2026, 6, 1), "t": date(2026, 6, 30)},
                    )
                )

        def raw_log() -> list[Any]:
            with db.engine.connect() as conn:
                return list(
                    conn.execute(
                        text(
                            "SELECT assignee, kind, COUNT(*) FROM "
                            f"{named(db, 'bench_decision_log')} "
                            "WHERE account = :a AND at >= :f AND at < :t "
                            "AND outcome IN ('claimed', 'assigned') "
                            "GROUP BY assignee, kind"
                        ),
                        {
                            "a": ACCOUNT,
                            "f": datetime(2026, 5, 31, 17),
                            "t": datetime(2026, 6, 30, 17),
                        },
                    )
                )

        await timed(
            "raw SQL on the read model (June, per manager+kind)",
            runs,
            lambda: db.run(raw_read_model),
        )
        if has_log:
            await timed(
                f"raw SQL on a {decisions:,}-row decision log (June)",
                runs,
                lambda: db.run(raw_log),
            )
        await timed(
            "LossReasonsReport RPC, June by manager",
            runs,
            lambda: clients.reports.loss_reasons_report(
                reports_pb2.LossReasonsReportRequest(
                    account=ACCOUNT, group_by="manager", **month
                ),
            ),
        )
    finally:
        await clients.close()
        await runner.stop(grace=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--crm-events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-log", action="store_true", help="skip the raw log table")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--keep",
        type=Path,
        help="keep the SQLite file here, and reuse it when it is already loaded",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="reports-bench-") as tmp:
        where = args.keep or Path(tmp) / "reports.db"
        url = os.environ.get("LEADROUTER_BENCH_DATABASE_URL") or f"sqlite:///{where}"
        db = Database(url, "reports_bench", metadata)
        try:
            db.create_all()
            store = ReportsStore(db)
            loaded = store.positions()
            if args.keep and loaded[DECISIONS] == args.decisions:
                print(f"reusing the read model in {where}")
                asyncio.run(
                    measure(db, store, args.runs, not args.no_log, args.decisions)
                )
                return
            store.reset()
            load(store, args, random.Random(args.seed))
            if not args.no_log:
                started = time.perf_counter()
                load_raw_log(db, args.decisions, random.Random(args.seed))
                print(
                    f"loaded the same decisions as a plain log table in "
                    f"{time.perf_counter() - started:.1f} s"
                )
            asyncio.run(measure(db, store, args.runs, not args.no_log, args.decisions))
        finally:
            db.close()


if __name__ == "__main__":
    main()
