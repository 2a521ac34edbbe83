"""CSV exports of the reports for spreadsheets: GET endpoints with a bearer token.

    GET /reports/distribution.csv?from=2026-11-01&to=2026-11-30&bucket=week
        &groupId=main&userId=ursula          (groupId and userId may repeat)
    GET /reports/loss-reasons.csv?from=2026-11-01&to=2026-11-30&groupBy=manager
    GET /reports/loss-reasons.csv?groupBy=pipeline              (all time)
    POST /reports/whatif.csv?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z
        with a workspace YAML as the body: the what-if comparison (admins)

The figures and the access rules are those of the GraphQL reports.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable, Iterable
from datetime import date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.context import Context
from gateway.errors import code_of
from gateway.schema.reports import (
    DistributionReport,
    LossGrouping,
    LossReasonsReport,
    ReportBucket,
    distribution_report,
    loss_reasons_report,
)
from gateway.schema.whatif import run_simulation
from leadrouter import messages
from leadrouter.auth import Caller
from leadrouter.clients import Clients
from leadrouter.clock import Clock
from leadrouter.config import Settings
from leadrouter.errors import BadInput, LeadrouterError
from leadrouter.i18n import _
from leadrouter.simulate import CSV_HEADER, comparison_rows

HTTP_STATUS = {
    "BAD_USER_INPUT": 400,
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "UNAVAILABLE": 503,
}
# A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Authenticate = Callable[[Any], tuple[Caller | None, str]]


def cell(value: object) -> str:
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(header: list[str], rows: Iterable[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return out.getvalue()


def _day(request: Request, name: str) -> date:
    day = _optional_day(request, name)
    if day is None:
        raise BadInput(messages.date_required(name))
    return day


def _optional_day(request: Request, name: str) -> date | None:
    text = request.query_params.get(name)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise BadInput(messages.not_a_date(name)) from error


def _instant(request: Request, name: str) -> datetime:
    text = request.query_params.get(name, "")
    try:
        at = datetime.fromisoformat(text)
    except ValueError as error:
        raise BadInput(messages.not_an_instant(name)) from error
    if at.tzinfo is None:
        raise BadInput(messages.needs_offset(name))
    return at


def _choice(request: Request, name: str, enum: Any, default: Any) -> Any:
    text = request.query_params.get(name)
    if not text:
        return default
    try:
        return enum[text.upper()]
    except KeyError as error:
        names = [m.name.lower() for m in enum]
        raise BadInput(messages.one_of(name, names, text)) from error


def named(name: str, key: str) -> str:
    """A person's (or group's, pipeline's) name for a person to read, with its id
    in brackets for whatever reads the file by ids: "Ursula (ursula)"."""
    if not key:
        return name
    return f"{name} ({key})" if name and name != key else key


def distribution_csv(report: DistributionReport) -> str:
    return to_csv(
        [
            _("Period"),
            _("Period start"),
            _("Manager"),
            _("By button"),
            _("By push"),
            _("By hand"),
            _("Total"),
        ],
        (
            [
                r.bucket.isoformat(),
                r.bucket_start.isoformat(),
                named(r.user_name, r.user_id),
                r.claimed,
                r.pushed,
                r.manual,
                r.total,
            ]
            for r in report.rows
        ),
    )


def _grouped_by(group_by: LossGrouping) -> str:
    return {
        LossGrouping.MANAGER: _("Manager"),
        LossGrouping.GROUP: _("Group"),
        LossGrouping.PIPELINE: _("Pipeline"),
    }.get(group_by, _("Leads"))


def loss_reasons_csv(report: LossReasonsReport) -> str:
    """One line per row, one column per loss reason (the lost leads with it)."""
    reasons = sorted({x.reason or "" for r in report.rows for x in r.reasons})
    rows = list(report.rows)
    if report.group_by is not LossGrouping.NONE:
        rows.append(report.total)
    return to_csv(
        [
            _grouped_by(report.group_by),
            _("Won"),
            _("Lost"),
            _("% won"),
            _("% lost"),
            *(
                _("Lost: {reason}").format(reason=r) if r else _("Lost: no reason")
                for r in reasons
            ),
        ],
        (
            [
                named(r.name, str(r.key or "")),
                r.won,
                r.lost,
                r.won_percent,
                r.lost_percent,
                *(
                    next((x.count for x in r.reasons if (x.reason or "") == reason), 0)
                    for reason in reasons
                ),
            ]
            for r in rows
        ),
    )


def request_context(
    settings: Settings,
    clients: Clients,
    clock: Clock,
    authenticate: Authenticate,
    request: Request,
) -> Context:
    """The context of a plain HTTP endpoint, its caller from the headers."""
    caller, problem = authenticate(request.headers)
    return Context(
        settings=settings,
        clients=clients,
        clock=clock,
        caller=caller,
        auth_error=problem,
        request=request,
    )


def export_routes(
    settings: Settings, clients: Clients, clock: Clock, authenticate: Authenticate
) -> list[Route]:
    def context(request: Request) -> Context:
        return request_context(settings, clients, clock, authenticate, request)

    def endpoint(
        render: Callable[[Request, Context], Awaitable[tuple[str, str]]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            try:
                name, body = await render(request, context(request))
            except LeadrouterError as error:
                code = code_of(error)
                return JSONResponse(
                    {"error": str(error), "code": code},
                    status_code=HTTP_STATUS.get(code, 400),
                )
            return Response(
                body,
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )

        return handle

    async def distribution(request: Request, ctx: Context) -> tuple[str, str]:
        first, last = _day(request, "from"), _day(request, "to")
        report = await distribution_report(
            ctx,
            from_=first,
            to=last,
            group_ids=request.query_params.getlist("groupId"),
            user_ids=request.query_params.getlist("userId"),
            bucket=_choice(request, "bucket", ReportBucket, ReportBucket.DAY),
        )
        return f"distribution_{first}_{last}.csv", distribution_csv(report)

    async def loss_reasons(request: Request, ctx: Context) -> tuple[str, str]:
        # Without dates the report covers all time, as in GraphQL.
        first, last = _optional_day(request, "from"), _optional_day(request, "to")
        report = await loss_reasons_report(
            ctx,
            from_=first,
            to=last,
            group_by=_choice(request, "groupBy", LossGrouping, LossGrouping.NONE),
            group_ids=request.query_params.getlist("groupId"),
            user_ids=request.query_params.getlist("userId"),
        )
        span = f"{first or 'start'}_{last or 'now'}"
        return f"loss-reasons_{span}.csv", loss_reasons_csv(report)

    async def whatif(request: Request, ctx: Context) -> tuple[str, str]:
        start, end = _instant(request, "from"), _instant(request, "to")
        yaml = (await request.body()).decode("utf-8", errors="replace")
        result = await run_simulation(ctx, yaml, start, end)
        if isinstance(result, list):
            raise BadInput(
                messages.workspace_has_problems(
                    "; ".join(f"{p.path or '-'}: {p.message}" for p in result)
                )
            )
        name = f"whatif_{start.date()}_{end.date()}.csv"
        return name, to_csv(CSV_HEADER, comparison_rows(result))

    return [
        Route("/reports/whatif.csv", endpoint(whatif), methods=["POST"]),
        Route("/reports/distribution.csv", endpoint(distribution), methods=["GET"]),
        Route("/reports/loss-reasons.csv", endpoint(loss_reasons), methods=["GET"]),
    ]
