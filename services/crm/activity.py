"""Per-user activity aggregates for the limits: a fixed number of grouped queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Executable,
    and_,
    bindparam,
    case,
    distinct,
    func,
    or_,
    select,
)
from sqlmodel import Session, col

from leadrouter.timestamps import utc
from services.crm.state import stage_key
from services.crm.tables import Event, Lead, Pipeline, Stage, Task

# Events that move a lead into a stage; their actor is the lead's owner then.
# A reopening is not one of them (domain.md section 9): it counts in none of
# limits 6, 9 and 10, whatever stage it returns the lead to.
STAGE_MOVES = ("stage_changed",)


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
    live = {
        stage_key(pipeline, stage): kind
        for pipeline, stage, kind in session.execute(
            _live_stages(), {"account": account}
        )
    }
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
    # Limit 2 counts every stage whose kind is open, also one the group lists
    # among its sale or loss stages: the lead is still in work.
    counted_open = [k for k in counted if live[k] == "open"]
    sinces = sorted({since for u, since in w.sales_since.items() if u in out})
    params: dict[str, Any] = {
        "account": account,
        "users": users,
        "counted": counted,
        "counted_open": counted_open,
        "counted_sale": counted_sale,
        "counted_loss": counted_loss,
        "key_stage": settings.key_stage,
        "now": w.now,
        "today_start": w.today_start,
        "month_start": w.month_start,
        "prev_month_start": w.prev_month_start,
        "week_start": w.week_start,
        "prev_week_start": w.prev_week_start,
        "sales_from": min([w.prev_month_start, *sinces]),
        **{f"since_{i}": since for i, since in enumerate(sinces)},
    }

    for user, count in session.execute(_open_leads(), params):
        out[user].open_leads = count
    for user, count in session.execute(_new_today(), params):
        out[user].new_today = count
    for user, count, oldest in session.execute(_overdue_tasks(), params):
        out[user].overdue_tasks = count
        out[user].oldest_overdue_deadline = utc(oldest) if oldest else None
    column = {since: i for i, since in enumerate(sinces)}
    for user, last, current, *windows in session.execute(_sales(len(sinces)), params):
        out[user].sales_last_month = int(last or 0)
        out[user].sales_this_month = int(current or 0)
        since = w.sales_since.get(user)
        if since is not None:
            out[user].sales_in_window = int(windows[column[since]] or 0)
    for user, month, today in session.execute(_losses(), params):
        out[user].lost_month = month
        out[user].lost_today = int(today or 0)
    if settings.key_stage in counted:
        for user, last, current in session.execute(_key_stage(), params):
            out[user].key_stage_last_week = last
            out[user].key_stage_this_week = current
    return out


# The statements are built once and bound to each request's values: building
# and keying them afresh was most of a press's work in the crm.


def _in(name: str) -> Any:
    return bindparam(name, expanding=True)


@cache
def _live_stages() -> Executable:
    # Stages of archived pipelines count in no limit, like excluded stages:
    # archiving a pipeline is how an account takes its won stages out of sales.
    return (
        select(col(Stage.pipeline), col(Stage.id), col(Stage.kind))
        .join(
            Pipeline,
            and_(
                col(Pipeline.account) == col(Stage.account),
                col(Pipeline.id) == col(Stage.pipeline),
            ),
        )
        .where(
            col(Stage.account) == bindparam("account"),
            col(Pipeline.archived).is_(False),
        )
    )


def _lead_counts() -> Any:
    """A lead counts only while it sits in a counted stage."""
    return and_(
        col(Lead.account) == bindparam("account"),
        col(Lead.stage_key).in_(_in("counted")),
    )


@cache
def _open_leads() -> Executable:
    responsible = col(Lead.responsible)
    return (
        select(responsible, func.count())
        .where(
            _lead_counts(),
            responsible.in_(_in("users")),
            col(Lead.stage_key).in_(_in("counted_open")),
        )
        .group_by(responsible)
    )


@cache
def _new_today() -> Executable:
    """Leads the user became responsible for today, once per lead."""
    at = col(Event.at)
    user_to = col(Event.user_to)
    return (
        select(user_to, func.count(distinct(col(Event.lead_id))))
        .join(
            Lead,
            and_(
                col(Lead.account) == col(Event.account),
                col(Lead.id) == col(Event.lead_id),
            ),
        )
        .where(
            col(Event.account) == bindparam("account"),
            col(Event.type).in_(("lead_created", "responsible_changed")),
            user_to.in_(_in("users")),
            at >= bindparam("today_start"),
            at <= bindparam("now"),
            _lead_counts(),
        )
        .group_by(user_to)
    )


@cache
def _overdue_tasks() -> Executable:
    """Tasks not completed whose deadline passed."""
    owner = col(Task.responsible)
    deadline = col(Task.deadline)
    return (
        select(owner, func.count(), func.min(deadline))
        .outerjoin(
            Lead,
            and_(
                col(Lead.account) == col(Task.account),
                col(Lead.id) == col(Task.lead_id),
            ),
        )
        .where(
            col(Task.account) == bindparam("account"),
            owner.in_(_in("users")),
            col(Task.completed_at).is_(None),
            deadline < bindparam("now"),
            or_(col(Task.lead_id).is_(None), col(Lead.stage_key).in_(_in("counted"))),
        )
        .group_by(owner)
    )


def _moves_into() -> Any:
    return and_(
        col(Event.account) == bindparam("account"),
        col(Event.type).in_(STAGE_MOVES),
        col(Event.actor).in_(_in("users")),
        col(Event.at) <= bindparam("now"),
    )


def _of_counted_leads() -> Any:
    """A move counts only while its lead sits in a counted stage now: a lead
    parked in an excluded stage (or an archived pipeline) since counts in no
    limit at all (seed 000: "не засчитываются ни в каких лимитах"). A deleted
    lead has no row here, so its sales and key-stage moves go with it."""
    return and_(
        col(Lead.account) == col(Event.account),
        col(Lead.id) == col(Event.lead_id),
        col(Lead.stage_key).in_(_in("counted")),
    )


def _distinct_leads(condition: Any) -> Any:
    # A lead won, reopened and won again in one period is one sale.
    return func.count(distinct(case((condition, col(Event.lead_id)), else_=None)))


@cache
def _sales(windows: int) -> Executable:
    """Distinct leads moved into a sale stage: in each user's own
    days_without_sales window (one column per distinct window start,
    `since_0`...), in the previous and in the current calendar month."""
    at = col(Event.at)
    actor = col(Event.actor)
    last_month = and_(
        at >= bindparam("prev_month_start"), at < bindparam("month_start")
    )
    return (
        select(
            actor,
            _distinct_leads(last_month),
            _distinct_leads(at >= bindparam("month_start")),
            *(_distinct_leads(at >= bindparam(f"since_{i}")) for i in range(windows)),
        )
        .join(Lead, _of_counted_leads())
        .where(
            _moves_into(),
            col(Event.stage_to).in_(_in("counted_sale")),
            at >= bindparam("sales_from"),
        )
        .group_by(actor)
    )


@cache
def _losses() -> Executable:
    """Leads now in a loss stage that the user moved there, this month and today."""
    moved_by = col(Lead.stage_changed_by)
    moved_at = col(Lead.stage_changed_at)
    return (
        select(
            moved_by,
            func.count(),
            func.sum(case((moved_at >= bindparam("today_start"), 1), else_=0)),
        )
        .where(
            _lead_counts(),
            moved_by.in_(_in("users")),
            col(Lead.stage_key).in_(_in("counted_loss")),
            moved_at >= bindparam("month_start"),
            moved_at <= bindparam("now"),
        )
        .group_by(moved_by)
    )


@cache
def _key_stage() -> Executable:
    """Distinct leads moved into the key stage, previous and current week."""
    at = col(Event.at)
    this_week = at >= bindparam("week_start")
    lead_id = col(Event.lead_id)
    return (
        select(
            col(Event.actor),
            func.count(distinct(case((this_week, None), else_=lead_id))),
            func.count(distinct(case((this_week, lead_id), else_=None))),
        )
        .join(Lead, _of_counted_leads())
        .where(
            _moves_into(),
            col(Event.stage_to) == bindparam("key_stage"),
            at >= bindparam("prev_week_start"),
        )
        .group_by(col(Event.actor))
    )
