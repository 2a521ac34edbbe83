"""Whether the product's followers have read everything written so far.

A burst starts only when the crm's event stream and the decision journal are
read to their ends, so one burst's catching up is not billed to the next.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from bench.plan import log

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
