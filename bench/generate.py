"""A big account for the benchmarks, written straight into the services' tables.

500 managers in 10 groups, 1,000,000 leads, 5,000,000 canonical events over
18 months, 200,000 tasks (some overdue) and a reports read model over
1,000,000 decisions. Some managers are far busier than others (a power-law
share of the leads). Everything follows from the seed and the day it is
generated for, so two runs on the same day write the same rows.

Importing history through the crm checks every event against the state it
builds (milliseconds per event); here the finished state is computed once and
sent with PostgreSQL COPY into each service's own schema and tables
(services/*/tables.py), with the secondary indexes built after the rows are in.
The followers' offsets (assigner, reports) are set past the written events,
as after an import they have already read.

The configuration (users, stages, groups, limits, schedules, the push
template) goes through `leadrouter apply` like any account's.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

import psycopg
import yaml
from sqlalchemy import MetaData

from leadrouter.db import Database
from leadrouter.limit_rules import RULES
from services.assigner.tables import metadata as assigner_metadata
from services.crm.tables import metadata as crm_metadata
from services.limits.tables import metadata as limits_metadata
from services.reports.tables import metadata as reports_metadata
from services.scheduler.tables import metadata as scheduler_metadata

ACCOUNT = "bench"
TIMEZONE = "Asia/Tomsk"
LOCAL = timedelta(hours=7)  # Tomsk keeps UTC+7 all year
POOL_USER = "pool"
PIPELINE = "sales"
SOURCE = "sales/new"
TARGET = "sales/taken"
KEY_STAGE = "sales/meeting"
ALL_GROUP = "floor"  # every manager: the eligibility scenario's group of 500
PUSH_TEMPLATE = "push50"
PUSH_CHANNEL = "web"
CHANNELS = ("call", "email", "site")  # never the push channel: history stays put
REASONS = ("too expensive", "no answer", "competitor", "not a fit")
METADATA: dict[str, MetaData] = {
    "crm": crm_metadata,
    "limits": limits_metadata,
    "scheduler": scheduler_metadata,
    "assigner": assigner_metadata,
    "reports": reports_metadata,
}
# Every limit on, none refusing: claims pay for the full evaluation. The
# ceilings are the limits' own bounds (the file is refused past them); the
# minimums are 0, which nobody falls below; the interval between claims is
# left off (0 would be a limit that never refuses too, but it is not "on").
_LOWER_IS_GENEROUS = ("min_sales_last_month", "min_key_stage_last_week")
GENEROUS = {
    rule.name: 0 if rule.name in _LOWER_IS_GENEROUS else rule.high
    for rule in RULES
    if rule.name != "interval_minutes"
}


@dataclass(frozen=True)
class Sizes:
    managers: int = 500
    groups: int = 10
    leads: int = 1_000_000
    events: int = 5_000_000
    tasks: int = 200_000
    decisions: int = 1_000_000
    pool: int = 150_000  # unworked leads in sales/new, owned by the pool user
    push_participants: int = 50
    months: int = 18

    @classmethod
    def quick(cls) -> Sizes:
        return cls(
            managers=100,
            leads=30_000,
            events=150_000,
            tasks=6_000,
            decisions=30_000,
            pool=6_000,
        )


def managers(n: int) -> list[str]:
    return [f"m{i:03d}" for i in range(n)]


def group_of(index: int, sizes: Sizes) -> str:
    return f"g{index % sizes.groups:02d}"


def push_weights(sizes: Sizes) -> dict[str, int]:
    """Half the participants weigh 1, half 3: 10,000 leads split exactly 100/300."""
    return {
        m: 1 if i % 2 == 0 else 3
        for i, m in enumerate(managers(sizes.managers)[: sizes.push_participants])
    }


def workspace(sizes: Sizes, limits: dict[str, int] | None = None) -> dict[str, Any]:
    people = managers(sizes.managers)
    limits = GENEROUS if limits is None else limits
    groups: list[dict[str, Any]] = [
        {
            "id": f"g{g:02d}",
            "name": f"Floor {g}",
            "source_stages": [SOURCE],
            "target_stage": TARGET,
            "key_stage": KEY_STAGE,
            "exchange_users": [POOL_USER],
            "members": [
                {"user": m, "limits": limits}
                for i, m in enumerate(people)
                if i % sizes.groups == g
            ],
        }
        for g in range(sizes.groups)
    ]
    groups.append(
        {
            "id": ALL_GROUP,
            "name": "Whole floor",
            "source_stages": [SOURCE],
            "target_stage": TARGET,
            "key_stage": KEY_STAGE,
            "exchange_users": [POOL_USER],
            "members": [{"user": m, "limits": limits} for m in people],
        }
    )
    weights = push_weights(sizes)
    return {
        "account": {"timezone": TIMEZONE},
        "users": [
            {"id": "head", "name": "Head of sales"},
            {"id": POOL_USER, "name": "Lead exchange", "technical": True},
            *({"id": m, "name": f"Manager {m}"} for m in people),
        ],
        "pipelines": [
            {
                "id": PIPELINE,
                "name": "Sales",
                "stages": [
                    {"id": "new", "name": "New", "kind": "open"},
                    {"id": "taken", "name": "Taken", "kind": "open"},
                    {"id": "meeting", "name": "Meeting", "kind": "open"},
                    {"id": "won", "name": "Won", "kind": "won"},
                    {"id": "lost", "name": "Lost", "kind": "lost"},
                ],
            }
        ],
        "groups": groups,
        "schedules": [
            {"user": m, "free": True, "presence": "follow_schedule"} for m in weights
        ],
        "templates": [
            {
                "id": PUSH_TEMPLATE,
                "match": {"channels": [PUSH_CHANNEL]},
                "participants": [{"user": m, "weight": w} for m, w in weights.items()],
                "algorithm": "weighted",
                "target_stage": TARGET,
            }
        ],
    }


def workspace_yaml(sizes: Sizes, limits: dict[str, int] | None = None) -> str:
    return yaml.safe_dump(workspace(sizes, limits), sort_keys=False)


def no_history_limits() -> dict[str, int]:
    """For an account without history: a sale-less window would refuse everyone."""
    return {k: v for k, v in GENEROUS.items() if k != "days_without_sales"}


def create_tables(database_url: str) -> None:
    for schema, metadata in METADATA.items():
        db = Database(database_url, schema, metadata)
        try:
            db.create_all()
        finally:
            db.close()


def pg_dsn(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://")


def recreate_database(database_url: str, template: str = "") -> None:
    """An empty database, or a file copy of `template` (a generated account)."""
    dsn = pg_dsn(database_url)
    base, name = dsn.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if template:
            conn.execute(
                f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY'
            )
        else:
            conn.execute(f'CREATE DATABASE "{name}"')


def fingerprint(sizes: Sizes, seed: int, today: date) -> str:
    """What the generated rows follow from; a template with the same is reused.

    The limits are part of it: the workspace applied to the template is kept
    with it, so a template made under other limits would press under those.
    """
    return json.dumps(
        {
            "sizes": asdict(sizes),
            "seed": seed,
            "day": str(today),
            "limits": GENEROUS,
            "format": 5,
        },
        sort_keys=True,
    )


def stored_generation(database_url: str, expected: str) -> dict[str, Any] | None:
    """The generation record of a template database, if it holds `expected`."""
    try:
        with psycopg.connect(pg_dsn(database_url)) as conn:
            row = conn.execute(
                "SELECT written FROM public.bench_generated WHERE fingerprint = %s",
                (expected,),
            ).fetchone()
    except psycopg.Error:
        return None
    return dict(json.loads(row[0])) if row else None


def store_generation(database_url: str, key: str, written: dict[str, Any]) -> None:
    with psycopg.connect(pg_dsn(database_url), autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS public.bench_generated "
            "(fingerprint TEXT PRIMARY KEY, written TEXT NOT NULL)"
        )
        conn.execute(
            "INSERT INTO public.bench_generated VALUES (%s, %s)",
            (key, json.dumps(written)),
        )
