"""Per-request context of the GraphQL gateway: the caller and the service clients."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strawberry.types import Info as _Info

from gateway.visibility import Visibility
from leadrouter import sign_in_messages
from leadrouter.auth import Caller
from leadrouter.clients import Clients
from leadrouter.clock import Clock
from leadrouter.config import Settings
from leadrouter.errors import Forbidden, Unauthenticated
from leadrouter.ratelimit import RateLimits


@dataclass
class Context:
    settings: Settings
    clients: Clients
    clock: Clock
    caller: Caller | None = None
    auth_error: str = ""
    request: Any = None
    response: Any = None
    loaders: dict[str, Any] = field(default_factory=dict)
    # The graphql-transport-ws connection_init payload, on WebSocket connections.
    connection_params: dict[str, Any] | None = None
    # The gateway's per-caller limits, shared by every request it serves.
    rate_limits: RateLimits | None = None

    def require(self, *roles: str) -> Caller:
        """The caller, if authenticated and in one of the roles."""
        if self.caller is None:
            raise Unauthenticated(self.auth_error or sign_in_messages.sign_in())
        if roles and self.caller.role not in roles:
            raise Forbidden(
                sign_in_messages.role_may_not(self.caller.role, list(roles))
            )
        return self.caller

    def visibility(self, *roles: str) -> Visibility:
        """The visibility rule for the caller, who must be in one of the roles."""
        caller = self.require(*roles)
        seen = self.loaders.get("visibility")
        if not isinstance(seen, Visibility) or seen.caller != caller:
            seen = self.loaders["visibility"] = Visibility(caller, self.clients)
        return seen

    def require_self_or_admin(self, user_id: str, *roles: str) -> Caller:
        """Admins act on anyone; other allowed roles only on themselves."""
        caller = self.require(*roles)
        if not caller.is_admin and user_id != caller.user_id:
            raise Forbidden(sign_in_messages.only_for_themselves(caller.role))
        return caller


Info = _Info[Context, None]
