"""The ten limits' bounds and the recommended set: one table for every reader.

The workspace file's models, the limits service, the GraphQL API (query
`limitRules`) and through it the limits editor of the widget all check a
value against this table, so a value the editor lets through is one the
server takes, and the bounds a person reads next to a field are the ones
that hold. docs/limits.md shows the same table.
"""

from __future__ import annotations

from dataclasses import dataclass

from leadrouter.i18n import _


@dataclass(frozen=True)
class LimitRule:
    """One limit: its name (code), what it counts, its bounds and its advice."""

    name: str
    unit: str  # what a value counts: minutes, leads, tasks, days
    low: int
    high: int
    # The product's recommended value for a new group's defaults; None = off.
    recommended: int | None = None


# Spec order (domain.md section 4). The recommended set (seed 000: "По-умолчанию
# лимиты настроены") is the part that holds back a manager who takes more
# than they work and never blocks a newcomer with no history: the limits on
# sales, losses and key-stage moves judge results and are left to the head of
# sales to set for their own figures.
RULES: tuple[LimitRule, ...] = (
    LimitRule("interval_minutes", "minutes", 0, 10_080, 5),
    LimitRule("max_active", "leads", 0, 100_000, 50),
    LimitRule("max_new_today", "leads", 0, 10_000, 20),
    LimitRule("max_overdue_tasks", "tasks", 0, 100_000, 3),
    LimitRule("max_overdue_days", "days", 0, 3_650, 5),
    LimitRule("days_without_sales", "days", 0, 3_650),
    LimitRule("max_lost_today", "leads", 0, 10_000),
    LimitRule("max_lost_month", "leads", 0, 100_000),
    LimitRule("min_sales_last_month", "leads", 0, 10_000),
    LimitRule("min_key_stage_last_week", "leads", 0, 10_000),
)

BY_NAME: dict[str, LimitRule] = {r.name: r for r in RULES}
LIMIT_NAMES: tuple[str, ...] = tuple(BY_NAME)

# The defaults a group made by the product starts with.
RECOMMENDED: dict[str, int] = {
    r.name: r.recommended for r in RULES if r.recommended is not None
}


def out_of_range(name: str, value: int) -> bool:
    rule = BY_NAME[name]
    return not rule.low <= value <= rule.high


def effective_limits(defaults: dict[str, int], own: dict[str, int]) -> dict[str, int]:
    """A member's limits in force: their own values over the group's defaults.

    A limit is off for a member when neither sets it.
    """
    return {**defaults, **own}


def range_message(name: str) -> str:
    """What a person reads next to a value out of the limit's bounds."""
    rule = BY_NAME[name]
    return _("must be a whole number from {low} to {high}").format(
        low=rule.low, high=rule.high
    )


def conflicts(values: dict[str, int]) -> list[dict[str, str]]:
    """Each pair of limits in force that contradict each other, as what to
    say next to either of the two (the first is where a file's is reported).

    A day's cap of lost leads above the month's never decides anything: the
    day's losses count in the month's too, so the month's cap blocks first.
    """
    out: list[dict[str, str]] = []
    today, month = values.get("max_lost_today"), values.get("max_lost_month")
    if today is not None and month is not None and today > month:
        out.append(
            {
                "max_lost_today": _(
                    "must not be more than the month's cap of lost leads "
                    "({month}): today's losses count in the month's too"
                ).format(month=month),
                "max_lost_month": _(
                    "must not be less than the day's cap of lost leads "
                    "({today}): today's losses count in the month's too"
                ).format(today=today),
            }
        )
    return out


def row_conflicts(
    own: dict[str, int], defaults: dict[str, int], before: dict[str, int] | None
) -> list[tuple[str, str]]:
    """(limit, why) for each pair in force in a row that contradict each other.

    It is reported at a value the row sets itself, the one that changed since
    `before` when there is one; a pair that only the defaults set is the
    defaults' problem, reported in their row.
    """
    out = []
    for pair in conflicts(effective_limits(defaults, own)):
        mine = [name for name in pair if name in own]
        changed = [n for n in mine if before is not None and before.get(n) != own[n]]
        name = next(iter(changed or mine), None)
        if name is not None:
            out.append((name, pair[name]))
    return out
