"""Names of what a decision names by id (people, leads, groups), read in one
batch per request: a page of the journal asks the crm and the assigner once
each, whatever its length, and not at all when no name is asked for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from gateway.context import Context
from leadrouter.assigner.v1 import assigner_pb2
from leadrouter.crm.v1 import crm_pb2


@dataclass
class Names:
    ctx: Context
    account: str
    users: DataLoader[str, str | None] = field(init=False)
    leads: DataLoader[str, str | None] = field(init=False)
    groups: DataLoader[str, str | None] = field(init=False)

    def __post_init__(self) -> None:
        self.users = DataLoader(load_fn=self._users)
        self.leads = DataLoader(load_fn=self._leads)
        self.groups = DataLoader(load_fn=self._groups)

    async def _users(self, ids: Sequence[str]) -> list[str | None]:
        reply = await self.ctx.clients.crm.get_directory(
            crm_pb2.GetDirectoryRequest(account=self.account, user_ids=list(ids)),
        )
        found = {u.id: u.name or u.id for u in reply.users}
        return [found.get(i) for i in ids]

    async def _leads(self, ids: Sequence[str]) -> list[str | None]:
        reply = await self.ctx.clients.crm.get_leads(
            crm_pb2.GetLeadsRequest(account=self.account, ids=list(ids))
        )
        found = {x.id: x.name or x.id for x in reply.leads}
        return [found.get(i) for i in ids]

    async def _groups(self, ids: Sequence[str]) -> list[str | None]:
        reply = await self.ctx.clients.assigner.list_groups(
            assigner_pb2.ListGroupsRequest(account=self.account, ids=list(ids)),
        )
        found = {g.id: g.name or g.id for g in reply.groups}
        return [found.get(i) for i in ids]


def names(ctx: Context) -> Names:
    """The request's loader of names, made on first use."""
    caller = ctx.require()
    made = ctx.loaders.get("names")
    if not isinstance(made, Names) or made.account != caller.account:
        made = ctx.loaders["names"] = Names(ctx, caller.account)
    return made
