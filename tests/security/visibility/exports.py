"""Visibility of the CSV exports."""

from __future__ import annotations

import csv
import io
import re

from tests.security.visibility.world import (
    FORBIDDEN,
    NONE,
    OWN,
    A,
    Items,
    Probe,
    World,
)


def _id_of(cell: str) -> str:
    """The id of "Ursula (ursula)", as an export writes a person."""
    found = re.search(r"\(([^()]*)\)$", cell)
    return found.group(1) if found else cell


def export(path: str, column: str, total: str = "") -> Probe:
    async def probe(world: World, token: str) -> Items | str:
        reply = await world.stack.http.get(
            path, headers={"Authorization": f"Bearer {token}"}
        )
        if reply.status_code != 200:
            return str(reply.json()["code"])
        rows = list(csv.DictReader(io.StringIO(reply.text)))
        return [{_id_of(r[column])} for r in rows if r[column] not in ("", total)]

    return probe


# One row per export: (name, probe, what each role gets).
ROWS: list[tuple[str, Probe, dict[str, str]]] = [
    (
        "distribution.csv",
        export("/reports/distribution.csv?from=2026-10-01&to=2026-11-30", "Manager"),
        {
            "admin": A,
            "viewer": A,
            "partner": FORBIDDEN,
            "manager": OWN,
            "outsider": NONE,
        },
    ),
    (
        "loss-reasons.csv by manager",
        export(
            "/reports/loss-reasons.csv?from=2026-10-01&to=2026-11-30&groupBy=manager",
            "Manager",
            total="All leads",
        ),
        {
            "admin": A,
            "viewer": A,
            "partner": FORBIDDEN,
            "manager": OWN,
            "outsider": NONE,
        },
    ),
]
