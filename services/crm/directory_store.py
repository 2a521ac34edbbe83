"""The account's directory in the built-in CRM: its users, pipelines and stages.

What the setup sends (ApplyDirectory) and what every other part reads of the
account (GetDirectory), one transaction each over the crm's tables.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace

from sqlalchemy import select
from sqlmodel import Session, col

from leadrouter.db import Database
from leadrouter.errors import NotFound
from leadrouter.i18n import _
from services.crm.pool import forget_floors
from services.crm.tables import Account, CrmUser, Pipeline, Stage


@dataclass(frozen=True)
class StageSpec:
    id: str
    name: str
    kind: str
    loss_reasons: tuple[str, ...] = ()
    require_loss_reason: bool = False


@dataclass(frozen=True)
class PipelineSpec:
    id: str
    name: str
    archived: bool
    stages: tuple[StageSpec, ...]


@dataclass(frozen=True)
class UserSpec:
    id: str
    name: str
    technical: bool = False
    active: bool = True


@dataclass(frozen=True)
class DirectorySpec:
    account: str
    timezone: str
    users: tuple[UserSpec, ...] = ()
    pipelines: tuple[PipelineSpec, ...] = ()


class DirectoryStore:
    db: Database

    def apply_directory(self, *, spec: DirectorySpec, dry_run: bool) -> list[str]:
        """Upserts users and pipelines; users absent from the spec become inactive."""
        changes: list[str] = []
        with self.db.session() as s:
            account = s.get(Account, spec.account)
            if account is None:
                s.add(Account(id=spec.account, timezone=spec.timezone))
                changes.append(f"account {spec.account} created ({spec.timezone})")
            elif account.timezone != spec.timezone:
                changes.append(
                    f"account timezone {account.timezone} -> {spec.timezone}"
                )
                account.timezone = spec.timezone
            known = {
                u.id: u
                for u in s.scalars(
                    select(CrmUser).where(col(CrmUser.account) == spec.account)
                )
            }
            for u in spec.users:
                row = known.pop(u.id, None)
                if row is None:
                    s.add(CrmUser(account=spec.account, **asdict(u)))
                    changes.append(f"user {u.id} added")
                elif (row.name, row.technical, row.active) != (
                    u.name,
                    u.technical,
                    u.active,
                ):
                    if row.technical != u.technical:
                        forget_floors(s, spec.account, u.id)
                    row.name, row.technical, row.active = u.name, u.technical, u.active
                    changes.append(f"user {u.id} updated")
            for row in known.values():
                if row.active and spec.users:
                    row.active = False
                    changes.append(f"user {row.id} deactivated")
            for sort, p in enumerate(spec.pipelines):
                changes += _upsert_pipeline(s, spec.account, p, sort)
            if dry_run:
                s.rollback()
        return changes

    def timezone(self, account: str) -> str:
        with self.db.session() as s:
            row = s.get(Account, account)
            return row.timezone if row else "UTC"

    def get_directory(
        self, *, account: str, user_ids: list[str] | None = None
    ) -> DirectorySpec:
        """The account's users and pipelines; with `user_ids`, those users only."""
        with self.db.session() as s:
            acc = s.get(Account, account)
            if acc is None:
                raise NotFound(
                    _("account '{account}' has no CRM data yet").format(account=account)
                )
            stmt = select(CrmUser).where(col(CrmUser.account) == account)
            if user_ids:
                stmt = stmt.where(col(CrmUser.id).in_(user_ids))
            people = tuple(
                UserSpec(u.id, u.name, u.technical, u.active)
                for u in s.scalars(stmt.order_by(col(CrmUser.id)))
            )
            spec = DirectorySpec(account=account, timezone=acc.timezone, users=people)
            if user_ids:
                return spec
            pipelines = s.scalars(
                select(Pipeline)
                .where(col(Pipeline.account) == account)
                .order_by(col(Pipeline.sort))
            ).all()
            stages = s.scalars(
                select(Stage)
                .where(col(Stage.account) == account)
                .order_by(col(Stage.sort))
            ).all()
            return replace(
                spec,
                pipelines=tuple(
                    PipelineSpec(
                        p.id,
                        p.name,
                        p.archived,
                        tuple(
                            StageSpec(
                                st.id,
                                st.name,
                                st.kind,
                                tuple(json.loads(st.loss_reasons or "[]")),
                                st.require_loss_reason,
                            )
                            for st in stages
                            if st.pipeline == p.id
                        ),
                    )
                    for p in pipelines
                ),
            )


def _upsert_pipeline(s: Session, account: str, p: PipelineSpec, sort: int) -> list[str]:
    changes: list[str] = []
    row = s.get(Pipeline, (account, p.id))
    if row is None:
        s.add(
            Pipeline(
                account=account, id=p.id, name=p.name, archived=p.archived, sort=sort
            )
        )
        changes.append(f"pipeline {p.id} added")
    elif (row.name, row.archived, row.sort) != (p.name, p.archived, sort):
        row.name, row.archived, row.sort = p.name, p.archived, sort
        changes.append(f"pipeline {p.id} updated")
    for stage_sort, st in enumerate(p.stages):
        srow = s.get(Stage, (account, p.id, st.id))
        reasons = json.dumps(list(st.loss_reasons), ensure_ascii=False)
        if srow is None:
            s.add(
                Stage(
                    account=account,
                    pipeline=p.id,
                    id=st.id,
                    name=st.name,
                    kind=st.kind,
                    sort=stage_sort,
                    loss_reasons=reasons,
                    require_loss_reason=st.require_loss_reason,
                )
            )
            changes.append(f"stage {p.id}/{st.id} added")
        elif (
            srow.name,
            srow.kind,
            srow.sort,
            json.loads(srow.loss_reasons or "[]"),
            srow.require_loss_reason,
        ) != (
            st.name,
            st.kind,
            stage_sort,
            list(st.loss_reasons),
            st.require_loss_reason,
        ):
            srow.name, srow.kind, srow.sort = st.name, st.kind, stage_sort
            srow.loss_reasons = reasons
            srow.require_loss_reason = st.require_loss_reason
            changes.append(f"stage {p.id}/{st.id} updated")
    return changes
