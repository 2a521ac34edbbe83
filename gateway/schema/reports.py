"""Distribution and loss-reason reports, answered by the reports service's read models.

Admins and viewers see the whole account. A manager sees only their own
figures: the distribution of leads to them and the leads they closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from enum import Enum
from typing import Annotated
from zoneinfo import ZoneInfo

import strawberry

from gateway.context import Context, Info
from leadrouter.assigner.v1 import assigner_pb2
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import BadInput, NotFound
from leadrouter.i18n import _
from leadrouter.reports.v1 import reports_pb2

REPORT_ROLES = ("admin", "viewer", "manager")


@strawberry.enum(description="Calendar buckets, in the account timezone.")
class ReportBucket(Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@strawberry.enum(
    description="Rows of the loss-reasons report: by pipeline (the seed's sales "
    "plan), by distribution group, by manager, or one row for everything."
)
class LossGrouping(Enum):
    PIPELINE = "pipeline"
    GROUP = "group"
    MANAGER = "manager"
    NONE = "none"


@strawberry.type(description="Leads handed out to one manager in one bucket.")
class DistributionRow:
    user_id: strawberry.ID
    user_name: str
    bucket: date = strawberry.field(description="First day of the bucket.")
    bucket_start: datetime = strawberry.field(description="Its local midnight.")
    claimed: int
    pushed: int
    manual: int
    total: int


@strawberry.type
class ManagerDistribution:
    user_id: strawberry.ID
    user_name: str
    claimed: int
    pushed: int
    manual: int
    total: int


@strawberry.type
class BucketDistribution:
    bucket: date
    bucket_start: datetime
    claimed: int
    pushed: int
    manual: int
    total: int


@strawberry.type(
    description="Leads handed out per manager, by claim, push and manual "
    "assignment. Rows list only (manager, bucket) pairs with at least one lead."
)
class DistributionReport:
    from_: date = strawberry.field(name="from")
    to: date
    bucket: ReportBucket
    timezone: str
    rows: list[DistributionRow]
    managers: list[ManagerDistribution]
    buckets: list[BucketDistribution]
    claimed: int
    pushed: int
    manual: int
    total: int


@strawberry.type
class LossReason:
    reason: str | None = strawberry.field(description="Null: lost with no reason.")
    count: int
    percent: float = strawberry.field(description="Share of the row's lost leads.")


@strawberry.enum
class LossOutcome(Enum):
    WON = "won"
    LOST = "lost"


@strawberry.type(
    description="Closed leads of one pipeline, one group, one manager, or all."
)
class LossReasonsRow:
    key: strawberry.ID | None = strawberry.field(
        description="The pipeline, group or manager id; null for the whole "
        "account, or for leads no group handed out."
    )
    name: str
    won: int
    lost: int
    won_percent: float
    lost_percent: float
    reasons: list[LossReason]


@strawberry.type(
    description="Leads whose last closing falls in the range: a lead reopened and "
    "closed again counts once, by its last closing."
)
class LossReasonsReport:
    from_: date | None = strawberry.field(
        name="from", description="Null: from the first closing on."
    )
    to: date | None = strawberry.field(description="Null: up to now.")
    group_by: LossGrouping
    timezone: str
    rows: list[LossReasonsRow]
    total: LossReasonsRow


@strawberry.input(
    description="One count of lossReasonsReport, to list exactly its leads: the "
    "report's own from, to, groupBy, groupIds and userIds, the row and the column."
)
class LossReasonsCell:
    from_: date | None = strawberry.field(default=None, name="from")
    to: date | None = None
    group_by: LossGrouping = LossGrouping.NONE
    group_ids: list[strawberry.ID] | None = None
    user_ids: list[strawberry.ID] | None = None
    total: bool = strawberry.field(
        default=False, description="The total row; `key` is then not read."
    )
    key: strawberry.ID | None = strawberry.field(
        default=None,
        description="The row's key as the report gives it (null: the row of "
        "leads no group handed out, or the only row of groupBy NONE).",
    )
    outcome: LossOutcome | None = strawberry.field(
        default=None, description="Won or lost; null: both (the row's closed leads)."
    )
    loss_reason: str | None = strawberry.field(
        default=None, description="Only the lost leads with this reason."
    )
    no_loss_reason: bool = strawberry.field(
        default=False, description="Only the lost leads without a reason."
    )


@dataclass(frozen=True)
class ReportScope:
    account: str
    user_ids: list[str]


def scope(ctx: Context, user_ids: list[str]) -> ReportScope:
    """Whose figures the caller may read: a manager only their own."""
    rule = ctx.visibility(*REPORT_ROLES)
    return ReportScope(rule.caller.account, rule.users(user_ids, "figures"))


async def _directory(ctx: Context, account: str) -> crm_pb2.Directory:
    try:
        reply: crm_pb2.Directory = await ctx.clients.crm.get_directory(
            crm_pb2.GetDirectoryRequest(account=account)
        )
    except NotFound:
        return crm_pb2.Directory()
    return reply


async def user_names(ctx: Context, account: str) -> dict[str, str]:
    return {u.id: u.name or u.id for u in (await _directory(ctx, account)).users}


async def pipeline_names(ctx: Context, account: str) -> dict[str, str]:
    d = await _directory(ctx, account)
    return {p.id: p.name or p.id for p in d.pipelines}


async def group_names(ctx: Context, account: str) -> dict[str, str]:
    reply = await ctx.clients.assigner.list_groups(
        assigner_pb2.ListGroupsRequest(account=account)
    )
    return {g.id: g.name or g.id for g in reply.groups}


async def distribution_report(
    ctx: Context,
    *,
    from_: date,
    to: date,
    group_ids: list[str],
    user_ids: list[str],
    bucket: ReportBucket,
) -> DistributionReport:
    """The distribution report as the caller may see it."""
    where = scope(ctx, user_ids)
    reply = await ctx.clients.reports.distribution_report(
        reports_pb2.DistributionReportRequest(
            account=where.account,
            group_ids=group_ids,
            user_ids=where.user_ids,
            bucket=bucket.value,
            **{"from": from_.isoformat(), "to": to.isoformat()},
        ),
    )
    names = await user_names(ctx, where.account)
    tz = ZoneInfo(reply.timezone or "UTC")
    cells = reply.cells

    def midnight(day: str) -> datetime:
        return datetime.combine(date.fromisoformat(day), time(0), tzinfo=tz)

    return DistributionReport(
        from_=from_,
        to=to,
        bucket=bucket,
        timezone=reply.timezone,
        rows=[
            DistributionRow(
                user_id=strawberry.ID(user),
                user_name=names.get(user, user),
                bucket=date.fromisoformat(bucket),
                bucket_start=midnight(bucket),
                claimed=c,
                pushed=p,
                manual=m,
                total=c + p + m,
            )
            for bucket, user, c, p, m in zip(
                cells.bucket,
                cells.user_id,
                cells.claimed,
                cells.pushed,
                cells.manual,
                strict=True,
            )
        ],
        managers=[
            ManagerDistribution(
                user_id=strawberry.ID(m.user_id),
                user_name=names.get(m.user_id, m.user_id),
                claimed=m.counts.claimed,
                pushed=m.counts.pushed,
                manual=m.counts.manual,
                total=m.counts.total,
            )
            for m in reply.managers
        ],
        buckets=[
            BucketDistribution(
                bucket=date.fromisoformat(b.bucket),
                bucket_start=midnight(b.bucket),
                claimed=b.counts.claimed,
                pushed=b.counts.pushed,
                manual=b.counts.manual,
                total=b.counts.total,
            )
            for b in reply.buckets
        ],
        claimed=reply.total.claimed,
        pushed=reply.total.pushed,
        manual=reply.total.manual,
        total=reply.total.total,
    )


def _loss_row(r: reports_pb2.LossReasonsRow, name: str) -> LossReasonsRow:
    return LossReasonsRow(
        key=strawberry.ID(r.key) if r.key else None,
        name=name,
        won=r.won,
        lost=r.lost,
        won_percent=r.won_percent,
        lost_percent=r.lost_percent,
        reasons=[
            LossReason(reason=x.reason or None, count=x.count, percent=x.percent)
            for x in r.reasons
        ],
    )


def _loss_request(
    where: ReportScope,
    from_: date | None,
    to: date | None,
    group_by: LossGrouping,
    group_ids: list[str],
) -> reports_pb2.LossReasonsReportRequest:
    return reports_pb2.LossReasonsReportRequest(
        account=where.account,
        group_by=group_by.value,
        group_ids=group_ids,
        user_ids=where.user_ids,
        **{
            "from": from_.isoformat() if from_ else "",
            "to": to.isoformat() if to else "",
        },
    )


async def loss_reasons_report(
    ctx: Context,
    *,
    from_: date | None,
    to: date | None,
    group_by: LossGrouping,
    group_ids: list[str],
    user_ids: list[str],
) -> LossReasonsReport:
    """The loss-reasons report as the caller may see it; no dates = all time."""
    where = scope(ctx, user_ids)
    reply = await ctx.clients.reports.loss_reasons_report(
        _loss_request(where, from_, to, group_by, group_ids)
    )
    names: dict[str, str] = {}
    if group_by is LossGrouping.PIPELINE:
        names = await pipeline_names(ctx, where.account)
    elif group_by is LossGrouping.GROUP:
        names = await group_names(ctx, where.account)
    elif group_by is LossGrouping.MANAGER:
        names = await user_names(ctx, where.account)
    fallback = _("(no group)") if group_by is LossGrouping.GROUP else _("All leads")
    return LossReasonsReport(
        from_=from_,
        to=to,
        group_by=group_by,
        timezone=reply.timezone,
        rows=[
            _loss_row(r, names.get(r.key, r.key) if r.key else fallback)
            for r in reply.rows
        ],
        total=_loss_row(reply.total, _("All leads")),
    )


async def loss_reasons_leads(ctx: Context, cell: LossReasonsCell) -> list[str]:
    """The ids of the leads behind one count of the report, as the caller sees it."""
    if cell.loss_reason is not None and cell.no_loss_reason:
        raise BadInput("give lossReason or noLossReason, not both")
    where = scope(ctx, _ids(cell.user_ids))
    request = reports_pb2.LossReasonsLeadsRequest(
        report=_loss_request(
            where, cell.from_, cell.to, cell.group_by, _ids(cell.group_ids)
        ),
        outcome=cell.outcome.value if cell.outcome else "",
    )
    if not cell.total and cell.group_by is not LossGrouping.NONE:
        request.key = str(cell.key or "")
    if cell.loss_reason is not None or cell.no_loss_reason:
        request.reason = cell.loss_reason or ""
    reply = await ctx.clients.reports.loss_reasons_leads(request)
    return list(reply.lead_ids)


def _ids(values: list[strawberry.ID] | None) -> list[str]:
    return [str(v) for v in values or []]


@strawberry.type
class ReportQueries:
    @strawberry.field(
        description="Leads handed out per manager by claim, push and manual "
        "assignment, bucketed by day, week (from Monday) or month in the account "
        "timezone. `from` and `to` are local dates, both included."
    )
    async def distribution_report(
        self,
        info: Info,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
        group_ids: list[strawberry.ID] | None = None,
        user_ids: list[strawberry.ID] | None = None,
        bucket: ReportBucket = ReportBucket.DAY,
    ) -> DistributionReport:
        return await distribution_report(
            info.context,
            from_=from_,
            to=to,
            group_ids=_ids(group_ids),
            user_ids=_ids(user_ids),
            bucket=bucket,
        )

    @strawberry.field(
        description="Leads closed between the local dates `from` and `to` (both "
        "included; without them over all time), by their last closing: won and "
        "lost counts, their shares, and the lost split by reason; grouped by "
        "pipeline, by distribution group, by manager (the responsible user at "
        "closing), or not at all. `leads(closing:)` lists the leads of any count."
    )
    async def loss_reasons_report(
        self,
        info: Info,
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None,
        group_by: LossGrouping = LossGrouping.NONE,
        group_ids: list[strawberry.ID] | None = None,
        user_ids: list[strawberry.ID] | None = None,
    ) -> LossReasonsReport:
        return await loss_reasons_report(
            info.context,
            from_=from_,
            to=to,
            group_by=group_by,
            group_ids=_ids(group_ids),
            user_ids=_ids(user_ids),
        )
