"""Eligibility from the crm's figures: who may press, and each limit's verdict.

Pure (no I/O, no clock, no store): the limits service answers GetEligibility
with it, and the assigner a press, from settings it holds and the figures
the crm measured, so a press asks the crm once and the limits not at all.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from leadrouter.crm.v1 import crm_pb2
from leadrouter.limits.v1 import limits_pb2
from leadrouter.timestamps import optional_ts, set_ts, to_ts
from services.limits.domain import (
    Activity,
    LimitSettings,
    calendar,
    eligible,
    evaluate,
    sales_window_start,
)


def standing(
    user: str, exchange_users: Collection[str], enabled: Mapping[str, bool]
) -> limits_pb2.Membership.ValueType:
    """The user's membership: `enabled` holds each member's switch."""
    if user in exchange_users:
        return limits_pb2.MEMBERSHIP_EXCHANGE_USER
    if user not in enabled:
        return limits_pb2.MEMBERSHIP_NOT_A_MEMBER
    if not enabled[user]:
        return limits_pb2.MEMBERSHIP_DISABLED
    return limits_pb2.MEMBERSHIP_ENABLED


def activity_request(
    account: str,
    group_id: str,
    stages: crm_pb2.StageSettings,
    members: Mapping[str, LimitSettings],
    now: datetime,
    tz: ZoneInfo,
) -> crm_pb2.GetActivityRequest:
    """What the crm must measure for `members` (enabled ones) at `now`."""
    cal = calendar(now, tz)
    request = crm_pb2.GetActivityRequest(
        account=account,
        group_id=group_id,
        user_ids=list(members),
        stages=stages,
        now=to_ts(now),
        today_start=to_ts(cal.today_start),
        month_start=to_ts(cal.month_start),
        prev_month_start=to_ts(cal.prev_month_start),
        week_start=to_ts(cal.week_start),
        prev_week_start=to_ts(cal.prev_week_start),
    )
    for user, settings in members.items():
        since = sales_window_start(settings, now)
        if since is not None:
            request.sales_since[user].CopyFrom(to_ts(since))
    return request


def activity_of(msg: crm_pb2.UserActivity) -> Activity:
    return Activity(
        last_claim_at=optional_ts(msg, "last_claim_at"),
        open_leads=msg.open_leads,
        new_today=msg.new_today,
        overdue_tasks=msg.overdue_tasks,
        oldest_overdue_deadline=optional_ts(msg, "oldest_overdue_deadline"),
        sales_in_window=msg.sales_in_window,
        lost_today=msg.lost_today,
        lost_month=msg.lost_month,
        sales_last_month=msg.sales_last_month,
        sales_this_month=msg.sales_this_month,
        key_stage_last_week=msg.key_stage_last_week,
        key_stage_this_week=msg.key_stage_this_week,
    )


def judge(
    row: limits_pb2.UserEligibility,
    settings: LimitSettings,
    measured: crm_pb2.UserActivity,
    now: datetime,
    tz: ZoneInfo,
) -> None:
    """Fills an enabled member's row with a verdict per limit that is on."""
    verdicts = evaluate(settings, activity_of(measured), now, tz)
    row.eligible = eligible(verdicts)
    for v in verdicts:
        vm = row.verdicts.add(limit=v.limit, threshold=v.threshold, passed=v.passed)
        if v.value is not None:
            vm.value = v.value
        if v.period_count is not None:
            vm.period_count = v.period_count
        set_ts(vm, "passes_at", v.passes_at)
