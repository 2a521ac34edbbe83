"""The SQLite scenario: two gateways pressing on one embedded account."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import claims
from bench.claims import Burst, median
from bench.figures import (
    exactly_once,
    summarize,
)
from bench.followers import (
    caught_up,
    sqlite_scalar,
)
from bench.generate import (
    ACCOUNT,
    POOL_USER,
    SOURCE,
    managers,
    no_history_limits,
    workspace_yaml,
)
from bench.plan import Plan, Results, log
from bench.prepare import tokens
from bench.stack import bench_stack


def sqlite_scenario(plan: Plan, data_dir: Path, r: Results) -> None:
    # The embedded default serves a small floor: 2 gateways x 16 managers.
    s = replace(plan.sizes, managers=32, groups=2)
    home = data_dir / "sqlite"
    spec = data_dir / "workspace-sqlite.yaml"
    spec.write_text(workspace_yaml(s, no_history_limits()))
    users = managers(s.managers)
    product: list[Burst] = []
    raw: list[Burst] = []
    with bench_stack(home, None, ACCOUNT, gateways=2) as stack:
        stack.cli("apply", str(spec))
        seed_sqlite_pool(home, plan.sqlite_pool)
        toks = tokens(stack, s)
        for run in range(plan.runs):
            log(f"SQLite claim bursts, run {run + 1}")
            raw.append(
                claims.raw_sqlite_burst(
                    str(home / "crm.db"), 32, plan.sqlite_presses, users
                )
            )
            caught_up(sqlite_scalar(home))
            product.append(
                asyncio.run(
                    claims.graphql_burst(stack.urls, toks, 32, plan.sqlite_presses)
                )
            )
        memory = stack.peak_memory()
    r.raw["sqlite_memory_mb"] = memory
    r.raw["claim_sqlite_2x16"] = summarize(product)
    r.raw["claim_raw_sqlite"] = summarize(raw)
    tp = median([b.throughput for b in product])
    raw_tp = median([b.throughput for b in raw])
    r.figure(
        "SQLite claim, 2 gateways x 16 managers",
        tp,
        "claims/s",
        raw_tp,
        tp / raw_tp if raw_tp else None,
        ">= 0.30 x raw",
        tp >= 0.3 * raw_tp,
    )
    exactly_once(r, "SQLite claim", product, "busy errors reaching a client")


def seed_sqlite_pool(home: Path, leads: int) -> None:
    """Pool leads written straight into the crm's SQLite file.

    As if imported long ago and already read by every follower: the rows
    only, nothing new in the event log for the followers to react to.
    """
    now = datetime.now(UTC)
    rows = []
    for i in range(leads):
        at = (now - timedelta(days=3, seconds=leads - i)).isoformat(sep=" ")
        rows.append(
            (
                ACCOUNT,
                f"S{i:07d}",
                f"Lead {i}",
                0,
                "sales",
                "new",
                SOURCE,
                POOL_USER,
                "call",
                "",
                at,
                None,
                "",
                at,
                POOL_USER,
                "new",
            )
        )
    with sqlite3.connect(home / "crm.db", timeout=30) as conn:
        conn.executemany(
            "INSERT INTO leads (account, id, name, budget, pipeline, stage, stage_key,"
            " responsible, channel, tags, created_at, closed_at, loss_reason, "
            "stage_changed_at, stage_changed_by, last_open_stage) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
