"""Writing the canonical event log: a change's events at its commit, in offset order."""

from __future__ import annotations

from sqlalchemy import event as orm_event
from sqlalchemy import text
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session

from services.crm.tables import Event

# One lock for the whole log, not one per account: followers read the events
# of every account by a single offset.
LOG_LOCK = "crm.events"
_PENDING = "crm.events.pending"


def pending_log(session: Session) -> list[Event]:
    """The events this transaction logs, written just before it commits.

    Offsets must become visible in order, or a follower reading "after offset
    N" could pass a smaller offset that commits later. So they are allocated
    under a lock held until the commit; taking it only at the commit keeps
    the rest of the change (the lead, its view, the operation record) out of
    the part that concurrent changes run one at a time.
    """
    pending: list[Event] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        orm_event.listen(session, "before_commit", _write_log)
        orm_event.listen(session, "after_soft_rollback", _forget_log)
    return pending


def _write_log(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: the outer commit writes
        return
    pending: list[Event] = session.info.get(_PENDING, [])
    if not pending:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": LOG_LOCK}
        )
    # On SQLite the transaction's first write already holds the database's
    # write lock until the commit, which orders offsets the same way.
    session.add_all(pending)
    pending.clear()
    session.flush()


def _forget_log(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction rolled back
        session.info.get(_PENDING, []).clear()
