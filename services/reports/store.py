"""Persistence of the reports: applying stream batches to read models, and reading them.

Each batch is applied in one transaction together with its stream's offset, and
anything at or below the stored offset is skipped, so reading a stream again,
from any point, changes no figure.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, literal, select
from sqlmodel import Session

from leadrouter.db import Database
from leadrouter.timestamps import utc
from services.reports import domain
from services.reports.tables import (
    AccountZone,
    DistributionDay,
    LeadClosing,
    LeadGroup,
    LeadState,
    StreamOffset,
)

log = logging.getLogger(__name__)

DECISIONS = "assigner.decisions"
CRM_EVENTS = "crm.events"
STREAMS = (DECISIONS, CRM_EVENTS)
CLOSED_KINDS = ("won", "lost")
_DAYS: Any = DistributionDay.__table__  # type: ignore[attr-defined]
_CLOSINGS: Any = LeadClosing.__table__  # type: ignore[attr-defined]
_GROUPS: Any = LeadGroup.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class DecisionFact:
    """The part of a journal entry the read models use."""

    offset: int
    account: str
    kind: str
    outcome: str
    group_id: str
    assignee: str
    lead_id: str
    at: datetime


@dataclass(frozen=True)
class CrmFact:
    """One canonical CRM event, its JSON already parsed."""

    offset: int
    account: str
    type: str
    lead_id: str
    at: datetime
    data: Mapping[str, Any]


class UnknownStages(Exception):
    """A batch names stages the cached directory does not know; refresh and retry."""

    def __init__(self, accounts: set[str]) -> None:
        super().__init__(f"unknown stages in accounts {sorted(accounts)}")
        self.accounts = accounts


class ReportsStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- offsets ----------------------------------------------------------------
    def offset(self, *, stream: str) -> int:
        with self.db.session() as s:
            row = s.get(StreamOffset, stream)
            return row.offset if row else 0

    def positions(self) -> dict[str, int]:
        with self.db.session() as s:
            found = {r.stream: r.offset for r in s.scalars(select(StreamOffset))}
        return {stream: found.get(stream, 0) for stream in STREAMS}

    def _lock_offset(self, s: Session, stream: str) -> StreamOffset:
        """The stream's offset row, locked so replicas apply a batch one at a time."""
        s.execute(
            self.db.insert(StreamOffset)
            .values(stream=stream, offset=0)
            .on_conflict_do_nothing()
        )
        row = s.get(StreamOffset, stream, with_for_update=True, populate_existing=True)
        assert row is not None
        return row

    # -- zones ------------------------------------------------------------------
    def zones(self, *, accounts: Iterable[str]) -> dict[str, str]:
        """The timezone each account's days have been counted in, where one has."""
        wanted = sorted(set(accounts))
        if not wanted:
            return {}
        with self.db.session() as s:
            rows = s.scalars(
                select(AccountZone).where(AccountZone.account.in_(wanted))  # type: ignore[attr-defined]
            )
            return {r.account: r.timezone for r in rows}

    # -- applying decisions -----------------------------------------------------
    def apply_decisions(
        self, *, facts: Sequence[DecisionFact], zones: Mapping[str, str]
    ) -> int:
        """Counts handed-out leads per local day; returns the stream's new offset."""
        with self.db.session() as s:
            mark = self._lock_offset(s, DECISIONS)
            counts: dict[tuple[str, date, str, str, str], int] = {}
            groups: dict[tuple[str, str], tuple[str, int]] = {}
            used: dict[str, str] = {}
            last = mark.offset
            for f in sorted(facts, key=lambda x: x.offset):
                if f.offset <= last:
                    continue
                last = f.offset
                if f.outcome not in domain.HANDED_OUT or not f.assignee:
                    continue
                if f.kind not in domain.KINDS:
                    continue
                tz_name = zones.get(f.account, "UTC")
                used[f.account] = tz_name
                day = domain.local_day(f.at, domain.zone(tz_name))
                key = (f.account, day, f.assignee, f.group_id, f.kind)
                counts[key] = counts.get(key, 0) + 1
                if f.lead_id:
                    groups[(f.account, f.lead_id)] = (f.group_id, f.offset)
            if counts:
                stmt = self.db.insert(DistributionDay)
                s.execute(
                    stmt.on_conflict_do_update(
                        index_elements=[
                            "account",
                            "day",
                            "user_id",
                            "group_id",
                            "kind",
                        ],
                        set_={"leads": _DAYS.c.leads + stmt.excluded.leads},
                    ),
                    [
                        {
                            "account": account,
                            "day": day,
                            "user_id": user,
                            "group_id": group,
                            "kind": kind,
                            "week": domain.week_start(day),
                            "month": domain.month_start(day),
                            "leads": n,
                        }
                        for (account, day, user, group, kind), n in counts.items()
                    ],
                )
            if groups:
                stmt = self.db.insert(LeadGroup)
                s.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["account", "lead_id"],
                        set_={
                            "group_id": stmt.excluded.group_id,
                            "decision_offset": stmt.excluded.decision_offset,
                        },
                    ),
                    [
                        {
                            "account": account,
                            "lead_id": lead,
                            "group_id": group,
                            "decision_offset": offset,
                        }
                        for (account, lead), (group, offset) in groups.items()
                    ],
                )
            if used:
                # The zone days were first counted in stays the zone of the account's
                # read model, so its days never mix two zones.
                s.execute(
                    self.db.insert(AccountZone)
                    .values([{"account": a, "timezone": tz} for a, tz in used.items()])
                    .on_conflict_do_nothing()
                )
            mark.offset = last
            return last

    # -- applying CRM events ----------------------------------------------------
    def apply_crm_events(
        self,
        facts: Sequence[CrmFact],
        stage_kinds: Mapping[str, Mapping[str, str]],
        *,
        strict: bool = True,
    ) -> int:
        """Keeps each lead's last closing; returns the stream's new offset.

        With `strict`, a stage missing from `stage_kinds` aborts the batch with
        UnknownStages so the caller can refresh the directory; otherwise such a
        move is taken as a move into an open stage.
        """
        with self.db.session() as s:
            mark = self._lock_offset(s, CRM_EVENTS)
            todo = [
                f
                for f in sorted(facts, key=lambda x: x.offset)
                if f.offset > mark.offset
            ]
            if not todo:
                return mark.offset
            leads = _Leads.load(s, {(f.account, f.lead_id) for f in todo if f.lead_id})
            unknown: set[str] = set()
            for f in todo:
                if f.lead_id:
                    kinds = stage_kinds.get(f.account, {})
                    missing = leads.apply(f, kinds)
                    if missing:
                        unknown.add(f.account)
            if unknown and strict:
                raise UnknownStages(unknown)
            leads.save(s)
            mark.offset = todo[-1].offset
            return mark.offset

    # -- rebuilding -------------------------------------------------------------
    def reset(self) -> None:
        """Forgets every read model and offset; the subscribers then rebuild them."""
        with self.db.session() as s:
            for table in (
                DistributionDay,
                LeadGroup,
                LeadState,
                LeadClosing,
                AccountZone,
                StreamOffset,
            ):
                s.execute(delete(table))

    # -- reading ----------------------------------------------------------------
    def distribution(
        self,
        *,
        account: str,
        days: domain.DayRange,
        bucket: str,
        group_ids: Sequence[str],
        user_ids: Sequence[str],
    ) -> list[domain.Cell]:
        """Leads per (bucket, manager) and kind, summed from the day counters."""
        t = _DAYS.c
        column = {"day": t.day, "week": t.week, "month": t.month}[bucket]

        def of(kind: str) -> Any:
            return func.sum(case((t.kind == kind, t.leads), else_=0))

        stmt = select(column, t.user_id, of("claim"), of("push"), of("manual")).where(
            t.account == account, t.day >= days.first, t.day <= days.last
        )
        if group_ids:
            stmt = stmt.where(t.group_id.in_(list(group_ids)))
        if user_ids:
            stmt = stmt.where(t.user_id.in_(list(user_ids)))
        stmt = stmt.group_by(column, t.user_id)
        with self.db.session() as s:
            return [
                (_as_date(b), u, int(c), int(p), int(m))
                for b, u, c, p, m in s.execute(stmt)
            ]

    def closings(self, *, q: LossQuestion) -> list[tuple[str, str, str, int]]:
        """(key, outcome, reason, leads) for last closings in [start, end).

        An open end (None) reaches all time. By pipeline the rows are counted
        per stage here and folded into their pipeline by the caller's fold
        (`domain.loss_reasons` sums rows of one key).
        """
        c = _CLOSINGS.c
        key = c.stage if q.group_by == "pipeline" else q.key()
        stmt = (
            select(key, c.outcome, c.reason, func.count())
            .select_from(q.source())
            .where(*q.conditions())
            .group_by(key, c.outcome, c.reason)
        )
        with self.db.session() as s:
            rows = [(str(k), o, r, int(n)) for k, o, r, n in s.execute(stmt)]
        if q.group_by == "pipeline":
            return [(domain.pipeline_of(k), o, r, n) for k, o, r, n in rows]
        return rows

    def closing_leads(
        self, q: LossQuestion, *, key: str | None, outcome: str, reason: str | None
    ) -> list[str]:
        """The leads behind one count of `closings`: the row `key` (None = the
        total), the outcome (empty = both) and the reason (None = any)."""
        c = _CLOSINGS.c
        conditions = q.conditions()
        if key is not None and q.group_by == "pipeline":
            prefix = f"{key}/"
            conditions.append(func.substr(c.stage, 1, len(prefix)) == prefix)
        elif key is not None and q.group_by != "none":
            conditions.append(q.key() == key)
        if outcome:
            conditions.append(c.outcome == outcome)
        if reason is not None:
            conditions.append(and_(c.outcome == "lost", c.reason == reason))
        stmt = (
            select(c.lead_id)
            .select_from(q.source())
            .where(*conditions)
            .order_by(c.lead_id)
        )
        with self.db.session() as s:
            return [str(x) for x in s.scalars(stmt)]


@dataclass(frozen=True)
class LossQuestion:
    """Which last closings one loss-reasons question reads, and its row key."""

    account: str
    start: datetime | None  # None: all time before `end`
    end: datetime | None
    group_by: str  # pipeline | group | manager | none
    group_ids: Sequence[str] = ()
    user_ids: Sequence[str] = ()

    def _group(self) -> Any:
        return func.coalesce(_GROUPS.c.group_id, "")

    def key(self) -> Any:
        c = _CLOSINGS.c
        return {
            "pipeline": c.stage,
            "group": self._group(),
            "manager": c.responsible,
            "none": literal(""),
        }[self.group_by]

    def source(self) -> Any:
        if self.group_by != "group" and not self.group_ids:
            return _CLOSINGS
        # Only a question about groups needs the lead's group.
        c, g = _CLOSINGS.c, _GROUPS.c
        return _CLOSINGS.outerjoin(
            _GROUPS, and_(g.account == c.account, g.lead_id == c.lead_id)
        )

    def conditions(self) -> list[Any]:
        c = _CLOSINGS.c
        out: list[Any] = [c.account == self.account, c.deleted.is_(False)]
        if self.start is not None:
            out.append(c.closed_at >= utc(self.start))
        if self.end is not None:
            out.append(c.closed_at < utc(self.end))
        if self.group_ids:
            out.append(self._group().in_(list(self.group_ids)))
        if self.user_ids:
            out.append(c.responsible.in_(list(self.user_ids)))
        return out


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


class _Leads:
    """The leads one batch of CRM events touches, changed in memory, then saved."""

    def __init__(
        self,
        states: dict[tuple[str, str], LeadState],
        closings: dict[tuple[str, str], LeadClosing],
    ) -> None:
        self.states = states
        self.closings = closings
        self.stored = set(closings)  # keys with a closing row in the database
        self.closed = dict.fromkeys(closings, True)  # whether the lead is closed now

    @classmethod
    def load(cls, s: Session, keys: set[tuple[str, str]]) -> _Leads:
        states: dict[tuple[str, str], LeadState] = {}
        closings: dict[tuple[str, str], LeadClosing] = {}
        by_account: dict[str, list[str]] = {}
        for account, lead in keys:
            by_account.setdefault(account, []).append(lead)
        for account, ids in by_account.items():
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                for st in s.scalars(
                    select(LeadState).where(
                        LeadState.account == account,  # type: ignore[arg-type]
                        LeadState.lead_id.in_(chunk),  # type: ignore[attr-defined]
                    )
                ):
                    states[(account, st.lead_id)] = st
                for cl in s.scalars(
                    select(LeadClosing).where(
                        LeadClosing.account == account,  # type: ignore[arg-type]
                        LeadClosing.lead_id.in_(chunk),  # type: ignore[attr-defined]
                    )
                ):
                    closings[(account, cl.lead_id)] = cl
        return cls(states, closings)

    def _state(self, account: str, lead: str) -> LeadState:
        key = (account, lead)
        if key not in self.states:
            self.states[key] = LeadState(account=account, lead_id=lead)
        return self.states[key]

    def apply(self, f: CrmFact, kinds: Mapping[str, str]) -> bool:
        """Applies one event; True when it named a stage `kinds` does not know."""
        d = f.data
        if f.type == "lead_created":
            state = self._state(f.account, f.lead_id)
            state.pipeline = str(d.get("pipeline", ""))
            state.responsible = str(d.get("responsible", ""))
            return self._moved(f, state, str(d.get("stage", "")), "", kinds)
        if f.type == "responsible_changed":
            self._state(f.account, f.lead_id).responsible = str(d.get("to", ""))
        elif f.type == "stage_changed":
            state = self._state(f.account, f.lead_id)
            state.pipeline = str(d.get("pipeline") or state.pipeline)
            return self._moved(
                f, state, str(d.get("to", "")), d.get("loss_reason"), kinds
            )
        elif f.type == "lead_reopened":
            self.closed[(f.account, f.lead_id)] = False
        elif f.type in ("lead_deleted", "lead_restored"):
            # A deleted lead leaves the report as it leaves the leads list, so
            # every count still opens exactly its leads; a restore brings it back.
            closing = self.closings.get((f.account, f.lead_id))
            if closing is not None:
                closing.deleted = f.type == "lead_deleted"
        return False

    def _moved(
        self,
        f: CrmFact,
        state: LeadState,
        stage: str,
        reason: Any,
        kinds: Mapping[str, str],
    ) -> bool:
        key = (f.account, f.lead_id)
        where = f"{state.pipeline}/{stage}"
        kind = kinds.get(where)
        if kind not in CLOSED_KINDS:
            self.closed[key] = False
            return kind is None
        closing = self.closings.get(key)
        if closing is None:
            closing = LeadClosing(
                account=f.account, lead_id=f.lead_id, closed_at=utc(f.at), outcome=kind
            )
            self.closings[key] = closing
        closing.closed_at = utc(f.at)
        closing.outcome = kind
        closing.reason = str(reason or "") if kind == "lost" else ""
        closing.responsible = state.responsible
        closing.stage = where
        closing.deleted = False
        self.closed[key] = True
        return False

    def save(self, s: Session) -> None:
        s.add_all(self.states.values())
        for key, closed in self.closed.items():
            closing = self.closings.get(key)
            if closed and closing is not None:
                s.add(closing)
            elif key in self.stored and closing is not None:
                s.delete(closing)
