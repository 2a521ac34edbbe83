"""Leads that wait: held by push distribution, or in a pool nobody may take from.

The head of sales' banner, the operators' metrics and the alert webhook all
read this. Held leads are push distribution's own rows (state `waiting`,
with the reason they wait), counted at the moment of asking at the
injected clock's now. Whether anybody may take a lead from a group's pool is
the limits' verdict, asked per group (two calls); the metrics keep the last
answer, refreshed every POOLS_SECONDS of real time.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select as select_columns
from sqlmodel import col, select

from leadrouter import metrics
from leadrouter.clients import Clients
from leadrouter.clock import Clock
from leadrouter.crm.v1 import crm_pb2
from leadrouter.db import Database
from leadrouter.limits.v1 import limits_pb2
from leadrouter.timestamps import to_ts, utc
from services.assigner.claim import pool_query
from services.assigner.store import Group
from services.assigner.tables import DistributionGroup, PushLead

log = logging.getLogger(__name__)

# How often, in real seconds, the metrics ask the limits about every pool.
POOLS_SECONDS = 30.0


@dataclass(frozen=True)
class HeldGroup:
    """Leads held in one group for one reason, and since when the oldest waits."""

    account: str
    group_id: str
    reason: str  # no_template | nobody_on_duty
    leads: int
    oldest_since: datetime


@dataclass(frozen=True)
class HeldLead:
    account: str
    lead_id: str
    group_id: str
    reason: str
    since: datetime


@dataclass(frozen=True)
class Pool:
    account: str
    group_id: str
    leads: int
    eligible: int  # members who may press Get lead now


class WaitingLeads:
    def __init__(self, db: Database, clients: Clients, clock: Clock) -> None:
        self.db = db
        self.clients = clients
        self.clock = clock
        self._pools: dict[str, list[Pool]] = {}  # the last answer, per account
        self.looked_at: datetime | None = None  # the clock at the last full look

    def held(self, *, account: str = "") -> list[HeldGroup]:
        """Held leads per (account, group, reason), the longest-waiting first."""
        since = func.min(func.coalesce(PushLead.waiting_since, PushLead.created_at))
        stmt = (
            select_columns(
                col(PushLead.account),
                col(PushLead.group_id),
                col(PushLead.wait_reason),
                func.count(),
                since,
            )
            .where(col(PushLead.state) == "waiting", col(PushLead.wait_reason) != "")
            .group_by(
                col(PushLead.account), col(PushLead.group_id), col(PushLead.wait_reason)
            )
        )
        if account:
            stmt = stmt.where(col(PushLead.account) == account)
        with self.db.session() as s:
            rows = s.execute(stmt).all()
        found = [
            HeldGroup(a, g, reason, int(n), utc(oldest))
            for a, g, reason, n, oldest in rows
        ]
        return sorted(found, key=lambda h: (h.oldest_since, h.group_id, h.reason))

    def held_leads(self, *, account: str, first: int) -> list[HeldLead]:
        """The held leads themselves, the longest-waiting first."""
        since = func.coalesce(PushLead.waiting_since, PushLead.created_at)
        stmt = (
            select(PushLead)
            .where(
                col(PushLead.account) == account,
                col(PushLead.state) == "waiting",
                col(PushLead.wait_reason) != "",
            )
            .order_by(since, col(PushLead.lead_id))
            .limit(first)
        )
        with self.db.session() as s:
            rows = list(s.exec(stmt))
        return [
            HeldLead(
                r.account,
                r.lead_id,
                r.group_id,
                r.wait_reason,
                utc(r.waiting_since or r.created_at),
            )
            for r in rows
        ]

    def groups(self, *, account: str = "") -> list[tuple[str, Group]]:
        stmt = select(DistributionGroup)
        if account:
            stmt = stmt.where(col(DistributionGroup.account) == account)
        order = (col(DistributionGroup.account), col(DistributionGroup.sort))
        stmt = stmt.order_by(*order)
        with self.db.session() as s:
            return [(r.account, Group.of(r)) for r in s.exec(stmt)]

    async def pools(self, account: str = "") -> list[Pool]:
        """Every group's pool and who may take from it, at the clock's now."""
        now = self.clock.now()
        found = []
        for owner, group in await self.db.run(self.groups, account=account):
            page = await self.clients.crm.list_pool(
                crm_pb2.ListPoolRequest(account=owner, pool=pool_query(group), first=1),
            )
            verdicts = await self.clients.limits.get_eligibility(
                limits_pb2.GetEligibilityRequest(
                    account=owner, group_id=group.id, at=to_ts(now)
                ),
            )
            eligible = sum(
                1
                for u in verdicts.users
                if u.membership == limits_pb2.MEMBERSHIP_ENABLED and u.eligible
            )
            found.append(Pool(owner, group.id, page.total, eligible))
        # Any look refreshes the gauges: the banner's too.
        if account:
            self._pools[account] = found
        else:
            self._pools = {}
            for pool in found:
                self._pools.setdefault(pool.account, []).append(pool)
            self.looked_at = now
        return found

    def last_pools(self) -> list[Pool]:
        return [p for pools in list(self._pools.values()) for p in pools]

    # -- the metrics ---------------------------------------------------------
    def measure(self) -> metrics.Waiting:
        """What the gauges show now: held leads as stored, pools as last asked."""
        now = self.clock.now()
        return metrics.Waiting(
            held=[
                metrics.HeldLeads(
                    h.account,
                    h.group_id,
                    h.reason,
                    h.leads,
                    max(0.0, (now - h.oldest_since).total_seconds()),
                )
                for h in self.held()
            ],
            pools=[
                metrics.PoolState(p.account, p.group_id, p.leads, p.eligible)
                for p in self.last_pools()
            ],
        )

    async def run(self) -> None:
        """Keeps the pools' gauges fresh while the assigner runs."""
        while True:
            try:
                await self.pools()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a service restarting: next round
                log.warning("pools not measured: %s", error)
            await asyncio.sleep(POOLS_SECONDS)
