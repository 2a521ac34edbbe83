"""Claims for the interval limit, and the limits service's stamp of its settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from leadrouter.db import Database
from services.crm.tables import Account, PoolClaim


def note_claim(
    s: Session, account: str, group_id: str, user_id: str, at: datetime
) -> None:
    """Keeps the later of the stored and the given claim, in the caller's transaction.

    One statement, so two presses of one manager at one moment (a double
    click) both land instead of racing to insert the same row.
    """
    insert = sqlite.insert if _is_sqlite(s) else postgresql.insert
    stmt = insert(PoolClaim).values(
        account=account, group_id=group_id, user_id=user_id, at=at
    )
    latest = PoolClaim.__table__.c.at  # type: ignore[attr-defined]
    s.execute(
        stmt.on_conflict_do_update(
            index_elements=["account", "group_id", "user_id"],
            set_={"at": stmt.excluded.at},
            where=latest < stmt.excluded.at,
        )
    )


def _is_sqlite(s: Session) -> bool:
    return s.get_bind().dialect.name == "sqlite"


class ClaimsStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record_claims(
        self, *, account: str, claims: list[tuple[str, str, datetime]]
    ) -> None:
        """Claims made elsewhere (a recorded past), as (group, user, when)."""
        with self.db.session() as s:
            for group_id, user_id, at in claims:
                note_claim(s, account, group_id, user_id, at)

    def set_limits_stamp(self, *, account: str, stamp: str) -> None:
        with self.db.session() as s:
            row = s.get(Account, account)
            if row is None:
                s.add(Account(id=account, limits_stamp=stamp))
            else:
                row.limits_stamp = stamp
