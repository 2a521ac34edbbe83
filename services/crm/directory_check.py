"""The account's stages and users as a change checks its events against them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel import Session, col

from services.crm.loss_reasons import StageReasons
from services.crm.tables import CrmUser, Stage


@dataclass
class Directory:
    """What events are checked against: users and stages of the account.

    Stages are few and read at once; users are looked up as events name them
    and remembered, so a single claim does not read an account's whole staff.
    """

    stages: dict[str, str] = field(default_factory=dict)  # "pipeline/stage" -> kind
    users: set[str] = field(default_factory=set)  # users known to exist so far
    technical: set[str] = field(default_factory=set)  # of those, technical ones
    session: Session | None = None
    account: str = ""
    # The lost stages that list loss reasons, by "pipeline/stage".
    reasons: dict[str, StageReasons] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, account: str) -> Directory:
        stages = session.execute(
            select(
                col(Stage.pipeline),
                col(Stage.id),
                col(Stage.kind),
                col(Stage.loss_reasons),
                col(Stage.require_loss_reason),
            ).where(col(Stage.account) == account)
        ).all()
        return cls(
            stages={f"{p}/{s}": kind for p, s, kind, _, _ in stages},
            session=session,
            account=account,
            reasons={
                f"{p}/{s}": StageReasons(
                    kind, tuple(json.loads(listed or "[]")), bool(required)
                )
                for p, s, kind, listed, required in stages
                if kind == "lost" and (listed not in ("", "[]") or required)
            },
        )

    def stage_reasons(self, key: str) -> StageReasons:
        return self.reasons.get(key) or StageReasons(self.stages.get(key, ""))

    def has_user(self, user_id: str) -> bool:
        if user_id in self.users:
            return True
        if self.session is None:
            return False
        found = self.session.execute(
            select(col(CrmUser.technical)).where(
                col(CrmUser.account) == self.account, col(CrmUser.id) == user_id
            )
        ).first()
        if found is not None:
            self.users.add(user_id)
            if found[0]:
                self.technical.add(user_id)
        return found is not None

    def is_technical(self, user_id: str) -> bool:
        return self.has_user(user_id) and user_id in self.technical


def stage_key(pipeline: str, stage: str) -> str:
    return f"{pipeline}/{stage}"
