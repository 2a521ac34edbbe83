"""Persistence and duty answers of the scheduler service."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from leadrouter.db import Database
from leadrouter.timestamps import utc
from leadrouter.workspace import ScheduleSpec, TemplateSpec
from services.scheduler.domain import Schedule, is_working, working_intervals
from services.scheduler.specs import schedule_of, template_of
from services.scheduler.tables import AccountZone, PresenceRow, ScheduleRow, TemplateRow
from services.scheduler.templates import Template

# How far back to look for the last shift change when presence follows the schedule.
LOOKBACK = timedelta(days=8)


@dataclass(frozen=True)
class Duty:
    user_id: str
    working: bool
    online: bool

    @property
    def on_duty(self) -> bool:
        return self.working and self.online


@dataclass
class Roster:
    """Everything about an account's working time, read in one transaction."""

    tz: ZoneInfo
    schedules: dict[str, Schedule] = field(default_factory=dict)
    follows: set[str] = field(default_factory=set)
    presence: dict[str, tuple[bool, datetime]] = field(default_factory=dict)
    templates: list[Template] = field(default_factory=list)

    def users(self) -> list[str]:
        return sorted(set(self.schedules) | set(self.presence))

    def duty(self, user: str, at: datetime) -> Duty:
        """Working, online and on duty at ``at``.

        Only the latest presence change is stored: for a user who sets
        presence by hand it answers for every instant; for a user who follows
        the schedule, a change made after ``at`` did not exist yet at ``at``.
        """
        schedule = self.schedules.get(user)
        working = schedule is not None and is_working(schedule, self.tz, at)
        said = self.presence.get(user)
        if user in self.follows and schedule is not None:
            # Presence follows the shifts; a manual change holds until the next one.
            flip = _last_change(schedule, self.tz, at)
            if said is not None and said[1] <= at and (flip is None or said[1] >= flip):
                online = said[0]
            else:
                online = working
        else:
            online = said[0] if said else False
        return Duty(user, working, online)


def _last_change(schedule: Schedule, tz: ZoneInfo, at: datetime) -> datetime | None:
    """The last instant at or before ``at`` where work started or ended, if recent."""
    since = at - LOOKBACK
    intervals = working_intervals(schedule, tz, since, at + timedelta(microseconds=1))
    if not intervals:
        return None
    start, end = intervals[-1]
    if not start <= at < end:
        return end
    # An interval clipped at the look-back bound started before it: no change seen.
    return None if start == since else start


class SchedulerStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def apply(
        self,
        *,
        account: str,
        timezone: str,
        schedules: list[ScheduleSpec],
        templates: list[TemplateSpec],
        dry_run: bool,
    ) -> list[str]:
        changes: list[str] = []
        with self.db.session() as s:
            zone = s.get(AccountZone, account)
            if zone is None:
                s.add(AccountZone(id=account, timezone=timezone))
            elif zone.timezone != timezone:
                zone.timezone = timezone
            stored = {
                r.user_id: r
                for r in s.scalars(
                    select(ScheduleRow).where(ScheduleRow.account == account)  # type: ignore[arg-type]
                )
            }
            for sort, spec in enumerate(schedules):
                text = spec.model_dump_json(by_alias=True)
                follow = spec.presence == "follow_schedule"
                row = stored.pop(spec.user, None)
                if row is None:
                    s.add(
                        ScheduleRow(
                            account=account,
                            user_id=spec.user,
                            spec=text,
                            follow_schedule=follow,
                            sort=sort,
                        )
                    )
                    changes.append(f"schedule of {spec.user} added")
                elif (row.spec, row.follow_schedule, row.sort) != (text, follow, sort):
                    row.spec, row.follow_schedule, row.sort = text, follow, sort
                    changes.append(f"schedule of {spec.user} changed")
            for row in stored.values():
                s.delete(row)
                changes.append(f"schedule of {row.user_id} removed")
            tstored = {
                r.id: r
                for r in s.scalars(
                    select(TemplateRow).where(TemplateRow.account == account)  # type: ignore[arg-type]
                )
            }
            for sort, t in enumerate(templates):
                text = t.model_dump_json()
                trow = tstored.pop(t.id, None)
                if trow is None:
                    s.add(TemplateRow(account=account, id=t.id, sort=sort, spec=text))
                    changes.append(f"template {t.id} added")
                elif (trow.spec, trow.sort) != (text, sort):
                    trow.spec, trow.sort = text, sort
                    changes.append(f"template {t.id} changed")
            for trow in tstored.values():
                s.delete(trow)
                changes.append(f"template {trow.id} removed")
            if dry_run:
                s.rollback()
        return changes

    def setup(self, *, account: str) -> tuple[str, str, str]:
        """Timezone, schedules and templates in force, as workspace JSON."""
        with self.db.session() as s:
            zone = s.get(AccountZone, account)
            schedules = s.scalars(
                select(ScheduleRow)
                .where(ScheduleRow.account == account)  # type: ignore[arg-type]
                .order_by(ScheduleRow.sort)  # type: ignore[arg-type]
            )
            templates = s.scalars(
                select(TemplateRow)
                .where(TemplateRow.account == account)  # type: ignore[arg-type]
                .order_by(TemplateRow.sort)  # type: ignore[arg-type]
            )
            return (
                zone.timezone if zone else "UTC",
                "[" + ",".join(r.spec for r in schedules) + "]",
                "[" + ",".join(t.spec for t in templates) + "]",
            )

    def roster(self, *, account: str) -> Roster:
        with self.db.session() as s:
            zone = s.get(AccountZone, account)
            roster = Roster(tz=ZoneInfo(zone.timezone if zone else "UTC"))
            for r in s.scalars(
                select(ScheduleRow).where(ScheduleRow.account == account)  # type: ignore[arg-type]
            ):
                roster.schedules[r.user_id] = schedule_of(
                    ScheduleSpec.model_validate_json(r.spec)
                )
                if r.follow_schedule:
                    roster.follows.add(r.user_id)
            for p in s.scalars(
                select(PresenceRow).where(PresenceRow.account == account)  # type: ignore[arg-type]
            ):
                roster.presence[p.user_id] = (p.online, utc(p.changed_at))
            for t in s.scalars(
                select(TemplateRow)
                .where(TemplateRow.account == account)  # type: ignore[arg-type]
                .order_by(TemplateRow.sort)  # type: ignore[arg-type]
            ):
                roster.templates.append(
                    template_of(TemplateSpec.model_validate_json(t.spec))
                )
            return roster

    def set_presence(
        self, *, account: str, user: str, online: bool, at: datetime
    ) -> None:
        with self.db.session() as s:
            row = s.get(PresenceRow, (account, user))
            if row is None:
                s.add(
                    PresenceRow(
                        account=account, user_id=user, online=online, changed_at=at
                    )
                )
            else:
                row.online, row.changed_at = online, at


def templates_json(text: str) -> list[TemplateSpec]:
    return [TemplateSpec.model_validate(t) for t in json.loads(text or "[]")]


def schedules_json(text: str) -> list[ScheduleSpec]:
    return [ScheduleSpec.model_validate(x) for x in json.loads(text or "[]")]
