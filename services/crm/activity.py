"""Per-user activity figures for the limits: one statement, however many users.

The statement also reads what a press checks alongside the figures: each
user's last claim in the group (the interval limit) and the limits
service's stamp of its settings, so a press reads the crm once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    CTE,
    BigInteger,
    ColumnElement,
    DateTime,
    Select,
    and_,
    any_,
    bindparam,
    case,
    cast,
    distinct,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql.selectable import CompoundSelect
from sqlmodel import Session, col

from leadrouter.timestamps import utc
from services.crm.tables import (
    Account,
    Event,
    Lead,
    Pipeline,
    PoolClaim,
    Stage,
    Task,
)

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
    last_claim_at: datetime | None = None  # in the group asked about


@dataclass
class Measured:
    users: dict[str, UserActivity]
    limits_stamp: str = ""


def measure(
    session: Session,
    account: str,
    users: list[str],
    settings: StageSettings,
    w: Windows,
    group_id: str = "",
) -> Measured:
    """Everything the ten limits need, for many users at once.

    One statement, whatever the users and their limit values: a press asks
    for one manager, and a round trip per figure was most of its cost.
    """
    out = {u: UserActivity() for u in users}
    measured = Measured(out)
    if not users:
        stamp = session.scalar(
            select(col(Account.limits_stamp)).where(col(Account.id) == account)
        )
        measured.limits_stamp = stamp or ""
        return measured
    sinces = sorted({since for u, since in w.sales_since.items() if u in out})
    params: dict[str, Any] = {
        "account": account,
        "users": users,
        "group_id": group_id,
        "excluded": sorted(settings.excluded),
        "sale": sorted(settings.sale),
        "loss": sorted(settings.loss),
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
    postgres = session.get_bind().dialect.name == "postgresql"
    statement = _figures(
        postgres, len(sinces), bool(settings.sale), bool(settings.loss)
    )
    column = {since: i for i, since in enumerate(sinces)}
    for part, user, first, second, at, *windows in session.execute(statement, params):
        if part == "stamp":
            measured.limits_stamp = user
            continue
        a = out[user]
        if part == "claim":
            a.last_claim_at = utc(at)
        elif part == "open":
            a.open_leads = first
        elif part == "new":
            a.new_today = first
        elif part == "overdue":
            a.overdue_tasks = first
            a.oldest_overdue_deadline = utc(at) if at else None
        elif part == "sales":
            a.sales_last_month = int(first or 0)
            a.sales_this_month = int(second or 0)
            since = w.sales_since.get(user)
            if since is not None:
                a.sales_in_window = int(windows[column[since]] or 0)
        elif part == "losses":
            a.lost_month = first
            a.lost_today = int(second or 0)
        else:  # key stage moves
            a.key_stage_last_week = first
            a.key_stage_this_week = second
    return measured


# The statement is built once per shape and bound to each request's values:
# building and keying it afresh was most of a press's work in the crm.


def _in(name: str) -> Any:
    return bindparam(name, expanding=True)


class _Keys:
    """The counted stages of the account, as the statement's own subqueries.

    Stages of archived pipelines count in no limit, like excluded stages:
    archiving a pipeline is how an account takes its won stages out of sales.
    """

    def __init__(self, postgres: bool, own_sale: bool, own_loss: bool) -> None:
        key = (col(Stage.pipeline) + "/" + col(Stage.id)).label("key")
        self.counted: CTE = (
            select(key, col(Stage.kind).label("kind"))
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
                key.not_in(_in("excluded")),
            )
            .cte("counted")
        )
        self.postgres = postgres
        self.own_sale = own_sale
        self.own_loss = own_loss

    def _among(self, column: Any, *where: ColumnElement[bool]) -> ColumnElement[bool]:
        keys = select(self.counted.c.key).where(*where)
        if self.postgres:
            # An array built once (an InitPlan) is a condition the planner can
            # use on an index, where IN (subquery) becomes a join it may not.
            return column == any_(func.array(keys.scalar_subquery()))
        return column.in_(keys)

    def counted_(self, column: Any) -> ColumnElement[bool]:
        return self._among(column)

    def open(self, column: Any) -> ColumnElement[bool]:
        # Limit 2 counts every stage whose kind is open, also one the group
        # lists among its sale or loss stages: the lead is still in work.
        return self._among(column, self.counted.c.kind == "open")

    def sale(self, column: Any) -> ColumnElement[bool]:
        if self.own_sale:
            return self._among(column, self.counted.c.key.in_(_in("sale")))
        return self._among(column, self.counted.c.kind == "won")

    def loss(self, column: Any) -> ColumnElement[bool]:
        if self.own_loss:
            return self._among(column, self.counted.c.key.in_(_in("loss")))
        return self._among(column, self.counted.c.kind == "lost")

    def key_stage(self, column: Any) -> ColumnElement[bool]:
        # Only while the key stage is itself counted (not excluded, not archived).
        return self._among(column, self.counted.c.key == bindparam("key_stage"))


def _row(
    part: str,
    user: Any,
    first: Any,
    second: Any = None,
    at: Any = None,
    windows: list[Any] | None = None,
    width: int = 0,
) -> list[Any]:
    """One part's columns: (part, user, first, second, at, window 0...)."""

    # Typed NULLs: PostgreSQL types a UNION's columns pair by pair, and two
    # untyped NULLs make a text column no count or instant can join.
    def blank() -> Any:
        return cast(null(), BigInteger)

    return [
        literal_column(f"'{part}'"),
        user,
        blank() if first is None else first,
        blank() if second is None else second,
        cast(null(), DateTime(timezone=True)) if at is None else at,
        *(windows if windows is not None else [blank() for _ in range(width)]),
    ]


@cache
def _figures(
    postgres: bool, windows: int, own_sale: bool, own_loss: bool
) -> CompoundSelect:
    keys = _Keys(postgres, own_sale, own_loss)
    parts: list[Select[Any]] = [
        _open_leads(keys, windows),
        _new_today(keys, windows),
        _overdue_tasks(keys, windows),
        _sales(keys, windows),
        _losses(keys, windows),
        _key_stage(keys, windows),
        _last_claims(windows),
        _limits_stamp(windows),
    ]
    return union_all(*parts)


def _counted_lead(keys: _Keys) -> ColumnElement[bool]:
    """A lead counts only while it sits in a counted stage."""
    return and_(
        col(Lead.account) == bindparam("account"), keys.counted_(col(Lead.stage_key))
    )


def _open_leads(keys: _Keys, width: int) -> Select[Any]:
    responsible = col(Lead.responsible)
    return (
        select(*_row("open", responsible, func.count(), width=width))
        .where(
            col(Lead.account) == bindparam("account"),
            responsible.in_(_in("users")),
            keys.open(col(Lead.stage_key)),
        )
        .group_by(responsible)
    )


def _new_today(keys: _Keys, width: int) -> Select[Any]:
    """Leads the user became responsible for today, once per lead."""
    at = col(Event.at)
    user_to = col(Event.user_to)
    return (
        select(
            *_row("new", user_to, func.count(distinct(col(Event.lead_id))), width=width)
        )
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
            _counted_lead(keys),
        )
        .group_by(user_to)
    )


def _overdue_tasks(keys: _Keys, width: int) -> Select[Any]:
    """Tasks not completed whose deadline passed."""
    owner = col(Task.responsible)
    deadline = col(Task.deadline)
    return (
        select(
            *_row("overdue", owner, func.count(), at=func.min(deadline), width=width)
        )
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
            or_(col(Task.lead_id).is_(None), keys.counted_(col(Lead.stage_key))),
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


def _of_counted_leads(keys: _Keys) -> Any:
    """A move counts only while its lead sits in a counted stage now: a lead
    parked in an excluded stage (or an archived pipeline) since counts in no
    limit at all (seed 000: "не засчитываются ни в каких лимитах"). A deleted
    lead has no row here, so its sales and key-stage moves go with it."""
    return and_(
        col(Lead.account) == col(Event.account),
        col(Lead.id) == col(Event.lead_id),
        keys.counted_(col(Lead.stage_key)),
    )


def _distinct_leads(condition: Any) -> Any:
    # A lead won, reopened and won again in one period is one sale.
    return func.count(distinct(case((condition, col(Event.lead_id)), else_=None)))


def _sales(keys: _Keys, width: int) -> Select[Any]:
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
            *_row(
                "sales",
                actor,
                _distinct_leads(last_month),
                _distinct_leads(at >= bindparam("month_start")),
                windows=[
                    _distinct_leads(at >= bindparam(f"since_{i}")) for i in range(width)
                ],
            )
        )
        .join(Lead, _of_counted_leads(keys))
        .where(
            _moves_into(),
            keys.sale(col(Event.stage_to)),
            at >= bindparam("sales_from"),
        )
        .group_by(actor)
    )


def _losses(keys: _Keys, width: int) -> Select[Any]:
    """Leads now in a loss stage that the user moved there, this month and today."""
    moved_by = col(Lead.stage_changed_by)
    moved_at = col(Lead.stage_changed_at)
    today = func.sum(case((moved_at >= bindparam("today_start"), 1), else_=0))
    return (
        select(*_row("losses", moved_by, func.count(), today, width=width))
        .where(
            col(Lead.account) == bindparam("account"),
            moved_by.in_(_in("users")),
            keys.loss(col(Lead.stage_key)),
            moved_at >= bindparam("month_start"),
            moved_at <= bindparam("now"),
        )
        .group_by(moved_by)
    )


def _key_stage(keys: _Keys, width: int) -> Select[Any]:
    """Distinct leads moved into the key stage, previous and current week."""
    at = col(Event.at)
    this_week = at >= bindparam("week_start")
    lead_id = col(Event.lead_id)
    return (
        select(
            *_row(
                "key",
                col(Event.actor),
                func.count(distinct(case((this_week, None), else_=lead_id))),
                func.count(distinct(case((this_week, lead_id), else_=None))),
                width=width,
            )
        )
        .join(Lead, _of_counted_leads(keys))
        .where(
            _moves_into(),
            keys.key_stage(col(Event.stage_to)),
            at >= bindparam("prev_week_start"),
        )
        .group_by(col(Event.actor))
    )


def _last_claims(width: int) -> Select[Any]:
    user = col(PoolClaim.user_id)
    return select(*_row("claim", user, None, at=col(PoolClaim.at), width=width)).where(
        col(PoolClaim.account) == bindparam("account"),
        col(PoolClaim.group_id) == bindparam("group_id"),
        user.in_(_in("users")),
    )


def _limits_stamp(width: int) -> Select[Any]:
    stamp = col(Account.limits_stamp)
    return select(*_row("stamp", stamp, None, width=width)).where(
        col(Account.id) == bindparam("account")
    )
