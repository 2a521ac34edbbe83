"""Every benchmark scenario, its same-run baseline and its target.

    .venv/bin/python -m bench.run            # make bench: the full account
    .venv/bin/python -m bench.run --quick    # make bench-quick: a tiny one

Writes bench/RESULTS.md and bench/results.json (--quick: bench/results/quick.*).
Exits non-zero when a correctness check fails (a duplicate claim, a busy error
reaching a client, figures that differ, a split that is not exact); speed
targets are reported as met or missed, never fatal: shared machines are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from bench import claims, profile, scenarios
from bench.claims import Burst, median
from bench.generate import (
    ACCOUNT,
    GENEROUS,
    POOL_USER,
    SOURCE,
    Sizes,
    create_tables,
    fingerprint,
    group_of,
    managers,
    no_history_limits,
    pg_dsn,
    push_weights,
    recreate_database,
    store_generation,
    stored_generation,
    workspace_yaml,
    write_history,
)
from bench.stack import BenchStack, CpuMeter, bench_stack
from leadrouter.clients import Clients

HERE = Path(__file__).resolve().parent
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/leadrouter_bench"


@dataclass(frozen=True)
class Plan:
    sizes: Sizes
    runs: int  # every figure is the median of this many runs
    presses: int  # presses per claim burst run
    push_leads: int
    sqlite_presses: int
    sqlite_pool: int
    query_runs: int
    quick: bool = False
    # One 32-manager burst this long: its last quarter's rate against its first.
    long_presses: int = 3_000


# Sized so that `make bench` ends within 20 minutes on a shared 2-core machine.
FULL = Plan(Sizes(), 3, 500, 300, 300, 5_000, 5)
QUICK = Plan(Sizes.quick(), 1, 60, 100, 60, 500, 2, quick=True, long_presses=200)


class Results:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.raw: dict[str, Any] = {}
        self.failures: list[str] = []

    def figure(
        self,
        name: str,
        value: float,
        unit: str,
        baseline: float | None,
        ratio: float | None,
        target: str,
        met: bool,
        correctness: bool = False,
    ) -> None:
        self.rows.append(
            {
                "name": name,
                "value": round(value, 3),
                "unit": unit,
                "baseline": None if baseline is None else round(baseline, 3),
                "ratio": None if ratio is None else round(ratio, 3),
                "target": target,
                "met": met,
                "correctness": correctness,
            }
        )
        if correctness and not met:
            self.failures.append(f"{name}: {value} ({target})")
        print(
            f"  {name}: {value:.3f} {unit} ratio={ratio} target {target} "
            f"{'met' if met else 'MISSED'}",
            flush=True,
        )


def log(text: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {text}", flush=True)


def tokens(stack: BenchStack, sizes: Sizes) -> dict[str, tuple[str, str]]:
    return {
        m: (stack.token(m), group_of(i, sizes))
        for i, m in enumerate(managers(sizes.managers))
    }


def clients_of(stack: BenchStack) -> Clients:
    s = stack.settings
    return Clients(
        {n: [s.addr_for(n)] for n in ("crm", "limits", "reports")}, timeout=300
    )


def summarize(bursts: list[Burst]) -> dict[str, Any]:
    return {
        "throughput_per_s": [round(b.throughput, 1) for b in bursts],
        "p99_ms": [round(b.p99_ms, 1) for b in bursts],
        "claims": [len(b.leads) for b in bursts],
        "duplicates": [b.duplicates for b in bursts],
        "errors": [len(b.errors) for b in bursts],
        "refused": [b.refused for b in bursts],
        "first_errors": [e for b in bursts for e in b.errors[:2]][:4],
    }


def cpu_median(readings: list[dict[str, float]]) -> dict[str, float]:
    """Each part's median over the runs."""
    parts = {k for reading in readings for k in reading}
    return {k: median([m[k] for m in readings if k in m]) for k in sorted(parts)}


def all_leads(bursts: list[Burst]) -> list[str]:
    return [lead for b in bursts for lead in b.leads]


# What is written, and how far the product's followers have read it:
# (service, the stream's last offset), (service, a follower's stored offset).
FOLLOWED = [
    (
        ("crm", 'SELECT max("offset") FROM {s}events'),
        (
            "reports",
            "SELECT \"offset\" FROM {s}stream_offsets WHERE stream = 'crm.events'",
        ),
    ),
    (
        ("crm", 'SELECT max("offset") FROM {s}events'),
        (
            "assigner",
            "SELECT \"offset\" FROM {s}subscriptions WHERE name = 'crm-events'",
        ),
    ),
    (
        ("assigner", "SELECT max(seq) FROM {s}decisions"),
        (
            "reports",
            'SELECT "offset" FROM {s}stream_offsets '
            "WHERE stream = 'assigner.decisions'",
        ),
    ),
]

Scalar = Callable[[str, str], Any]


def caught_up(scalar: Scalar, timeout: float = 120.0) -> None:
    """Waits until the product's followers have read everything written so far.

    A baseline writes events and decisions too; the product's followers would
    otherwise still be reading them during the product's own run, and the
    product's figure would pay for the baseline's work.
    """
    deadline = time.monotonic() + timeout
    while True:
        behind = [
            written
            for (ws, written), (rs, read) in FOLLOWED
            if _behind(scalar(ws, written), scalar(rs, read))
        ]
        if not behind:
            return
        if time.monotonic() > deadline:
            log(f"followers still behind after {timeout:.0f} s: {behind}")
            return
        time.sleep(0.2)


def _behind(last: int | None, read: int | None) -> bool:
    """Rows written (`last` is None when there are none) not yet read."""
    return last is not None and (read is None or read < last)


def pg_scalar(dsn: str) -> Scalar:
    """The first column of the first row, or None before a follower has a row.

    A connection per question: they are asked only between runs, and none is
    left open for the rest of the bench.
    """

    def scalar(service: str, sql: str) -> Any:
        with psycopg.connect(dsn, autocommit=True) as conn:
            row = conn.execute(sql.format(s=f"{service}.")).fetchone()
        return row[0] if row else None

    return scalar


def sqlite_scalar(home: Path) -> Scalar:
    def scalar(service: str, sql: str) -> Any:
        with contextlib.closing(sqlite3.connect(home / f"{service}.db")) as conn:
            row = conn.execute(sql.format(s="")).fetchone()
        return row[0] if row else None

    return scalar


# -- PostgreSQL ------------------------------------------------------------------


def generate(plan: Plan, url: str, data_dir: Path, seed: int, r: Results) -> None:
    """The account in a template database (made once per seed, sizes and day),
    then copied into the database the scenarios change."""
    today = date.today()
    key = fingerprint(plan.sizes, seed, today)
    template = f"{url}_template"
    stored = stored_generation(template, key)
    if stored is None:
        started = time.perf_counter()
        recreate_database(template)
        create_tables(template)
        spec = data_dir / "workspace.yaml"
        spec.write_text(workspace_yaml(plan.sizes))
        with bench_stack(data_dir / "apply", template, ACCOUNT) as stack:
            stack.cli("apply", str(spec))
        applied = time.perf_counter() - started
        written = write_history(template, plan.sizes, seed, today)
        stored = {
            **asdict(written),
            "apply_seconds": round(applied, 1),
            "seconds": round(time.perf_counter() - started, 1),
            "seed": seed,
            "made": datetime.now(UTC).isoformat(),
        }
        store_generation(template, key, stored)
        log(f"generated in {stored['seconds']:.0f} s: {written}")
    else:
        log(f"reusing the account generated at {stored['made']}")
    started = time.perf_counter()
    recreate_database(url, template=template.rsplit("/", 1)[1])
    r.raw["generation"] = {
        **stored,
        "copy_seconds": round(time.perf_counter() - started, 1),
    }


def pg_scenarios(plan: Plan, url: str, data_dir: Path, r: Results) -> None:
    dsn = pg_dsn(url)
    s = plan.sizes
    users = managers(s.managers)
    product: dict[int, list[Burst]] = {32: [], 128: []}
    raw: list[Burst] = []
    cpu: dict[str, list[dict[str, float]]] = {"raw": [], "product": []}
    scalar = pg_scalar(dsn)
    with bench_stack(data_dir / "pg", url, ACCOUNT) as stack:
        toks = tokens(stack, s)
        clients = clients_of(stack)

        async def queries() -> tuple[Any, Any]:
            e = await scenarios.eligibility(
                clients, dsn, users, plan.query_runs, GENEROUS["days_without_sales"]
            )
            rep = await scenarios.reports(clients, dsn, plan.query_runs, date.today())
            return e, rep

        log("eligibility and reports")
        elig, rep = asyncio.run(queries())
        for run in range(plan.runs):
            log(f"claim bursts, run {run + 1}")
            with CpuMeter() as meter:
                raw.append(claims.raw_pg_burst(dsn, 32, plan.presses, users))
            cpu["raw"].append(meter.per(len(raw[-1].leads)))
            for n in (32, 128):
                caught_up(scalar)
                with CpuMeter(stack) as meter:
                    burst = claims.graphql_burst(stack.urls, toks, n, plan.presses)
                    product[n].append(asyncio.run(burst))
                if n == 32:
                    cpu["product"].append(meter.per(len(product[n][-1].leads)))
        log(f"long claim burst, {plan.long_presses:,} presses")
        caught_up(scalar)
        long = asyncio.run(
            claims.long_graphql_burst(stack.urls, toks, 32, plan.long_presses)
        )
        if not plan.quick and profile.available():
            log("one more 32-manager burst, profiled")
            caught_up(scalar)
            pids = {name: p.pid for name, p in stack.procs.items()}
            with profile.Profiler(pids) as profiler:
                asyncio.run(claims.graphql_burst(stack.urls, toks, 32, plan.presses))
            r.raw["profile"] = profiler.summary()
        memory = stack.peak_memory()
        if plan.quick:
            # One stack for everything: the quick run checks answers, not speed.
            pushes, raw_pushes = _pushes(plan, stack)
    if not plan.quick:
        # Push runs on a stack of its own, after the claim bursts (traced ones
        # too): the leads it hands out stay watched by the assigner's clock.
        traced_scenario(plan, url, data_dir, r)
        with bench_stack(data_dir / "push", url, ACCOUNT) as stack:
            pushes, raw_pushes = _pushes(plan, stack)
            push_memory = stack.peak_memory()
        memory = {k: max(v, push_memory.get(k, 0.0)) for k, v in memory.items()}
    r.raw["pg_memory_mb"] = memory
    _eligibility(r, elig)
    _reports(r, rep)
    _claims(r, product, raw)
    _long_burst(r, long)
    r.raw["cpu_ms_per_claim"] = {side: cpu_median(m) for side, m in cpu.items()}
    if not plan.quick:
        _traced(r)
    _push_results(r, pushes, raw_pushes)


def _pushes(
    plan: Plan, stack: BenchStack
) -> tuple[list[scenarios.Push], list[scenarios.Push]]:
    log("push")
    weights = push_weights(plan.sizes)
    dsn = pg_dsn(stack.settings.database_url or "")
    pushes, raw = [], []
    scalar = pg_scalar(dsn)
    for _ in range(plan.runs):
        raw.append(scenarios.raw_push(dsn, weights, plan.push_leads))
        caught_up(scalar)
        pushes.append(asyncio.run(_push(stack, weights, plan.push_leads, timeout=600)))
    return pushes, raw


async def _push(
    stack: BenchStack, weights: dict[str, int], leads: int, timeout: float
) -> scenarios.Push:
    clients = clients_of(stack)
    try:
        return await scenarios.push(
            clients, pg_dsn(stack.settings.database_url or ""), weights, leads, timeout
        )
    finally:
        await clients.close()


def traced_scenario(plan: Plan, url: str, data_dir: Path, r: Results) -> None:
    s = plan.sizes
    bursts = []
    with bench_stack(data_dir / "traced", url, ACCOUNT, traced=True) as stack:
        toks = tokens(stack, s)
        scalar = pg_scalar(pg_dsn(url))
        for run in range(plan.runs):
            log(f"traced claim burst, run {run + 1}")
            caught_up(scalar)
            bursts.append(
                asyncio.run(claims.graphql_burst(stack.urls, toks, 32, plan.presses))
            )
        memory = stack.peak_memory()
    r.raw["traced_memory_mb"] = memory
    r.raw["claim_traced_32"] = summarize(bursts)
    r.raw["traced_bursts"] = bursts


def _traced(r: Results) -> None:
    bursts: list[Burst] = r.raw.pop("traced_bursts")
    traced = median([b.throughput for b in bursts])
    untraced = median(r.raw["claim_graphql_32"]["throughput_per_s"])
    ratio = traced / untraced if untraced else 0.0
    r.figure(
        "Tracing on: claim throughput, 32 managers",
        traced,
        "claims/s",
        untraced,
        ratio,
        ">= 0.85 x untraced",
        ratio >= 0.85,
    )
    dups = sum(b.duplicates for b in bursts)
    r.figure(
        "Tracing on: duplicate claims",
        dups,
        "leads",
        None,
        None,
        "0",
        dups == 0,
        correctness=True,
    )
    r.raw["claimed_leads_total"] = r.raw.get("claimed_leads_total", 0) + sum(
        len(b.leads) for b in bursts
    )


def _eligibility(r: Results, e: scenarios.Eligibility) -> None:
    p, b = median(e.product), median(e.baseline)
    r.raw["eligibility"] = asdict(e)
    r.figure(
        f"Eligibility of a group of {e.members}",
        p * 1000,
        "ms",
        b * 1000,
        p / b if b else None,
        "<= 2 x one aggregate SQL",
        p <= 2 * b,
    )
    r.figure(
        "Eligibility: figures identical to the SQL",
        1 if e.identical else 0,
        "bool",
        None,
        None,
        "identical",
        e.identical,
        correctness=True,
    )


def _reports(r: Results, rep: scenarios.Reports) -> None:
    p, b = median(rep.product), median(rep.baseline)
    r.raw["reports"] = asdict(rep)
    r.figure(
        f"Reports: a month for {rep.managers} managers",
        p * 1000,
        "ms",
        b * 1000,
        p / b if b else None,
        "< 1 s and <= 3 x raw aggregate",
        p < 1.0 and p <= 3 * b,
    )


def _claims(r: Results, product: dict[int, list[Burst]], raw: list[Burst]) -> None:
    raw_tp = median([b.throughput for b in raw])
    raw_p99 = median([b.p99_ms for b in raw])
    r.raw["claim_raw_pg_32"] = summarize(raw)
    for n, bursts in product.items():
        r.raw[f"claim_graphql_{n}"] = summarize(bursts)
        tp = median([b.throughput for b in bursts])
        p99 = median([b.p99_ms for b in bursts])
        r.figure(
            f"Claim burst, {n} managers: throughput",
            tp,
            "claims/s",
            raw_tp,
            tp / raw_tp if raw_tp else None,
            ">= 0.30 x raw",
            tp >= 0.3 * raw_tp,
        )
        r.figure(
            f"Claim burst, {n} managers: p99",
            p99,
            "ms",
            raw_p99,
            p99 / raw_p99 if raw_p99 else None,
            "<= 5 x raw p99",
            p99 <= 5 * raw_p99,
        )
    tp32 = median([b.throughput for b in product[32]])
    tp128 = median([b.throughput for b in product[128]])
    r.figure(
        "Claim burst: 128 vs 32 managers",
        tp128,
        "claims/s",
        tp32,
        tp128 / tp32 if tp32 else None,
        ">= 0.9 x 32-manager figure",
        tp128 >= 0.9 * tp32,
    )
    bursts = [*product[32], *product[128]]
    r.raw["claimed_leads_total"] = r.raw.get("claimed_leads_total", 0) + len(
        all_leads(bursts)
    )
    exactly_once(r, "Claim burst", bursts, "errors reaching a client")


def _long_burst(r: Results, long: claims.LongBurst) -> None:
    b = long.burst
    r.raw["claim_graphql_long"] = {
        **summarize([b]),
        "first_quarter_per_s": round(long.first, 1),
        "last_quarter_per_s": round(long.last, 1),
    }
    r.figure(
        f"Long claim burst, {len(b.leads):,} claims: last quarter vs first",
        long.last,
        "claims/s",
        long.first,
        long.last / long.first if long.first else None,
        ">= 0.9 x first quarter",
        long.last >= 0.9 * long.first,
    )
    exactly_once(r, "Long claim burst", [b], "errors reaching a client")


def exactly_once(r: Results, label: str, bursts: list[Burst], errors: str) -> None:
    """Every lead handed out once, and no press answered with an error."""
    leads = all_leads(bursts)
    dups = len(leads) - len(set(leads))
    failed = sum(len(b.errors) for b in bursts)
    r.figure(
        f"{label}: duplicates over {len(leads):,} claims",
        dups,
        "leads",
        None,
        None,
        "0",
        dups == 0,
        correctness=True,
    )
    r.figure(
        f"{label}: {errors}",
        failed,
        "presses",
        None,
        None,
        "0",
        failed == 0,
        correctness=True,
    )


def _push_results(
    r: Results, pushes: list[scenarios.Push], raw: list[scenarios.Push]
) -> None:
    tp = median([p.throughput for p in pushes])
    raw_tp = median([p.throughput for p in raw])
    r.raw["push"] = [
        {"seconds": p.seconds, "assigned": p.assigned, "exact": p.exact} for p in pushes
    ]
    r.raw["push_raw"] = [{"seconds": p.seconds} for p in raw]
    n = pushes[0].expected and sum(pushes[0].expected.values())
    r.figure(
        f"Push: {n:,} leads through 50 participants",
        tp,
        "leads/s",
        raw_tp,
        tp / raw_tp if raw_tp else None,
        ">= 0.30 x raw",
        tp >= 0.3 * raw_tp,
    )
    exact = all(p.exact for p in pushes)
    if not exact:
        r.raw["push_split"] = [p.split for p in pushes]
    r.figure(
        "Push: exact weighted split",
        1 if exact else 0,
        "bool",
        None,
        None,
        "exact",
        exact,
        correctness=True,
    )


# -- SQLite ----------------------------------------------------------------------


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


# -- memory, what-if, the report ---------------------------------------------------


def memory_figures(r: Results) -> None:
    peaks: dict[str, float] = {}
    for key in ("pg_memory_mb", "traced_memory_mb", "sqlite_memory_mb"):
        for name, mb in r.raw.get(key, {}).items():
            peaks[name] = max(peaks.get(name, 0.0), mb)
    r.raw["peak_memory_mb"] = peaks
    for name, mb in sorted(peaks.items()):
        r.figure(
            f"Memory: peak RSS of {name}",
            mb,
            "MiB",
            None,
            None,
            "<= 150 MiB",
            mb <= 150,
        )


def whatif(r: Results) -> None:
    script = HERE / "whatif_bench.py"
    if script.exists():
        log("what-if replay")
        args = [sys.executable, str(script)]
        try:
            done = subprocess.run(args, cwd=HERE.parent, check=False, timeout=300)
            if done.returncode != 0:
                r.raw["whatif_exit"] = done.returncode
        except subprocess.TimeoutExpired:
            r.raw["whatif_exit"] = "timed out"
    found = HERE / "results" / "whatif.json"
    if not found.exists():
        return
    try:
        data = json.loads(found.read_text())
    except ValueError:
        return
    r.raw["whatif"] = data
    seconds = data.get("seconds")
    base = data.get("baseline_seconds")
    ratio = data.get("ratio")
    if isinstance(seconds, (int, float)):
        target = str(data.get("target", ""))
        met = bool(data.get("met", True))
        r.figure(
            str(data.get("name", "What-if replay")),
            float(seconds) * 1000,
            "ms CPU",
            None if base is None else float(base) * 1000,
            None if ratio is None else float(ratio),
            target or "-",
            met,
        )


def machine() -> dict[str, Any]:
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    with psycopg.connect(pg_dsn(PG_URL).rsplit("/", 1)[0] + "/postgres") as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(int(mem) / 1024 / 1024, 1),
        "python": platform.python_version(),
        "postgresql": row[0] if row else "",
        "sqlite": sqlite3.sqlite_version,
        "kernel": platform.release(),
    }


def write(
    r: Results, plan: Plan, out_md: Path, out_json: Path, took: float, notes: str
) -> None:
    payload = {
        "machine": machine(),
        "plan": asdict(plan),
        "figures": r.rows,
        "raw": r.raw,
        "seconds": round(took, 1),
        "when": datetime.now(UTC).isoformat(),
    }
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    out_md.write_text(render(payload, notes))


def shown(value: float, unit: str) -> str:
    if unit == "bool":
        return "yes" if value else "no"
    if unit in ("leads", "presses"):
        return f"{value:,.0f} {unit}"
    return f"{value:,.1f} {unit}"


def render(payload: dict[str, Any], notes: str) -> str:
    """RESULTS.md from the figures of one run (results.json)."""
    info, plan, raw = payload["machine"], payload["plan"], payload["raw"]
    sizes, g = plan["sizes"], raw.get("generation", {})
    when = datetime.fromisoformat(payload["when"])
    made = (
        f"generated in {g.get('seconds', 0):.0f} s (seed {g.get('seed')}; "
        f"{g.get('apply_seconds', 0):.0f} s of it applying the workspace through "
        f"`leadrouter apply`), kept as a template database made "
        f"{str(g.get('made', ''))[:16].replace('T', ' ')} UTC and copied for this "
        f"run in {g.get('copy_seconds', 0):.0f} s"
    )
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make {'bench-quick' if plan.get('quick') else 'bench'}` on "
        f"{when:%Y-%m-%d %H:%M} UTC; the whole run took "
        f"{payload['seconds'] / 60:.1f} min. Every figure is the median of "
        f"{plan['runs']} runs (queries: {plan['query_runs']} runs); each ratio is "
        "to a baseline measured in the same run on the same machine.",
        "",
        "## Machine",
        "",
        f"{info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB; Python "
        f"{info['python']}, PostgreSQL {info['postgresql']}, SQLite {info['sqlite']},"
        f" Linux {info['kernel']}. Shared with other work while it ran.",
        "",
        "## Data",
        "",
        f"{sizes['managers']} managers in {sizes['groups']} groups, "
        f"{g.get('leads', 0):,} leads ({sizes['pool']:,} in the pool), "
        f"{g.get('events', 0):,} canonical events over {sizes['months']} months, "
        f"{g.get('tasks', 0):,} tasks ({g.get('overdue_tasks', 0):,} overdue), "
        f"{g.get('decisions', 0):,} decisions in the reports read model; {made}.",
        "",
        f"Per run: {plan['presses']:,} presses per claim burst, "
        f"{plan['push_leads']:,} pushed leads, {plan['sqlite_presses']:,} presses "
        f"on SQLite. Claims through GraphQL in this run: "
        f"{raw.get('claimed_leads_total', 0):,}.",
        "",
        "## Figures",
        "",
        "| scenario | figure | baseline | ratio | target | |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for row in payload["figures"]:
        unit = row["unit"]
        base = "" if row["baseline"] is None else shown(row["baseline"], unit)
        ratio = "" if row["ratio"] is None else f"{row['ratio']:.2f}"
        lines.append(
            f"| {row['name']} | {shown(row['value'], unit)} | {base} | {ratio} | "
            f"{row['target']} | {'met' if row['met'] else '**missed**'} |"
        )
    lines.append("")
    lines += cpu_section(raw.get("cpu_ms_per_claim"))
    lines += profile.section(raw.get("profile"))
    if notes:
        lines += [notes.rstrip(), ""]
    return "\n".join(lines)


def cpu_section(cpu: dict[str, dict[str, float]] | None) -> list[str]:
    """Where a claim's CPU goes, the product's 32-manager burst beside the raw loop."""
    if not cpu:
        return []
    parts = [
        ("services", "the product's processes"),
        ("database", "the PostgreSQL server"),
        ("client", "the bench process (the pressing managers, or the raw loop)"),
    ]
    lines = [
        "## CPU per claim",
        "",
        "Milliseconds of CPU per claim handed out, medians over the runs, read "
        "from /proc during the 32-manager bursts. On two cores, 2,000 ms of CPU "
        "per second is the ceiling of everything that runs.",
        "",
        "| spent by | product | raw loop |",
        "| --- | ---: | ---: |",
    ]
    product, raw = cpu.get("product", {}), cpu.get("raw", {})
    for key, label in parts:
        if key in product or key in raw:
            p = f"{product[key]:.1f}" if key in product else ""
            b = f"{raw[key]:.1f}" if key in raw else ""
            lines.append(f"| {label} | {p} | {b} |")
    total_p, total_b = sum(product.values()), sum(raw.values())
    lines += [f"| all | {total_p:.1f} | {total_b:.1f} |", ""]
    return lines


def claims_only(plan: Plan, url: str, seed: int) -> None:
    """The claim burst alone, on the same template as the full or quick run."""
    r = Results()
    raw: list[Burst] = []
    product: list[Burst] = []
    with tempfile.TemporaryDirectory(prefix="leadrouter-bench-") as tmp:
        data_dir = Path(tmp)
        generate(plan, url, data_dir, seed, r)
        with bench_stack(data_dir / "pg", url, ACCOUNT) as stack:
            toks = tokens(stack, plan.sizes)
            users = managers(plan.sizes.managers)
            for run in range(plan.runs):
                with CpuMeter() as raw_meter:
                    raw.append(
                        claims.raw_pg_burst(pg_dsn(url), 32, plan.presses, users)
                    )
                log(f"raw loop CPU ms per claim: {raw_meter.per(len(raw[-1].leads))}")
                caught_up(pg_scalar(pg_dsn(url)))
                burst = claims.graphql_burst(stack.urls, toks, 32, plan.presses)
                before = stack.cpu()
                with CpuMeter(stack) as meter:
                    product.append(asyncio.run(burst))
                spent = {k: v - before[k] for k, v in stack.cpu().items()}
                per = max(len(product[-1].leads), 1)
                log(
                    "CPU ms per claim: "
                    + ", ".join(f"{k} {v * 1000 / per:.1f}" for k, v in spent.items())
                    + f"; {meter.per(per)}"
                )
                log(
                    f"run {run + 1}: {product[-1].throughput:.1f} claims/s "
                    f"p99 {product[-1].p99_ms:.0f} ms; raw "
                    f"{raw[-1].throughput:.1f} claims/s p99 {raw[-1].p99_ms:.0f} ms"
                )
    tp = median([b.throughput for b in product])
    raw_tp = median([b.throughput for b in raw])
    p99 = median([b.p99_ms for b in product])
    raw_p99 = median([b.p99_ms for b in raw])
    log(
        f"median of {plan.runs}: {tp:.1f} claims/s (raw {raw_tp:.1f}, "
        f"ratio {tp / raw_tp:.3f}); p99 {p99:.0f} ms (raw {raw_p99:.0f}, "
        f"{p99 / raw_p99:.2f} x)"
    )
    exactly_once(r, "Claim burst", product, "errors reaching a client")


def soak(plan: Plan, url: str, seed: int, presses: int) -> None:
    """One long 32-manager burst through GraphQL, checked for duplicates.

    No baseline runs beside it, so the whole pool is the product's: the point
    is the exactly-once count over many claims, not a ratio.
    """
    if presses > plan.sizes.pool:
        sys.exit(f"the pool holds {plan.sizes.pool:,} leads; press at most that often")
    r = Results()
    with tempfile.TemporaryDirectory(prefix="leadrouter-bench-") as tmp:
        data_dir = Path(tmp)
        generate(plan, url, data_dir, seed, r)
        with bench_stack(data_dir / "pg", url, ACCOUNT) as stack:
            toks = tokens(stack, plan.sizes)

            marks: list[tuple[int, float]] = []

            def progress(claimed: int, seconds: float) -> None:
                rate = claimed / seconds
                marks.append((claimed, seconds))
                log(f"{claimed:,} claims in {seconds:.0f} s ({rate:.1f}/s)")

            burst = asyncio.run(
                claims.graphql_burst(stack.urls, toks, 32, presses, progress)
            )
    log(
        f"soak: {presses:,} presses, {len(burst.leads):,} claims in "
        f"{burst.seconds:.0f} s ({burst.throughput:.1f} claims/s), p99 "
        f"{burst.p99_ms:.0f} ms, refused {burst.refused or 'never'}"
    )
    if len(marks) >= 2:
        # Each mark is 10,000 claims: the last ten thousand against the first.
        (n1, t1), (n_last, t_last) = marks[0], marks[-1]
        (n_prev, t_prev) = marks[-2]
        first, last = n1 / t1, (n_last - n_prev) / (t_last - t_prev)
        log(
            f"soak: first {n1:,} claims at {first:.1f}/s, the last "
            f"{n_last - n_prev:,} at {last:.1f}/s ({last / first:.2f} x)"
        )
    exactly_once(r, "Soak", [burst], "errors reaching a client")
    if r.failures:
        print("correctness failures:\n  " + "\n  ".join(r.failures), file=sys.stderr)
        print("\n  ".join(["first errors:", *burst.errors[:5]]), file=sys.stderr)
        sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("LEADROUTER_BENCH_DATABASE_URL", PG_URL),
    )
    parser.add_argument(
        "--render", action="store_true", help="only rewrite RESULTS.md from its JSON"
    )
    parser.add_argument(
        "--claims-only",
        type=int,
        metavar="RUNS",
        default=0,
        help="only the 32-manager claim burst and its raw baseline, RUNS times; "
        "prints the figures and writes no results (for before/after comparisons)",
    )
    parser.add_argument(
        "--soak",
        type=int,
        metavar="PRESSES",
        default=0,
        help="one burst of PRESSES presses through GraphQL, no baseline, checked "
        "for duplicates (for the exactly-once count over many claims)",
    )
    args = parser.parse_args()
    notes_file = HERE / "NOTES.md"
    if args.render:
        payload = json.loads((HERE / "results.json").read_text())
        (HERE / "RESULTS.md").write_text(render(payload, notes_file.read_text()))
        return
    plan = QUICK if args.quick else FULL
    presses = os.environ.get("LEADROUTER_BENCH_PRESSES")
    if presses:  # a longer soak for the exactly-once check
        plan = replace(plan, presses=int(presses))
    url = args.database_url + ("_quick" if args.quick else "")
    if args.soak:
        soak(plan, url, args.seed, args.soak)
        return
    if args.claims_only:
        claims_only(replace(plan, runs=args.claims_only), url, args.seed)
        return
    out = HERE / "results" if args.quick else HERE
    stem = "quick" if args.quick else "results"
    r = Results()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="leadrouter-bench-") as tmp:
        data_dir = Path(tmp)
        generate(plan, url, data_dir, args.seed, r)
        pg_scenarios(plan, url, data_dir, r)
        sqlite_scenario(plan, data_dir, r)
    memory_figures(r)
    if not args.quick:
        whatif(r)
    took = time.perf_counter() - started
    notes = notes_file.read_text() if notes_file.exists() and not args.quick else ""
    md = out / ("quick.md" if args.quick else "RESULTS.md")
    write(r, plan, md, out / f"{stem}.json", took, notes)
    log(f"done in {took:.0f} s; wrote {md}")
    if r.failures:
        print("correctness failures:\n  " + "\n  ".join(r.failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
