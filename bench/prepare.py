"""A run's account: generated once, copied for the run; its managers' tokens."""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path

from bench.generate import (
    ACCOUNT,
    Sizes,
    create_tables,
    fingerprint,
    group_of,
    managers,
    recreate_database,
    store_generation,
    stored_generation,
    workspace_yaml,
)
from bench.history import write_history
from bench.plan import Plan, Results, log
from bench.stack import BenchStack, bench_stack
from leadrouter.clients import Clients


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
