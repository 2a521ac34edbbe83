"""When amoCRM stops serving the whole account, not one request.

"403 | Аккаунт заблокирован, за неоднократное превышение количества запросов в
секунду" is a timed block of the account after repeated overruns of the rate
limit; "402 | Подписка закончилась" means the subscription has ended. Neither
refuses one write: retrying a write sooner changes nothing and, for the block,
only prolongs it. So every write of the account waits, none is given up, and
the worker asks amoCRM again after a pause that grows while the block lasts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from leadrouter import metrics
from leadrouter.db import Database
from leadrouter.timestamps import utc
from services.crm.amocrm.tables import AmoSync

log = logging.getLogger(__name__)

REASONS = {403: "blocked", 402: "not_paid"}
FIRST_PAUSE = timedelta(minutes=1)
# guess: how long a block lasts is not in the docs; asking every 15 minutes at
# most keeps a long block from growing by our own requests.
LONGEST_PAUSE = timedelta(minutes=15)


def pause(attempts: int) -> timedelta:
    """1, 2, 4, 8, then every 15 minutes: long enough not to prolong a block."""
    return min(LONGEST_PAUSE, FIRST_PAUSE * 2 ** max(attempts - 1, 0))


@dataclass(frozen=True)
class Block:
    status: int  # 403 or 402
    since: datetime
    until: datetime  # when amoCRM is asked again
    attempts: int
    detail: str = ""

    @property
    def reason(self) -> str:
        return REASONS.get(self.status, "blocked")

    def next(
        self, status: int, now: datetime, detail: str, not_before: datetime | None
    ) -> Block:
        """The block after amoCRM refused once more."""
        attempts = self.attempts + 1 if status == self.status else 1
        return started(status, now, detail, not_before, self.since, attempts)


def started(
    status: int,
    now: datetime,
    detail: str,
    not_before: datetime | None = None,
    since: datetime | None = None,
    attempts: int = 1,
) -> Block:
    until = now + pause(attempts)
    if not_before is not None and not_before > until:
        until = not_before  # amoCRM said when to come back
    return Block(status, since or now, until, attempts, detail[:500])


class BlockRecord:
    """The block as a row of the account's sync state: every replica and the
    health answer read it, and a restart does not ask amoCRM at once."""

    def __init__(self, db: Database, account: str) -> None:
        self.db = db
        self.account = account

    def load(self) -> Block | None:
        with self.db.session() as s:
            row = s.get(AmoSync, self.account)
            if row is None or not row.block_status or row.blocked_until is None:
                return None
            return Block(
                row.block_status,
                utc(row.blocked_since or row.blocked_until),
                utc(row.blocked_until),
                row.block_attempts,
                row.block_detail,
            )

    def save(self, *, block: Block | None) -> None:
        with self.db.session() as s:
            row = s.get(AmoSync, self.account)
            if row is None:
                row = AmoSync(account=self.account, step="directory")
                s.add(row)
            row.block_status = block.status if block else 0
            row.blocked_since = block.since if block else None
            row.blocked_until = block.until if block else None
            row.block_attempts = block.attempts if block else 0
            row.block_detail = block.detail if block else ""
        self.show(block)

    def show(self, block: Block | None) -> None:
        for status, reason in REASONS.items():
            on = block is not None and block.status == status
            metrics.AMOCRM_BLOCKED.labels(self.account, reason).set(1 if on else 0)
        until = block.until.timestamp() if block else 0
        metrics.AMOCRM_NEXT_ATTEMPT.labels(self.account).set(until)
