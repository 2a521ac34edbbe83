"""The bench's plan (sizes, runs, presses) and the figures it collects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.generate import (
    Sizes,
)

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
