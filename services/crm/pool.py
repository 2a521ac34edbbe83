"""The pool's oldest lead, read from a window that does not grow with the leads taken.

A take moves the lead out of its pool stage and owner, and PostgreSQL keeps
the old index entry until vacuum: a take that starts at the beginning of the
pool's index steps over every lead claimed since the last vacuum, so a long
burst slows as it goes. Each (stage, exchange user) of a pool has a floor
(`PoolFloor`): no lead of that stage and owner was created before it. The
take starts its index scan at the floor and reads the oldest live entry.

The floor stays true because every lead that comes into a technical user's
stage (created, moved, given back, restored, reopened) lowers it in the same
transaction, and a raise only ever puts it at the oldest lead the raise
itself sees, and only if no lead came in while it looked (the row's version
did not move). A lead taken by a press still in flight is seen as still in
the pool, so a raise never passes it. Floors exist only for technical users
(exchange users are technical, domain.md); a pool with an owner that has
none is read from the index's beginning, as before.

SQLite removes an index entry with the change, so it needs no floor.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Select,
    case,
    delete,
    exists,
    func,
    literal,
    literal_column,
    select,
    update,
)
from sqlalchemy import event as orm_event
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, col

from services.crm.tables import CrmUser, Lead, PoolFloor


@dataclass(frozen=True)
class Pool:
    source_stages: tuple[str, ...]
    exchange_users: tuple[str, ...]


# A take in this many raises its pool's floors (one in the first take).
REFRESH_EVERY = 64
_ENTERED = "crm.pool.entered"
_EARLIEST: ColumnElement[datetime] = literal_column("'-infinity'::timestamptz")
_LATEST: ColumnElement[datetime] = literal_column("'infinity'::timestamptz")


def postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def pool_filter(
    account: str, stages: tuple[str, ...], owners: tuple[str, ...]
) -> list[ColumnElement[bool]]:
    return [
        col(Lead.account) == account,
        col(Lead.stage_key).in_(stages),
        col(Lead.responsible).in_(owners),
    ]


def oldest(
    account: str, stages: tuple[str, ...], owners: tuple[str, ...], floored: bool
) -> Select[Lead]:
    """The pool's oldest lead, locked; concurrent takers skip each other's rows."""
    stmt = select(Lead).where(*pool_filter(account, stages, owners))
    if floored:
        triples = len(set(stages)) * len(set(owners))
        # The lowest floor of the pool's (stage, owner) pairs, if all have one.
        floor = (
            select(case((func.count() == triples, func.min(col(PoolFloor.at)))))
            .where(
                col(PoolFloor.account) == account,
                col(PoolFloor.stage_key).in_(stages),
                col(PoolFloor.responsible).in_(owners),
            )
            .scalar_subquery()
        )
        stmt = stmt.where(col(Lead.created_at) >= func.coalesce(floor, _EARLIEST))
        stmt = stmt.with_for_update(skip_locked=True)
    return stmt.order_by(col(Lead.created_at), col(Lead.id)).limit(1)


class Raises:
    """Which takes raise their pool's floor: every `every`-th one, from the first."""

    def __init__(self, every: int = REFRESH_EVERY) -> None:
        self.every = every
        self._takes = itertools.count()

    def due(self) -> bool:
        return next(self._takes) % self.every == 0


def raise_floors(
    s: Session, account: str, stages: tuple[str, ...], owners: tuple[str, ...]
) -> None:
    """Puts each floor of the pool at its oldest lead, in the caller's transaction."""
    for stage in sorted(set(stages)):
        for owner in sorted(set(owners)):
            _raise(s, account, stage, owner)


def _raise(s: Session, account: str, stage: str, owner: str) -> None:
    key = (
        col(PoolFloor.account) == account,
        col(PoolFloor.stage_key) == stage,
        col(PoolFloor.responsible) == owner,
    )
    first = (
        select(func.min(col(Lead.created_at)))
        .where(*pool_filter(account, (stage,), (owner,)))
        .scalar_subquery()
    )
    # The version and the oldest lead in one statement: one snapshot.
    row = s.execute(select(col(PoolFloor.version), first).where(*key)).first()
    if row is None:
        # A new floor says nothing yet: a lead that came in before it existed
        # lowered nothing. The next raise measures.
        technical = exists().where(
            col(CrmUser.account) == account,
            col(CrmUser.id) == owner,
            col(CrmUser.technical).is_(True),
        )
        values = select(
            literal(account), literal(stage), literal(owner), _EARLIEST, literal(0)
        ).where(technical)
        columns = ["account", "stage_key", "responsible", "at", "version"]
        s.execute(
            postgresql.insert(PoolFloor)
            .from_select(columns, values)
            .on_conflict_do_nothing()
        )
        return
    version, at = row
    s.execute(
        update(PoolFloor)
        .where(*key, col(PoolFloor.version) == version)
        .values(at=_LATEST if at is None else at, version=version + 1)
    )


def forget_floors(s: Session, account: str, owner: str) -> None:
    """The user stopped (or started) being technical: its floors say nothing now.

    Only a technical owner's arrivals lower a floor, so one kept across the
    change could stand above a lead that came in meanwhile.
    """
    s.execute(
        delete(PoolFloor).where(
            col(PoolFloor.account) == account, col(PoolFloor.responsible) == owner
        )
    )


def entered(session: Session, account: str, lead: Lead, technical: bool) -> None:
    """The lead now sits in its stage with its owner: at the commit, a floor
    above its creation comes down to it."""
    if not technical:
        return
    entries: dict[tuple[str, str, str], datetime] | None = session.info.get(_ENTERED)
    if entries is None:
        entries = session.info[_ENTERED] = {}
        # Before the log's writer: a lowering and a raise each lock the floor
        # first and the event log's lock second, never the other way round.
        orm_event.listen(session, "before_commit", _lower, insert=True)
    key = (account, lead.stage_key, lead.responsible)
    if key not in entries or lead.created_at < entries[key]:
        entries[key] = lead.created_at


def _lower(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: the outer commit lowers
        return
    entries: dict[tuple[str, str, str], datetime] = session.info.get(_ENTERED, {})
    for (account, stage, owner), at in sorted(entries.items()):
        insert = postgresql.insert(PoolFloor).values(
            account=account, stage_key=stage, responsible=owner, at=_EARLIEST, version=0
        )
        session.execute(
            insert.on_conflict_do_update(
                index_elements=["account", "stage_key", "responsible"],
                set_={
                    "at": func.least(col(PoolFloor.at), at),
                    "version": col(PoolFloor.version) + 1,
                },
            )
        )
    entries.clear()
