"""Persistence of the limits service: group counting settings and member limits."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel import Session

from leadrouter import messages
from leadrouter.db import Database
from leadrouter.errors import NotFound
from services.limits.domain import LIMIT_NAMES, LimitSettings, member_settings
from services.limits.tables import AccountZone, LimitGroup, MemberLimit


def _split(text: str) -> tuple[str, ...]:
    return tuple(x for x in text.split(",") if x)


@dataclass(frozen=True)
class Member:
    user_id: str
    enabled: bool
    limits: dict[str, int]


@dataclass(frozen=True)
class GroupRules:
    id: str
    excluded_stages: tuple[str, ...] = ()
    sale_stages: tuple[str, ...] = ()
    loss_stages: tuple[str, ...] = ()
    key_stage: str = ""
    exchange_users: tuple[str, ...] = ()
    members: tuple[Member, ...] = ()
    default_limits: dict[str, int] = field(default_factory=dict)

    def member(self, user_id: str) -> Member | None:
        return next((m for m in self.members if m.user_id == user_id), None)

    def settings_of(self, member: Member) -> LimitSettings:
        """The member's limits in force: their own over the group's defaults."""
        return member_settings(self.default_limits, member.limits)


@dataclass
class EligibilityInputs:
    timezone: str
    group: GroupRules


@dataclass
class AccountLimits:
    """Groups with their members, the account's zone and the settings' stamp."""

    groups: list[GroupRules]
    timezone: str = "UTC"
    stamp: str = ""


class LimitsStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def apply(
        self,
        *,
        account: str,
        timezone: str,
        groups: list[GroupRules],
        dry_run: bool,
        stamp: str,
    ) -> tuple[list[str], bool]:
        """Makes the stored groups exactly the given ones.

        Returns what changed, and whether anything did (the zone too, which
        has no line of its own); a change stores `stamp` as the settings'.
        """
        changes: list[str] = []
        with self.db.session() as s:
            zone = s.get(AccountZone, account)
            zone_changed = zone is None or zone.timezone != timezone
            if zone is None:
                zone = AccountZone(id=account, timezone=timezone)
                s.add(zone)
            zone.timezone = timezone
            stored = {
                g.id: g
                for g in s.scalars(
                    select(LimitGroup).where(LimitGroup.account == account)  # type: ignore[arg-type]
                )
            }
            members = {
                (m.group_id, m.user_id): m
                for m in s.scalars(
                    select(MemberLimit).where(MemberLimit.account == account)  # type: ignore[arg-type]
                )
            }
            for sort, g in enumerate(groups):
                values = {
                    "excluded_stages": ",".join(g.excluded_stages),
                    "sale_stages": ",".join(g.sale_stages),
                    "loss_stages": ",".join(g.loss_stages),
                    "key_stage": g.key_stage,
                    "exchange_users": ",".join(g.exchange_users),
                    "default_limits": json.dumps(g.default_limits, sort_keys=True),
                    "sort": sort,
                }
                row = stored.pop(g.id, None)
                if row is None:
                    s.add(LimitGroup(account=account, id=g.id, **values))  # type: ignore[arg-type]
                    changes.append(f"group {g.id}: counting settings added")
                elif any(getattr(row, k) != v for k, v in values.items()):
                    for k, v in values.items():
                        setattr(row, k, v)
                    changes.append(f"group {g.id}: counting settings changed")
                for msort, m in enumerate(g.members):
                    text = json.dumps(m.limits, sort_keys=True)
                    mrow = members.pop((g.id, m.user_id), None)
                    if mrow is None:
                        s.add(
                            MemberLimit(
                                account=account,
                                group_id=g.id,
                                user_id=m.user_id,
                                enabled=m.enabled,
                                limits=text,
                                sort=msort,
                            )
                        )
                        changes.append(f"group {g.id}: member {m.user_id} added")
                    elif (mrow.enabled, mrow.limits, mrow.sort) != (
                        m.enabled,
                        text,
                        msort,
                    ):
                        mrow.enabled, mrow.limits, mrow.sort = m.enabled, text, msort
                        changes.append(
                            f"group {g.id}: member {m.user_id} limits changed"
                        )
            for (group_id, user_id), mrow in members.items():
                s.delete(mrow)
                changes.append(f"group {group_id}: member {user_id} removed")
            for row in stored.values():
                s.delete(row)
                changes.append(f"group {row.id}: removed")
            touched = zone_changed or bool(changes)
            if dry_run:
                s.rollback()
            elif touched:
                zone.stamp = stamp
        return changes, touched

    def settings(self, *, account: str, ids: list[str]) -> AccountLimits:
        """The groups (all when `ids` is empty) as one consistent reading."""
        with self.db.session() as s:
            zone = s.get(AccountZone, account)
            return AccountLimits(
                groups=_groups(s, account, ids, None),
                timezone=zone.timezone if zone else "UTC",
                stamp=zone.stamp if zone else "",
            )

    def eligibility_inputs(
        self, *, account: str, group_id: str, users: list[str]
    ) -> EligibilityInputs:
        # One transaction: a press reads its group and zone at once.
        with self.db.session() as s:
            found = _groups(s, account, [group_id], users)
            if not found:
                raise NotFound(messages.not_found("group", group_id))
            zone = s.get(AccountZone, account)
            return EligibilityInputs(
                timezone=zone.timezone if zone else "UTC", group=found[0]
            )


def _limits(text: str) -> dict[str, int]:
    raw = json.loads(text)
    return {k: int(v) for k, v in raw.items() if k in LIMIT_NAMES}


def _groups(
    s: Session, account: str, ids: list[str], users: list[str] | None
) -> list[GroupRules]:
    stmt = select(LimitGroup).where(LimitGroup.account == account)  # type: ignore[arg-type]
    if ids:
        stmt = stmt.where(LimitGroup.id.in_(ids))  # type: ignore[attr-defined]
    rows = list(s.scalars(stmt.order_by(LimitGroup.sort)))  # type: ignore[arg-type]
    mstmt = select(MemberLimit).where(
        MemberLimit.account == account,  # type: ignore[arg-type]
        MemberLimit.group_id.in_([r.id for r in rows]),  # type: ignore[attr-defined]
    )
    if users:
        # One press asks about one member: skip reading the other 499.
        mstmt = mstmt.where(MemberLimit.user_id.in_(users))  # type: ignore[attr-defined]
    by_group: dict[str, list[Member]] = {}
    for m in s.scalars(mstmt.order_by(MemberLimit.sort)):  # type: ignore[arg-type]
        by_group.setdefault(m.group_id, []).append(
            Member(m.user_id, m.enabled, _limits(m.limits))
        )
    return [
        GroupRules(
            id=r.id,
            excluded_stages=_split(r.excluded_stages),
            sale_stages=_split(r.sale_stages),
            loss_stages=_split(r.loss_stages),
            key_stage=r.key_stage,
            exchange_users=_split(r.exchange_users),
            members=tuple(by_group.get(r.id, [])),
            default_limits=_limits(r.default_limits or "{}"),
        )
        for r in rows
    ]
