"""CSV exports through the gateway: the report's figures, with the report's access."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.e2e.test_reports import DISTRIBUTION, LOSS, build_history
from tests.stack import Stack

RANGE = "from=2026-10-01&to=2026-12-31"


async def _get(stack: Stack, path: str, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await stack.http.get(path, headers=headers)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_distribution_csv_has_the_reports_rows(stack: Stack) -> None:
    await build_history(stack)
    reply = await _get(
        stack,
        f"/reports/distribution.csv?{RANGE}&bucket=week",
        stack.token("analyst", "viewer"),
    )
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/csv")
    assert (
        "distribution_2026-10-01_2026-12-31.csv"
        in (reply.headers["content-disposition"])
    )
    data = await stack.data(
        DISTRIBUTION, {"from": "2026-10-01", "to": "2026-12-31", "bucket": "WEEK"}
    )
    want = [
        {
            "Period": r["bucket"],
            "Period start": r["bucketStart"],
            # The name a person reads, and the id a machine reads it by.
            "Manager": f"{r['userName']} ({r['userId']})",
            "By button": str(r["claimed"]),
            "By push": str(r["pushed"]),
            "By hand": str(r["manual"]),
            "Total": str(r["total"]),
        }
        for r in data["distributionReport"]["rows"]
    ]
    assert _rows(reply.text) == want
    assert len(want) > 3


async def test_distribution_csv_filters_repeat(stack: Stack) -> None:
    await build_history(stack)
    reply = await _get(
        stack,
        f"/reports/distribution.csv?{RANGE}&userId=marina&userId=nadezhda&groupId=main",
        stack.token("head", "admin"),
    )
    users = {r["Manager"] for r in _rows(reply.text)}
    assert users == {"Marina (marina)", "Nadezhda (nadezhda)"}


async def test_loss_reasons_csv_has_a_column_per_reason(stack: Stack) -> None:
    await build_history(stack)
    reply = await _get(
        stack,
        "/reports/loss-reasons.csv?from=2026-11-01&to=2026-11-30&groupBy=manager",
        stack.token("head", "admin"),
    )
    assert reply.status_code == 200
    rows = {r["Manager"]: r for r in _rows(reply.text)}
    data = await stack.data(
        LOSS, {"from": "2026-11-01", "to": "2026-11-30", "by": "MANAGER"}
    )
    report = data["lossReasonsReport"]
    for r in report["rows"]:
        line = rows[f"{r['name']} ({r['key']})"]
        assert (line["Won"], line["Lost"]) == (str(r["won"]), str(r["lost"]))
        for x in r["reasons"]:
            column = f"Lost: {x['reason']}" if x["reason"] else "Lost: no reason"
            assert line[column] == str(x["count"])
    # The last line is the whole account.
    assert rows["All leads"]["Lost"] == str(report["total"]["lost"])


async def test_a_manager_exports_only_their_own_figures(stack: Stack) -> None:
    await build_history(stack)
    reply = await _get(
        stack, f"/reports/distribution.csv?{RANGE}", stack.token("marina", "manager")
    )
    assert {r["Manager"] for r in _rows(reply.text)} == {"Marina (marina)"}


async def test_a_russian_export_has_russian_headers_and_names(stack: Stack) -> None:
    await build_history(stack)
    reply = await stack.http.get(
        "/reports/loss-reasons.csv?from=2026-11-01&to=2026-11-30&groupBy=manager",
        headers={
            "Authorization": f"Bearer {stack.token('head', 'admin')}",
            "Accept-Language": "ru",
        },
    )
    header = reply.text.splitlines()[0].split(",")
    assert header[:5] == ["Менеджер", "Успешно", "Отказ", "% успешных", "% отказов"]
    assert reply.text.splitlines()[-1].startswith("Все сделки,")


@pytest.mark.parametrize(
    ("path", "role", "status", "code"),
    [
        (f"/reports/distribution.csv?{RANGE}", None, 401, "UNAUTHENTICATED"),
        (f"/reports/loss-reasons.csv?{RANGE}", "partner", 403, "FORBIDDEN"),
        ("/reports/distribution.csv?from=2026-11-01", "admin", 400, "BAD_USER_INPUT"),
        (f"/reports/distribution.csv?{RANGE}&bucket=year", "admin", 400, None),
        (
            "/reports/loss-reasons.csv?from=first&to=2026-11-30",
            "viewer",
            400,
            "BAD_USER_INPUT",
        ),
    ],
)
async def test_an_export_refused_says_why(
    stack: Stack, path: str, role: str | None, status: int, code: str | None
) -> None:
    token = stack.token("someone", role) if role else None
    reply = await _get(stack, path, token)
    assert reply.status_code == status
    body = reply.json()
    assert body["error"]
    assert body["code"] == (code or "BAD_USER_INPUT")
