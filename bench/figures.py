"""The figures of a run: each measured value beside its baseline and target."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from typing import Any

from bench import claims, scenarios
from bench.claims import Burst, median
from bench.plan import HERE, Results, log


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
    if not all_leads(bursts):
        # A burst in which every press is refused measures nothing: the
        # generated account's limits refuse (a bench fault, not a figure).
        refused = [b.refused for b in bursts]
        r.failures.append(f"Claim burst: no press got a lead (refused: {refused})")


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
