"""The numbered versions of an account's setup, kept by the limits service."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from leadrouter import setup_messages
from leadrouter.db import Database
from leadrouter.errors import NotFound
from leadrouter.timestamps import utc
from services.limits.tables import SetupVersionRow


@dataclass(frozen=True)
class SetupVersion:
    number: int
    at: datetime
    author: str
    source: str
    changes: list[str] = field(default_factory=list)
    workspace_yaml: str = ""

    @classmethod
    def of(cls, row: SetupVersionRow, *, whole: bool) -> SetupVersion:
        return cls(
            number=row.number,
            at=utc(row.at),
            author=row.author,
            source=row.source,
            changes=list(json.loads(row.changes)),
            workspace_yaml=row.workspace_yaml if whole else "",
        )


FIRST_SEEN = "the setup as it was before any kept change"


class SetupVersions:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(
        self,
        *,
        account: str,
        at: datetime,
        author: str,
        source: str,
        changes: list[str],
        workspace_yaml: str,
        previous_yaml: str,
    ) -> SetupVersion:
        """Keeps the next version; two at once get two numbers (one retries)."""
        entry = SetupVersion(0, at, author, source, changes, workspace_yaml)
        for attempt in range(3):
            try:
                return self._record(account, entry, previous_yaml)
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _record(
        self, account: str, entry: SetupVersion, previous_yaml: str
    ) -> SetupVersion:
        with self.db.session() as s:
            last = s.scalar(
                select(func.max(SetupVersionRow.number)).where(
                    col(SetupVersionRow.account) == account
                )
            )
            number = (last or 0) + 1
            if last is None and previous_yaml:
                s.add(
                    SetupVersionRow(
                        account=account,
                        number=number,
                        at=entry.at,
                        source=FIRST_SEEN,
                        workspace_yaml=previous_yaml,
                    )
                )
                number += 1
            row = SetupVersionRow(
                account=account,
                number=number,
                at=entry.at,
                author=entry.author,
                source=entry.source,
                changes=json.dumps(entry.changes, ensure_ascii=False),
                workspace_yaml=entry.workspace_yaml,
            )
            s.add(row)
            s.flush()
            return SetupVersion.of(row, whole=False)

    def versions(self, *, account: str) -> list[SetupVersion]:
        with self.db.session() as s:
            rows = s.scalars(
                select(SetupVersionRow)
                .where(col(SetupVersionRow.account) == account)
                .order_by(col(SetupVersionRow.number).desc())
            )
            return [SetupVersion.of(r, whole=False) for r in rows]

    def version(self, *, account: str, number: int) -> SetupVersion:
        with self.db.session() as s:
            row = s.get(SetupVersionRow, (account, number))
            if row is None:
                raise NotFound(setup_messages.no_version(number))
            return SetupVersion.of(row, whole=True)
