"""The one visibility rule: a manager sees their own, admins and viewers the account."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import pytest

from gateway.visibility import Visibility
from leadrouter.auth import Caller
from leadrouter.clients import Clients
from leadrouter.errors import Forbidden
from leadrouter.limits.v1 import limits_pb2


@dataclass
class FakeLimits:
    """The limits service's group list, counting how often it is asked."""

    groups: dict[str, list[str]]
    asked: list[str] = field(default_factory=list)

    async def get_group_limits(
        self, request: limits_pb2.GetGroupLimitsRequest
    ) -> limits_pb2.GetGroupLimitsResponse:
        self.asked.append(request.account)
        reply = limits_pb2.GetGroupLimitsResponse()
        for group_id, members in self.groups.items():
            group = reply.groups.add(group_id=group_id)
            for user in members:
                group.members.add(user_id=user)
        return reply


@dataclass
class FakeClients:
    limits: FakeLimits


def _seen_by(role: str, groups: dict[str, list[str]] | None = None) -> Visibility:
    clients = FakeClients(FakeLimits(groups or {}))
    caller = Caller(account="acme", user_id="ursula", role=role)
    return Visibility(caller, cast(Clients, clients))


def _asked(v: Visibility) -> list[str]:
    return cast(Any, v.clients).limits.asked


def test_a_manager_reading_everyone_reads_only_themselves() -> None:
    v = _seen_by("manager")
    assert v.user("", "leads") == "ursula"
    assert v.users([], "leads") == ["ursula"]


def test_a_manager_asking_for_a_colleague_is_refused_in_words() -> None:
    v = _seen_by("manager")
    with pytest.raises(Forbidden) as refused:
        v.user("victor", "leads")
    assert str(refused.value) == "a manager sees only their own leads"
    with pytest.raises(Forbidden, match="their own decisions"):
        v.users(["ursula", "victor"], "decisions")


@pytest.mark.parametrize("role", ["admin", "viewer", "partner"])
def test_admins_viewers_and_partners_see_the_whole_account(role: str) -> None:
    v = _seen_by(role)
    assert v.sees_account
    assert v.user("victor", "leads") == "victor"
    assert v.user("", "leads") == ""
    assert v.users(["victor", "wendy"], "leads") == ["victor", "wendy"]
    assert v.sees_user("victor")
    assert v.sees_decision(actor="victor", assignee="wendy")


def test_a_manager_sees_decisions_they_made_or_that_gave_them_a_lead() -> None:
    v = _seen_by("manager")
    assert v.sees_decision(actor="ursula", assignee="victor")
    assert v.sees_decision(actor="system", assignee="ursula")
    assert not v.sees_decision(actor="victor", assignee="wendy")
    assert v.sees_user("ursula") and not v.sees_user("victor")


async def test_a_manager_sees_the_pools_of_their_groups_only() -> None:
    v = _seen_by("manager", {"main": ["ursula", "victor"], "vip": ["wendy"]})
    await v.require_pool("main")
    with pytest.raises(Forbidden) as refused:
        await v.require_pool("vip")
    assert str(refused.value) == (
        "you are not a member of group 'vip', so its pool is not yours to see"
    )
    assert _asked(v) == ["acme"]  # the groups are asked once per request


async def test_an_admin_sees_every_pool_without_asking_for_groups() -> None:
    v = _seen_by("admin", {"vip": ["wendy"]})
    await v.require_pool("vip")
    assert _asked(v) == []
