"""Per-user activity aggregates for the limits: a fixed number of grouped queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, distinct, func, or_, select
from sqlmodel import Session

from leadrouter.timestamps import utc
from services.crm.state import Directory
from services.crm.tables import Event, Lead, Pipeline, Task

# Events that move a lead into a stage; their actor is the lead's owner then.
STAGE_MOVES = ("stage_changed", "lead_reopened")


@dataclass(frozen=True)
class StageSettings:
    excluded: frozenset[str] = frozenset()
    sale: frozenset[str] = frozenset()  # empty = every won stage
    loss: frozenset[str] = frozenset()  # empty = every lost stage
    key_stage: str = ""


@dataclass(frozen=True)
class Windows:
    now: datetime
    today_start: datetime
    month_start: datetime
    prev_month_start: datetime
    week_start: datetime
    prev_week_start: datetime
    sales_since: dict[str, datetime] = field(default_factory=dict)


@dataclass
class UserActivity:
    open_leads: int = 0
    new_today: int = 0
    overdue_tasks: int = 0
    oldest_overdue_deadline: datetime | None = None
    sales_in_window: int = 0
    lost_today: int = 0
    lost_month: int = 0
    sales_last_month: int = 0
    sales_this_month: int = 0
    key_stage_last_week: int = 0
    key_stage_this_week: int = 0


def measure(
    session: Session,
    account: str,
    users: list[str],
    settings: StageSettings,
    w: Windows,
) -> dict[str, UserActivity]:
    """Everything the ten limits need, for many users at once."""
    out = {u: UserActivity() for u in users}
    if not users:
        return out
    directory = Directory.load(session, account)
    won = {k for k, kind in directory.stages.items() if kind == "won"}
    lost = {k for k, kind in directory.stages.items() if kind == "lost"}
    opens = {k for k, kind in directory.stages.items() if kind == "open"}
    sale = set(settings.sale) or won
    loss = set(settings.loss) or lost
    excluded = set(settings.excluded)
    counted_open = sorted(opens - sale - loss - excluded)
    counted_loss = sorted(loss - excluded)
    counted_sale = sorted(sale - excluded)

    live_pipelines = select(Pipeline.id).where(
        Pipeline.account == account,  # type: ignore[arg-type]
        Pipeline.archived.is_(False),  # type: ignore[attr-defined]
    )
    lead_counts = and_(
        Lead.account == account,
        Lead.pipeline.in_(live_pipelines),  # type: ignore[attr-defined]
        Lead.stage_key.not_in(sorted(excluded)),  # type: ignore[attr-defined]
    )

    # 2. open leads
    rows = session.execute(
        select(Lead.responsible, func.count())
        .where(
            lead_counts,
            Lead.responsible.in_(users),  # type: ignore[attr-defined]
            Lead.stage_key.in_(counted_open),  # type: ignore[attr-defined]
        )
        .group_by(Lead.responsible)
    )
    for user, count in rows:
        out[user].open_leads = count

    # 3. leads the user became responsible for today, once per lead
    rows = session.execute(
        select(Event.user_to, func.count(distinct(Event.lead_id)))
        .join(
            Lead,
            and_(Lead.account == Event.account, Lead.id == Event.lead_id),
        )
        .where(
            Event.account == account,
            Event.type.in_(("lead_created", "responsible_changed")),  # type: ignore[attr-defined]
            Event.user_to.in_(users),  # type: ignore[attr-defined]
            Event.at >= w.today_start,
            Event.at <= w.now,
            lead_counts,
        )
        .group_by(Event.user_to)
    )
    for user, count in rows:
        out[user].new_today = count

    # 4 and 5. overdue tasks: not completed, deadline passed
    rows = session.execute(
        select(Task.responsible, func.count(), func.min(Task.deadline))
        .outerjoin(Lead, and_(Lead.account == Task.account, Lead.id == Task.lead_id))
        .where(
            Task.account == account,
            Task.responsible.in_(users),  # type: ignore[attr-defined]
            Task.completed_at.is_(None),  # type: ignore[union-attr]
            Task.deadline < w.now,
            or_(
                Task.lead_id.is_(None),  # type: ignore[union-attr]
                Lead.stage_key.not_in(sorted(excluded)),  # type: ignore[attr-defined]
            ),
        )
        .group_by(Task.responsible)
    )
    for user, count, oldest in rows:
        out[user].overdue_tasks = count
        out[user].oldest_overdue_deadline = utc(oldest) if oldest else None

    moves_into = and_(
        Event.account == account,
        Event.type.in_(STAGE_MOVES),  # type: ignore[attr-defined]
        Event.actor.in_(users),  # type: ignore[attr-defined]
        Event.at <= w.now,
    )

    # 6. sales since each user's own window start; one query per distinct start
    by_since: dict[datetime, list[str]] = defaultdict(list)
    for user, since in w.sales_since.items():
        if user in out:
            by_since[since].append(user)
    for since, members in by_since.items():
        rows = session.execute(
            select(Event.actor, func.count())
            .where(
                moves_into,
                Event.actor.in_(members),  # type: ignore[attr-defined]
                Event.stage_to.in_(counted_sale),  # type: ignore[attr-defined]
                Event.at >= since,
            )
            .group_by(Event.actor)
        )
        for user, count in rows:
            out[user].sales_in_window = count

    # 7 and 8. leads now in a loss stage that the user moved there
    rows = session.execute(
        select(
            Lead.stage_changed_by,
            func.count(),
            func.sum(case((Lead.stage_changed_at >= w.today_start, 1), else_=0)),
        )
        .where(
            lead_counts,
            Lead.stage_changed_by.in_(users),  # type: ignore[attr-defined]
            Lead.stage_key.in_(counted_loss),  # type: ignore[attr-defined]
            Lead.stage_changed_at >= w.month_start,
            Lead.stage_changed_at <= w.now,
        )
        .group_by(Lead.stage_changed_by)
    )
    for user, month, today in rows:
        out[user].lost_month = month
        out[user].lost_today = int(today or 0)

    # 9. sales in the previous and the current calendar month
    this_month = Event.at >= w.month_start
    rows = session.execute(
        select(
            Event.actor,
            func.sum(case((this_month, 0), else_=1)),
            func.sum(case((this_month, 1), else_=0)),
        )
        .where(
            moves_into,
            Event.stage_to.in_(counted_sale),  # type: ignore[attr-defined]
            Event.at >= w.prev_month_start,
        )
        .group_by(Event.actor)
    )
    for user, last, current in rows:
        out[user].sales_last_month = int(last or 0)
        out[user].sales_this_month = int(current or 0)

    # 10. distinct leads moved into the key stage, previous and current week
    if settings.key_stage and settings.key_stage not in excluded:
        this_week = Event.at >= w.week_start
        rows = session.execute(
            select(
                Event.actor,
                func.count(distinct(case((this_week, None), else_=Event.lead_id))),
                func.count(distinct(case((this_week, Event.lead_id), else_=None))),
            )
            .where(
                moves_into,
                Event.stage_to == settings.key_stage,
                Event.at >= w.prev_week_start,
            )
            .group_by(Event.actor)
        )
        for user, last, current in rows:
            out[user].key_stage_last_week = last
            out[user].key_stage_this_week = current
    return out
