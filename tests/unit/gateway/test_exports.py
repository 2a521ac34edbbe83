"""CSV exports: names in the cells, headers in the reader's language, no formulas."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, cast

import strawberry
from starlette.applications import Starlette

from gateway.exports import (
    cell,
    distribution_csv,
    export_routes,
    loss_reasons_csv,
    named,
)
from gateway.schema.reports import (
    DistributionReport,
    LossGrouping,
    LossReason,
    LossReasonsReport,
    LossReasonsRow,
    ReportBucket,
)
from leadrouter import i18n
from leadrouter.auth import Caller
from leadrouter.clients import Clients
from leadrouter.clock import FixedClock
from leadrouter.config import Settings
from leadrouter.crm.v1 import crm_pb2
from leadrouter.reports.v1 import reports_pb2
from tests.unit.gateway.asgi import call


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_quoted() -> None:
    assert cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert cell("-1") == "'-1"
    assert cell("@SUM(A1)") == "'@SUM(A1)"
    assert cell("Ursula") == "Ursula"
    assert cell(3) == "3"


def test_a_name_is_shown_with_its_id_in_brackets_once() -> None:
    assert named("Ursula Kim", "ursula") == "Ursula Kim (ursula)"
    assert named("ursula", "ursula") == "ursula"
    assert named("", "ursula") == "ursula"
    assert named("All leads", "") == "All leads"


def _distribution() -> DistributionReport:
    return DistributionReport(
        from_=date(2026, 11, 1),
        to=date(2026, 11, 30),
        bucket=ReportBucket.WEEK,
        timezone="Asia/Tomsk",
        rows=[],
        managers=[],
        buckets=[],
        claimed=0,
        pushed=0,
        manual=0,
        total=0,
    )


def test_the_distribution_header_names_the_ways_a_lead_was_handed_out() -> None:
    header = _rows(distribution_csv(_distribution()))[0]
    assert header == [
        "Period",
        "Period start",
        "Manager",
        "By button",
        "By push",
        "By hand",
        "Total",
    ]


def test_the_distribution_header_speaks_russian_when_asked() -> None:
    with i18n.speaking("ru"):
        header = _rows(distribution_csv(_distribution()))[0]
    assert "Менеджер" in header and "Manager" not in header


def _loss_row(key: str | None, name: str, won: int, lost: int, **reasons: int) -> Any:
    return LossReasonsRow(
        key=strawberry.ID(key) if key else None,
        name=name,
        won=won,
        lost=lost,
        won_percent=round(100 * won / (won + lost), 1),
        lost_percent=round(100 * lost / (won + lost), 1),
        reasons=[
            LossReason(reason=r or None, count=n, percent=0.0)
            for r, n in reasons.items()
        ],
    )


def test_loss_reasons_have_a_column_each_and_a_total_row_by_manager() -> None:
    report = LossReasonsReport(
        from_=None,
        to=None,
        group_by=LossGrouping.MANAGER,
        timezone="UTC",
        rows=[
            _loss_row("ursula", "Ursula Kim", 3, 1, expensive=1),
            _loss_row("victor", "Victor", 0, 2, expensive=1, gone=1),
        ],
        total=_loss_row(None, "All leads", 3, 3, expensive=2, gone=1),
    )
    rows = _rows(loss_reasons_csv(report))
    assert rows[0] == [
        "Manager",
        "Won",
        "Lost",
        "% won",
        "% lost",
        "Lost: expensive",
        "Lost: gone",
    ]
    assert rows[1] == ["Ursula Kim (ursula)", "3", "1", "75.0", "25.0", "1", "0"]
    assert rows[2] == ["Victor (victor)", "0", "2", "0.0", "100.0", "1", "1"]
    assert rows[3] == ["All leads", "3", "3", "50.0", "50.0", "2", "1"]


# -- the endpoint, over fake services --------------------------------------------


@dataclass
class FakeReports:
    asked: list[reports_pb2.DistributionReportRequest] = field(default_factory=list)

    async def distribution_report(
        self, request: reports_pb2.DistributionReportRequest
    ) -> reports_pb2.DistributionReportResponse:
        self.asked.append(request)
        reply = reports_pb2.DistributionReportResponse(timezone="Asia/Tomsk")
        reply.cells.bucket.extend(["2026-11-02"])
        reply.cells.user_id.extend(["ursula"])
        reply.cells.claimed.extend([4])
        reply.cells.pushed.extend([1])
        reply.cells.manual.extend([0])
        return reply


class FakeCrm:
    async def get_directory(
        self, request: crm_pb2.GetDirectoryRequest
    ) -> crm_pb2.Directory:
        reply = crm_pb2.Directory()
        reply.users.add(id="ursula", name="Ursula Kim")
        return reply


@dataclass
class FakeClients:
    reports: FakeReports = field(default_factory=FakeReports)
    crm: FakeCrm = field(default_factory=FakeCrm)


def _exports(caller: Caller | None) -> tuple[Starlette, FakeClients]:
    clients = FakeClients()
    app = Starlette(
        routes=export_routes(
            Settings(),
            cast(Clients, clients),
            FixedClock(datetime(2026, 12, 1, tzinfo=UTC)),
            lambda headers: (caller, "" if caller else "sign in first"),
        )
    )
    return app, clients


async def test_the_distribution_file_names_managers_not_ids() -> None:
    app, _clients = _exports(Caller("acme", "admin-1", "admin"))
    path = "/reports/distribution.csv?from=2026-11-01&to=2026-11-30&bucket=week"
    reply = await call(app, "GET", path)
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        'filename="distribution_2026-11-01_2026-11-30.csv"'
        in (reply.headers["content-disposition"])
    )
    assert _rows(reply.text)[1] == [
        "2026-11-02",
        "2026-11-02T00:00:00+07:00",
        "Ursula Kim (ursula)",
        "4",
        "1",
        "0",
        "5",
    ]


async def test_a_manager_exports_only_their_own_figures() -> None:
    app, clients = _exports(Caller("acme", "ursula", "manager"))
    reply = await call(
        app, "GET", "/reports/distribution.csv?from=2026-11-01&to=2026-11-30"
    )
    assert reply.status_code == 200
    assert list(clients.reports.asked[0].user_ids) == ["ursula"]


async def test_a_missing_date_answers_400_naming_it() -> None:
    app, clients = _exports(Caller("acme", "admin-1", "admin"))
    reply = await call(app, "GET", "/reports/distribution.csv?to=2026-11-30")
    assert reply.status_code == 400
    assert reply.json() == {
        "error": "'from' is required, as a date like 2026-11-01",
        "code": "BAD_USER_INPUT",
    }
    assert clients.reports.asked == []


async def test_an_unknown_bucket_lists_the_choices() -> None:
    app, _clients = _exports(Caller("acme", "admin-1", "admin"))
    path = "/reports/distribution.csv?from=2026-11-01&to=2026-11-30&bucket=year"
    reply = await call(app, "GET", path)
    assert reply.status_code == 400
    assert (
        reply.json()["error"] == "'bucket' must be one of day, week, month, not 'year'"
    )


async def test_without_a_token_the_export_answers_401_in_words() -> None:
    app, clients = _exports(None)
    reply = await call(
        app, "GET", "/reports/distribution.csv?from=2026-11-01&to=2026-11-30"
    )
    assert reply.status_code == 401
    assert reply.json() == {"error": "sign in first", "code": "UNAUTHENTICATED"}
    assert clients.reports.asked == []
