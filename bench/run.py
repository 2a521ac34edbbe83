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
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from bench import claims, profile, scenarios
from bench.claims import Burst
from bench.figures import (
    _claims,
    _eligibility,
    _long_burst,
    _push_results,
    _reports,
    _traced,
    cpu_median,
    memory_figures,
    summarize,
    whatif,
)
from bench.followers import (
    caught_up,
    pg_scalar,
)
from bench.generate import (
    ACCOUNT,
    GENEROUS,
    managers,
    pg_dsn,
    push_weights,
)
from bench.plan import FULL, HERE, PG_URL, QUICK, Plan, Results, log
from bench.prepare import clients_of, generate, tokens
from bench.report import render, write
from bench.soak import claims_only, soak
from bench.sqlite_bench import sqlite_scenario
from bench.stack import BenchStack, CpuMeter, bench_stack


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
