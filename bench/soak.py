"""The long runs: the claim burst alone (before/after), and the soak."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from bench import claims
from bench.claims import Burst, median
from bench.figures import (
    exactly_once,
)
from bench.followers import (
    caught_up,
    pg_scalar,
)
from bench.generate import (
    ACCOUNT,
    managers,
    pg_dsn,
)
from bench.plan import Plan, Results, log
from bench.prepare import generate, tokens
from bench.stack import CpuMeter, bench_stack


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
