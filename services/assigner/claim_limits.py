"""A press's limits, judged in the assigner from settings it holds.

A press must cost the crm one call for the figures, not a call to the limits
service that calls the crm in turn. So the assigner keeps each group's limit
settings as the limits service gave them (GetGroupLimits), and judges a press
with the limits' own pure rules (services/limits/figures.py) over the
figures the crm measures for it.

Settings held are checked, not trusted: the limits service stamps every
applied change and tells the crm the stamp before the change is made; the
crm's figures come with the latest stamp, and figures measured under settings
with another stamp are measured again under the current ones. So once an
apply of limits has returned, no press is judged by what it replaced, on any
replica, with no call to the limits service on a press.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from leadrouter import messages
from leadrouter.clients import Clients
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import NotFound
from leadrouter.limits.v1 import limits_pb2
from services.limits.domain import LimitSettings, member_settings
from services.limits.figures import activity_request, judge, standing


@dataclass(frozen=True)
class GroupSettings:
    """One group's limit settings as the limits service gave them."""

    stamp: str
    timezone: str
    stages: crm_pb2.StageSettings
    exchange_users: frozenset[str]
    switches: dict[str, bool] = field(default_factory=dict)  # member -> enabled
    limits: dict[str, LimitSettings] = field(default_factory=dict)

    @classmethod
    def of(
        cls, group: limits_pb2.GroupLimits, timezone: str, stamp: str
    ) -> GroupSettings:
        return cls(
            stamp=stamp,
            timezone=timezone,
            stages=group.stages,
            exchange_users=frozenset(group.exchange_users),
            switches={m.user_id: m.enabled for m in group.members},
            limits={
                m.user_id: member_settings(group.default_limits, m.limits)
                for m in group.members
            },
        )

    def measured_alike(self, other: GroupSettings, user: str) -> bool:
        """Whether figures measured for `user` under `other` hold under these."""
        return (
            self.timezone == other.timezone
            and self.stages == other.stages
            and self.standing(user) == other.standing(user)
            and self.limits.get(user) == other.limits.get(user)
        )

    def standing(self, user: str) -> limits_pb2.Membership.ValueType:
        return standing(user, self.exchange_users, self.switches)


class HeldLimits:
    """Group settings per (account, group), loaded once, checked at every press."""

    def __init__(self, clients: Clients) -> None:
        self.clients = clients
        self._held: dict[tuple[str, str], GroupSettings] = {}

    async def load(self, account: str, group_id: str) -> GroupSettings:
        reply = await self.clients.limits.get_group_limits(
            limits_pb2.GetGroupLimitsRequest(account=account, group_ids=[group_id]),
        )
        if not reply.groups:
            raise NotFound(messages.not_found("group", group_id))
        held = GroupSettings.of(reply.groups[0], reply.timezone or "UTC", reply.stamp)
        self._held[(account, group_id)] = held
        return held

    async def judge(
        self, account: str, group_id: str, user: str, now: datetime
    ) -> limits_pb2.UserEligibility:
        """The press's membership and verdicts, as GetEligibility would give them."""
        held = self._held.get((account, group_id)) or await self.load(account, group_id)
        measured = await self._measure(account, group_id, held, user, now)
        if measured.limits_stamp != held.stamp:
            current = await self.load(account, group_id)
            if not current.measured_alike(held, user):
                measured = await self._measure(account, group_id, current, user, now)
            held = current
        row = limits_pb2.UserEligibility(user_id=user, membership=held.standing(user))
        if row.membership == limits_pb2.MEMBERSHIP_ENABLED:
            judge(
                row, held.limits[user], measured.users[0], now, ZoneInfo(held.timezone)
            )
        return row

    async def _measure(
        self, account: str, group_id: str, held: GroupSettings, user: str, now: datetime
    ) -> crm_pb2.GetActivityResponse:
        # Someone who may not press is measured for nothing, but the stamp
        # still comes back: being a member is a setting like any other.
        members = (
            {user: held.limits[user]}
            if held.standing(user) == limits_pb2.MEMBERSHIP_ENABLED
            else {}
        )
        request = activity_request(
            account, group_id, held.stages, members, now, ZoneInfo(held.timezone)
        )
        reply: crm_pb2.GetActivityResponse = await self.clients.crm.get_activity(
            request
        )
        return reply
