"""Every code of a distribution decision, one spelling each.

The journal stores them, the API returns them and what-if counts them; the
enums are strings, so a stored code and a member compare equal.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why a press was refused, or a pushed lead waited or stayed where it was."""

    LIMIT = "limit"  # a limit failed; the reason carries its verdict
    POOL_EMPTY = "pool_empty"
    NOT_A_MEMBER = "not_a_member"  # also an exchange user of the group
    DISABLED = "disabled"
    OFF_DUTY = "off_duty"
    NO_TEMPLATE = "no_template"  # no template takes the lead at this moment
    NOBODY_ON_DUTY = "nobody_on_duty"  # the template's participants are all off
    NOBODY_ELSE_ON_DUTY = "nobody_else_on_duty"  # SLA: only the holder is on
    TAKEN_MEANWHILE = "taken_meanwhile"  # the CRM refused: someone else had it


class Trigger(StrEnum):
    """What made push look at a lead."""

    ARRIVAL = "arrival"
    ON_DEMAND = "on_demand"  # distributeLead
    QUEUE = "queue"  # a waiting lead, tried again
    SLA = "sla"
    HANDOVER = "handover"
    RECOVERY = "recovery"  # an attempt a crashed process left half done


class Outcome(StrEnum):
    CLAIMED = "claimed"
    REFUSED = "refused"
    ASSIGNED = "assigned"
    HELD = "held"
    KEPT = "kept"  # SLA found nobody else: it stays, the timer restarts
    REOPENED = "reopened"  # an admin returned a closed lead to an open stage


class Standing(StrEnum):
    """Where a template's participant stood in one push, as the journal shows."""

    WON = "won"
    LOST = "lost"
    OFF_DUTY = "off_duty"
    LIMIT = "limit"
    SKIPPED = "skipped"  # a reassigned lead skips who already had it
    AT_SHARE = "at_share"
    NOT_ITS_TURN = "not_its_turn"
    LISTED_LATER = "listed_later"
    ASSIGNED_MORE_RECENTLY = "assigned_more_recently"
    NOT_DRAWN = "not_drawn"
    MORE_OPEN_LEADS = "more_open_leads"
    NOT_LINKED = "not_linked"


class Membership(StrEnum):
    """A user's standing in a distribution group (limits.v1.Membership)."""

    ENABLED = "enabled"
    DISABLED = "disabled"
    NOT_A_MEMBER = "not_a_member"
    EXCHANGE_USER = "exchange_user"


# A press by someone who is not an enabled member is refused for who they are,
# before any limit is looked at.
MEMBERSHIP_REFUSALS = {
    Membership.NOT_A_MEMBER: Reason.NOT_A_MEMBER,
    Membership.EXCHANGE_USER: Reason.NOT_A_MEMBER,
    Membership.DISABLED: Reason.DISABLED,
}
