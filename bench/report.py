"""RESULTS.md and results.json from the figures of one run."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from bench import profile
from bench.generate import (
    pg_dsn,
)
from bench.plan import PG_URL, Plan, Results


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
