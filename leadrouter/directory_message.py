"""The account's directory (users, pipelines and their stages) as the crm
protocol's Directory message: one translation for the setup's side, which sends
a workspace's directory, and the crm's, which answers with the one it keeps."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from leadrouter.crm.v1 import crm_pb2
from leadrouter.stage_kinds import STAGE_KIND_CODES


class _User(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def technical(self) -> bool: ...
    @property
    def active(self) -> bool: ...


class _Stage(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def loss_reasons(self) -> Sequence[str]: ...
    @property
    def require_loss_reason(self) -> bool: ...


class _Pipeline(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def archived(self) -> bool: ...

    @property
    def stages(self) -> Sequence[_Stage]: ...


def directory_message(
    account: str,
    timezone: str,
    users: Iterable[_User],
    pipelines: Iterable[_Pipeline],
) -> crm_pb2.Directory:
    return crm_pb2.Directory(
        account=account,
        timezone=timezone,
        users=[
            crm_pb2.User(id=u.id, name=u.name, technical=u.technical, active=u.active)
            for u in users
        ],
        pipelines=[
            crm_pb2.Pipeline(
                id=p.id,
                name=p.name,
                archived=p.archived,
                stages=[
                    crm_pb2.Stage(
                        id=s.id,
                        name=s.name,
                        kind=STAGE_KIND_CODES[s.kind],
                        loss_reasons=s.loss_reasons,
                        require_loss_reason=s.require_loss_reason,
                    )
                    for s in p.stages
                ],
            )
            for p in pipelines
        ],
    )
