"""Who sees what: the one visibility rule of every read path (contract.md, section 2).

A manager sees their own leads, decisions (as actor or assignee), refusals,
journal entries, eligibility, presence and schedule, and the pools of the
groups they belong to; nobody else's. Admins, viewers and partners see the
whole account (what each role may call at all is the `Roles` permission of
each field). Every query, single item, subscription, report and CSV export
asks this object, so the rule is written once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from leadrouter import messages
from leadrouter.auth import Caller
from leadrouter.clients import Clients
from leadrouter.errors import Forbidden
from leadrouter.limits.v1 import limits_pb2

MANAGER = "manager"


class Roles(BasePermission):
    """The field answers only callers in these roles (any role when none given).

    The caller's own error is raised (UNAUTHENTICATED without a valid token,
    FORBIDDEN for another role), so the answer names what to do.
    """

    def __init__(self, *roles: str) -> None:
        self.roles = roles

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        info.context.require(*self.roles)
        return True


def allowed(*roles: str) -> list[FieldExtension]:
    """The field extensions of a field only these roles may call."""
    return [PermissionExtension(permissions=[Roles(*roles)], use_directives=False)]


@dataclass
class Visibility:
    """The visibility rule for one caller, for one request."""

    caller: Caller
    clients: Clients
    _groups: set[str] | None = field(default=None, repr=False)

    @property
    def sees_account(self) -> bool:
        return self.caller.role != MANAGER

    def user(self, asked: str, what: str) -> str:
        """Whose `what` to read: the one asked ("" = everyone), or for a manager
        themselves; a manager asking for a colleague is refused."""
        if self.sees_account:
            return asked
        if asked and asked != self.caller.user_id:
            raise Forbidden(messages.only_own(what))
        return self.caller.user_id

    def users(self, asked: Sequence[str], what: str) -> list[str]:
        """Like `user`, for a list of users (empty = everyone)."""
        if self.sees_account:
            return list(asked)
        if any(u != self.caller.user_id for u in asked):
            raise Forbidden(messages.only_own(what))
        return [self.caller.user_id]

    def sees_user(self, user_id: str) -> bool:
        """Whether a fact about this user (presence, duty) is shown."""
        return self.sees_account or user_id == self.caller.user_id

    def sees_decision(self, actor: str, assignee: str) -> bool:
        """A manager's decisions are those they made or that gave them a lead."""
        return self.sees_account or self.caller.user_id in (actor, assignee)

    async def member_groups(self) -> set[str]:
        """The groups the caller is a member of (asked once per request)."""
        if self._groups is None:
            reply = await self.clients.limits.get_group_limits(
                limits_pb2.GetGroupLimitsRequest(account=self.caller.account),
            )
            self._groups = {
                g.group_id
                for g in reply.groups
                if any(m.user_id == self.caller.user_id for m in g.members)
            }
        return self._groups

    async def require_pool(self, group_id: str) -> None:
        """A group's pool is shown to its members, and to those who see the account."""
        if not self.sees_account and group_id not in await self.member_groups():
            raise Forbidden(messages.not_a_member(group_id))
