"""Who is calling."""

from __future__ import annotations

import strawberry

from gateway.context import Info
from gateway.schema.types import Role
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import NotFound


@strawberry.type
class User:
    id: strawberry.ID
    name: str


@strawberry.type
class Account:
    id: strawberry.ID
    timezone: str


@strawberry.type
class Viewer:
    user: User
    account: Account
    role: Role


@strawberry.type
class ViewerQueries:
    @strawberry.field(description="The caller: user, account, role.")
    async def viewer(self, info: Info) -> Viewer:
        ctx = info.context
        caller = ctx.require()
        name, timezone = caller.user_id, "UTC"
        try:
            d = await ctx.clients.crm.get_directory(
                crm_pb2.GetDirectoryRequest(account=caller.account)
            )
            timezone = d.timezone
            name = next((u.name for u in d.users if u.id == caller.user_id), name)
        except NotFound:
            pass
        return Viewer(
            user=User(id=strawberry.ID(caller.user_id), name=name),
            account=Account(id=strawberry.ID(caller.account), timezone=timezone),
            role=Role(caller.role),
        )
