"""Per-user activity aggregates for the limits: a fixed number of grouped queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, distinct, func, or_, select
from sqlmodel import Session, col

from leadrouter.timestamps import utc
from services.crm.state import stage_key
from services.crm.tables import Event, Lead, Pipeline, Stage, Task

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
    """Everything the ten limits need, for many users at once.

    Seven statements, however many users and whatever their limit values.
    """
    out = {u: UserActivity() for u in users}
    if not users:
        return out
    # Stages of archived pipelines count in no limit, like excluded stages:
    # archiving a pipeline is how an account takes its won stages out of sales.
    rows = session.execute(
        select(col(Stage.pipeline), col(Stage.id), col(Stage.kind))
        .join(
            Pipeline,
            and_(
                col(Pipeline.account) == col(Stage.account),
                col(Pipeline.id) == col(Stage.pipeline),
            ),
        )
        .where(col(Stage.account) == account, col(Pipeline.archived).is_(False))
    )
    live = {stage_key(pipeline, stage): kind for pipeline, stage, kind in rows}
    counted = sorted(key for key in live if key not in settings.excluded)
    counted_sale = [
        k
        for k in counted
        if (k in settings.sale if settings.sale else live[k] == "won")
    ]
    counted_loss = [
        k
        for k in counted
        if (k in settings.loss if settings.loss else live[k] == "lost")
    ]
    # Open = neither won nor lost, nor counted as a sale or a loss by the group.
    counted_open = [
        k
        for k in counted
        if live[k] == "open" and k not in settings.sale and k not in settings.loss
    ]

    lead_stage = col(Lead.stage_key)
    # A lead counts only while it sits in a counted stage.
    lead_counts = and_(col(Lead.account) == account, lead_stage.in_(counted))

    # 2. open leads
    responsible = col(Lead.responsible)
    rows = session.execute(
        select(responsible, func.count())
        .where(lead_counts, responsible.in_(users), lead_stage.in_(counted_open))
        .group_by(responsible)
    )
    for user, count in rows:
        out[user].open_leads = count

    # 3. leads the user became responsible for today, once per lead
    at = col(Event.at)
    user_to = col(Event.user_to)
    rows = session.execute(
        select(user_to, func.count(distinct(col(Event.lead_id))))
        .join(
            Lead,
            and_(
                col(Lead.account) == col(Event.account),
                col(Lead.id) == col(Event.lead_id),
            ),
        )
        .where(
            col(Event.account) == account,
            col(Event.type).in_(("lead_created", "responsible_changed")),
            user_to.in_(users),
            at >= w.today_start,
            at <= w.now,
            lead_counts,
        )
        .group_by(user_to)
    )
    for user, count in rows:
        out[user].new_today = count

    # 4 and 5. overdue tasks: not completed, deadline passed
    owner = col(Task.responsible)
    deadline = col(Task.deadline)
    rows = session.execute(
        select(owner, func.count(), func.min(deadline))
        .outerjoin(
            Lead,
            and_(
                col(Lead.account) == col(Task.account),
                col(Lead.id) == col(Task.lead_id),
            ),
        )
        .where(
            col(Task.account) == account,
            owner.in_(users),
            col(Task.completed_at).is_(None),
            deadline < w.now,
            or_(col(Task.lead_id).is_(None), lead_stage.in_(counted)),
        )
        .group_by(owner)
    )
    for user, count, oldest in rows:
        out[user].overdue_tasks = count
        out[user].oldest_overdue_deadline = utc(oldest) if oldest else None

    actor = col(Event.actor)
    moves_into = and_(
        col(Event.account) == account,
        col(Event.type).in_(STAGE_MOVES),
        actor.in_(users),
        at <= w.now,
    )

    # 6 and 9. moves into a sale stage: in each user's own days_without_sales
    # window, in the previous and in the current calendar month. One column
    # per distinct window start keeps this a single statement.
    sinces = sorted({since for u, since in w.sales_since.items() if u in out})
    last_month = and_(at >= w.prev_month_start, at < w.month_start)
    rows = session.execute(
        select(
            actor,
            func.sum(case((last_month, 1), else_=0)),
            func.sum(case((at >= w.month_start, 1), else_=0)),
            *(func.sum(case((at >= since, 1), else_=0)) for since in sinces),
        )
        .where(
            moves_into,
            col(Event.stage_to).in_(counted_sale),
            at >= min([w.prev_month_start, *sinces]),
        )
        .group_by(actor)
    )
    column = {since: i for i, since in enumerate(sinces)}
    for user, last, current, *windows in rows:
        out[user].sales_last_month = int(last or 0)
        out[user].sales_this_month = int(current or 0)
        since = w.sales_since.get(user)
        if since is not None:
            out[user].sales_in_window = int(windows[column[since]] or 0)

    # 7 and 8. leads now in a loss stage that the user moved there
    moved_by = col(Lead.stage_changed_by)
    moved_at = col(Lead.stage_changed_at)
    rows = session.execute(
        select(
            moved_by,
            func.count(),
            func.sum(case((moved_at >= w.today_start, 1), else_=0)),
        )
        .where(
            lead_counts,
            moved_by.in_(users),
            lead_stage.in_(counted_loss),
            moved_at >= w.month_start,
            moved_at <= w.now,
        )
        .group_by(moved_by)
    )
    for user, month, today in rows:
        out[user].lost_month = month
        out[user].lost_today = int(today or 0)

    # 10. distinct leads moved into the key stage, previous and current week
    if settings.key_stage in counted:
        this_week = at >= w.week_start
        lead_id = col(Event.lead_id)
        rows = session.execute(
            select(
                actor,
                func.count(distinct(case((this_week, None), else_=lead_id))),
                func.count(distinct(case((this_week, lead_id), else_=None))),
            )
            .where(
                moves_into,
                col(Event.stage_to) == settings.key_stage,
                at >= w.prev_week_start,
            )
            .group_by(actor)
        )
        for user, last, current in rows:
            out[user].key_stage_last_week = last
            out[user].key_stage_this_week = current
    return out
