"""The ten pull limits: exact comparisons, passes_at and the spec's worked examples."""

from dataclasses import fields
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadrouter import limit_rules as rules
from services.limits.domain import (
    LIMIT_NAMES,
    Activity,
    LimitSettings,
    Verdict,
    eligible,
    evaluate,
    sales_window_start,
    validate_limit_value,
)

TOMSK = ZoneInfo("Asia/Tomsk")  # UTC+7, no DST
BERLIN = ZoneInfo("Europe/Berlin")
# Wednesday 20 May 2026, 17:00 in Tomsk.
NOW = datetime(2026, 5, 20, 10, 0, tzinfo=UTC)
TOMSK_MIDNIGHT_21_MAY = datetime(2026, 5, 20, 17, 0, tzinfo=UTC)
TOMSK_1_JUNE = datetime(2026, 5, 31, 17, 0, tzinfo=UTC)
TOMSK_MONDAY_25_MAY = datetime(2026, 5, 24, 17, 0, tzinfo=UTC)


def only_verdict(
    settings: LimitSettings, activity: Activity, now: datetime = NOW
) -> Verdict:
    [verdict] = evaluate(settings, activity, now, TOMSK)
    return verdict


# ---- the registry ---------------------------------------------------------


def test_limit_names_follow_the_spec_order() -> None:
    assert LIMIT_NAMES == (
        "interval_minutes",
        "max_active",
        "max_new_today",
        "max_overdue_tasks",
        "max_overdue_days",
        "days_without_sales",
        "max_lost_today",
        "max_lost_month",
        "min_sales_last_month",
        "min_key_stage_last_week",
    )
    # One table of bounds for the file, the service, the API and the editor.
    assert tuple(rules.BY_NAME) == LIMIT_NAMES


def test_a_value_above_a_limits_bound_is_refused_with_the_bound() -> None:
    assert validate_limit_value("interval_minutes", 10_080) is None
    assert validate_limit_value("interval_minutes", 10_081) == "must be <= 10080"


def test_every_limit_name_has_a_setting() -> None:
    assert tuple(field.name for field in fields(LimitSettings)) == LIMIT_NAMES


def test_every_limit_can_be_evaluated() -> None:
    settings = LimitSettings(**dict.fromkeys(LIMIT_NAMES, 1))

    verdicts = evaluate(settings, Activity(), NOW, TOMSK)

    assert [verdict.limit for verdict in verdicts] == list(LIMIT_NAMES)
    assert all(verdict.threshold == 1 for verdict in verdicts)


def test_enabled_lists_limits_set_to_zero_and_skips_empty_ones() -> None:
    settings = LimitSettings(max_lost_month=0, interval_minutes=15)

    assert settings.enabled() == [("interval_minutes", 15), ("max_lost_month", 0)]


def test_no_enabled_limit_gives_no_verdict_and_the_user_may_claim() -> None:
    verdicts = evaluate(LimitSettings(), Activity(open_leads=1000), NOW, TOMSK)

    assert verdicts == []
    assert eligible(verdicts)


def test_one_failing_limit_makes_the_user_ineligible() -> None:
    settings = LimitSettings(max_active=50, max_overdue_tasks=3)
    verdicts = evaluate(settings, Activity(open_leads=10, overdue_tasks=4), NOW, TOMSK)

    assert [verdict.passed for verdict in verdicts] == [True, False]
    assert not eligible(verdicts)


@pytest.mark.parametrize("field", ["max_active", "min_sales_last_month"])
def test_settings_refuse_a_negative_threshold(field: str) -> None:
    with pytest.raises(ValueError, match=f"{field} must be >= 0"):
        LimitSettings(**{field: -1})


# ---- 1. interval_minutes --------------------------------------------------


@pytest.mark.parametrize(
    ("since_claim", "shown", "passed"),
    [
        (timedelta(minutes=10, seconds=-1), 9, False),
        (timedelta(minutes=10), 10, True),
        (timedelta(minutes=11), 11, True),
    ],
)
def test_interval_blocks_until_n_whole_minutes_have_passed(
    since_claim: timedelta, shown: int, passed: bool
) -> None:
    last_claim = NOW - since_claim

    verdict = only_verdict(
        LimitSettings(interval_minutes=10), Activity(last_claim_at=last_claim)
    )

    assert (verdict.value, verdict.passed) == (shown, passed)
    expected_passes_at = None if passed else last_claim + timedelta(minutes=10)
    assert verdict.passes_at == expected_passes_at


def test_interval_passes_when_the_user_never_claimed() -> None:
    verdict = only_verdict(LimitSettings(interval_minutes=10), Activity())

    assert verdict == Verdict("interval_minutes", None, 10, True, None)


@given(
    minutes=st.integers(min_value=1, max_value=24 * 60),
    ago=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=2)),
)
def test_interval_passes_exactly_at_passes_at_and_not_before(
    minutes: int, ago: timedelta
) -> None:
    settings = LimitSettings(interval_minutes=minutes)
    activity = Activity(last_claim_at=NOW - ago)
    verdict = only_verdict(settings, activity)

    if verdict.passes_at is None:
        assert verdict.passed
    else:
        assert only_verdict(settings, activity, verdict.passes_at).passed
        just_before = verdict.passes_at - timedelta(microseconds=1)
        assert not only_verdict(settings, activity, just_before).passed


# ---- 2. max_active --------------------------------------------------------


@pytest.mark.parametrize(
    ("open_leads", "passed"), [(49, True), (50, False), (51, False)]
)
def test_max_active_blocks_at_the_threshold(open_leads: int, passed: bool) -> None:
    verdict = only_verdict(
        LimitSettings(max_active=50), Activity(open_leads=open_leads)
    )

    assert verdict == Verdict("max_active", open_leads, 50, passed, None)


def test_spec_example_max_active_50_refuses_50_open_leads_and_accepts_49() -> None:
    settings = LimitSettings(max_active=50)

    refused = only_verdict(settings, Activity(open_leads=50))
    accepted = only_verdict(settings, Activity(open_leads=49))

    assert not refused.passed
    assert refused.passes_at is None  # only closing leads unblocks
    assert accepted.passed


# ---- 3. max_new_today -----------------------------------------------------


@pytest.mark.parametrize(("new_today", "passed"), [(4, True), (5, False), (6, False)])
def test_max_new_today_blocks_at_the_threshold_until_local_midnight(
    new_today: int, passed: bool
) -> None:
    verdict = only_verdict(
        LimitSettings(max_new_today=5), Activity(new_today=new_today)
    )

    assert (verdict.value, verdict.passed) == (new_today, passed)
    assert verdict.passes_at == (None if passed else TOMSK_MIDNIGHT_21_MAY)


def test_max_new_today_passes_at_berlin_midnight_on_the_23_hour_day() -> None:
    now = datetime(2026, 3, 29, 12, tzinfo=UTC)

    [verdict] = evaluate(
        LimitSettings(max_new_today=1), Activity(new_today=1), now, BERLIN
    )

    assert verdict.passes_at == datetime(2026, 3, 29, 22, tzinfo=UTC)  # 00:00 CEST


def test_max_new_today_zero_has_no_midnight_that_unblocks() -> None:
    # 0 new leads on a fresh day is still >= 0, so no instant makes it pass.
    verdict = only_verdict(LimitSettings(max_new_today=0), Activity(new_today=0))

    assert not verdict.passed
    assert verdict.passes_at is None


# ---- 4. max_overdue_tasks -------------------------------------------------


@pytest.mark.parametrize(("overdue", "passed"), [(2, True), (3, True), (4, False)])
def test_max_overdue_tasks_blocks_only_above_the_threshold(
    overdue: int, passed: bool
) -> None:
    verdict = only_verdict(
        LimitSettings(max_overdue_tasks=3), Activity(overdue_tasks=overdue)
    )

    assert verdict == Verdict("max_overdue_tasks", overdue, 3, passed, None)


# ---- 5. max_overdue_days --------------------------------------------------


@pytest.mark.parametrize(
    ("overdue_for", "shown", "passed"),
    [
        (timedelta(days=4, hours=23), 4, True),
        (timedelta(days=5), 5, True),
        (timedelta(days=5, microseconds=1), 5, False),
        (timedelta(days=6), 6, False),
    ],
)
def test_max_overdue_days_blocks_when_a_deadline_is_more_than_n_days_old(
    overdue_for: timedelta, shown: int, passed: bool
) -> None:
    activity = Activity(overdue_tasks=1, oldest_overdue_deadline=NOW - overdue_for)

    verdict = only_verdict(LimitSettings(max_overdue_days=5), activity)

    assert verdict == Verdict("max_overdue_days", shown, 5, passed, None)


def test_max_overdue_days_passes_with_no_overdue_task() -> None:
    verdict = only_verdict(LimitSettings(max_overdue_days=0), Activity())

    assert verdict == Verdict("max_overdue_days", 0, 0, True, None)


def test_spec_example_max_overdue_days_blocked_until_the_old_task_is_completed() -> (
    None
):
    settings = LimitSettings(max_overdue_days=5)
    yesterday = NOW - timedelta(days=1)
    seven_days_ago = NOW - timedelta(days=7)
    with_old_task = Activity(overdue_tasks=3, oldest_overdue_deadline=seven_days_ago)
    # The crm recomputes the activity once the 7-day-old task is completed.
    after_completion = Activity(overdue_tasks=2, oldest_overdue_deadline=yesterday)

    blocked = only_verdict(settings, with_old_task)
    unblocked = only_verdict(settings, after_completion)

    assert blocked == Verdict("max_overdue_days", 7, 5, False, None)
    assert unblocked == Verdict("max_overdue_days", 1, 5, True, None)


# ---- 6. days_without_sales ------------------------------------------------


@pytest.mark.parametrize(("sales", "passed"), [(0, False), (1, True), (2, True)])
def test_days_without_sales_blocks_only_with_no_sale_in_the_window(
    sales: int, passed: bool
) -> None:
    verdict = only_verdict(
        LimitSettings(days_without_sales=7), Activity(sales_in_window=sales)
    )

    assert verdict == Verdict("days_without_sales", sales, 7, passed, None)


def test_sales_window_starts_n_days_before_now() -> None:
    settings = LimitSettings(days_without_sales=7)

    assert sales_window_start(settings, NOW) == datetime(2026, 5, 13, 10, tzinfo=UTC)


def test_sales_window_is_not_asked_for_when_the_limit_is_off() -> None:
    assert sales_window_start(LimitSettings(max_active=5), NOW) is None


# ---- 7. max_lost_today ----------------------------------------------------


@pytest.mark.parametrize(("lost", "passed"), [(1, True), (2, True), (3, False)])
def test_max_lost_today_blocks_above_the_threshold_until_local_midnight(
    lost: int, passed: bool
) -> None:
    verdict = only_verdict(LimitSettings(max_lost_today=2), Activity(lost_today=lost))

    assert (verdict.value, verdict.passed) == (lost, passed)
    assert verdict.passes_at == (None if passed else TOMSK_MIDNIGHT_21_MAY)


# ---- 8. max_lost_month ----------------------------------------------------


@pytest.mark.parametrize(("lost", "passed"), [(9, True), (10, True), (11, False)])
def test_max_lost_month_blocks_above_the_threshold_until_next_month(
    lost: int, passed: bool
) -> None:
    verdict = only_verdict(LimitSettings(max_lost_month=10), Activity(lost_month=lost))

    assert (verdict.value, verdict.passed) == (lost, passed)
    assert verdict.passes_at == (None if passed else TOMSK_1_JUNE)


def test_spec_example_max_lost_month_on_20_may_blocked_until_1_june() -> None:
    settings = LimitSettings(max_lost_month=10)

    twelve_lost = only_verdict(settings, Activity(lost_month=12))
    two_reopened = only_verdict(settings, Activity(lost_month=10))

    assert twelve_lost == Verdict("max_lost_month", 12, 10, False, TOMSK_1_JUNE)
    assert two_reopened.passed


# ---- 9. min_sales_last_month ----------------------------------------------


@pytest.mark.parametrize(("sales", "passed"), [(1, False), (2, True), (3, True)])
def test_min_sales_last_month_blocks_below_the_threshold(
    sales: int, passed: bool
) -> None:
    verdict = only_verdict(
        LimitSettings(min_sales_last_month=2), Activity(sales_last_month=sales)
    )

    assert (verdict.value, verdict.passed) == (sales, passed)


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 4, 30, 17, tzinfo=UTC),  # 1 May 00:00 Tomsk
        NOW,
        datetime(2026, 5, 31, 16, 59, tzinfo=UTC),  # 31 May 23:59 Tomsk
    ],
    ids=["first instant of May", "20 May", "last minute of May"],
)
@pytest.mark.parametrize(
    ("sales_in_may", "passes_at"),
    [(0, None), (1, None), (2, TOMSK_1_JUNE), (3, TOMSK_1_JUNE)],
)
def test_spec_example_one_sale_in_april_blocks_all_of_may(
    now: datetime, sales_in_may: int, passes_at: datetime | None
) -> None:
    activity = Activity(sales_last_month=1, sales_this_month=sales_in_may)

    verdict = only_verdict(LimitSettings(min_sales_last_month=2), activity, now)

    assert verdict == Verdict(
        "min_sales_last_month", 1, 2, False, passes_at, period_count=sales_in_may
    )


def test_spec_example_on_1_june_min_sales_is_judged_on_mays_figures() -> None:
    # The crm now reports May as last month and June (nothing yet) as current.
    activity = Activity(sales_last_month=2, sales_this_month=0)

    verdict = only_verdict(
        LimitSettings(min_sales_last_month=2), activity, TOMSK_1_JUNE
    )

    assert verdict == Verdict("min_sales_last_month", 2, 2, True, None, period_count=0)


# ---- 10. min_key_stage_last_week ------------------------------------------


@pytest.mark.parametrize(("moved", "passed"), [(4, False), (5, True), (6, True)])
def test_min_key_stage_last_week_blocks_below_the_threshold(
    moved: int, passed: bool
) -> None:
    verdict = only_verdict(
        LimitSettings(min_key_stage_last_week=5), Activity(key_stage_last_week=moved)
    )

    assert (verdict.value, verdict.passed) == (moved, passed)


@pytest.mark.parametrize(
    ("this_week", "passes_at"),
    [(1, None), (4, None), (5, TOMSK_MONDAY_25_MAY), (6, TOMSK_MONDAY_25_MAY)],
)
def test_spec_example_four_key_stage_moves_last_week_block_on_monday(
    this_week: int, passes_at: datetime | None
) -> None:
    monday_morning = datetime(2026, 5, 18, 3, tzinfo=UTC)  # Mon 18 May 10:00 Tomsk
    activity = Activity(key_stage_last_week=4, key_stage_this_week=this_week)

    verdict = only_verdict(
        LimitSettings(min_key_stage_last_week=5), activity, monday_morning
    )

    assert verdict == Verdict(
        "min_key_stage_last_week", 4, 5, False, passes_at, period_count=this_week
    )


# ---- all limits -----------------------------------------------------------

thresholds = st.one_of(st.none(), st.integers(min_value=0, max_value=60))
counts = st.integers(min_value=0, max_value=60)
moments_before_now = st.one_of(
    st.none(),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60)).map(
        lambda ago: NOW - ago
    ),
)


@given(
    settings=st.builds(LimitSettings, **dict.fromkeys(LIMIT_NAMES, thresholds)),
    activity=st.builds(
        Activity,
        last_claim_at=moments_before_now,
        open_leads=counts,
        new_today=counts,
        overdue_tasks=counts,
        oldest_overdue_deadline=moments_before_now,
        sales_in_window=counts,
        lost_today=counts,
        lost_month=counts,
        sales_last_month=counts,
        sales_this_month=counts,
        key_stage_last_week=counts,
        key_stage_this_week=counts,
    ),
)
def test_passes_at_is_a_future_instant_given_only_to_failing_limits(
    settings: LimitSettings, activity: Activity
) -> None:
    verdicts = evaluate(settings, activity, NOW, TOMSK)

    assert [verdict.limit for verdict in verdicts] == [
        name for name, _ in settings.enabled()
    ]
    for verdict in verdicts:
        if verdict.passes_at is not None:
            assert not verdict.passed
            assert verdict.passes_at > NOW
        has_period = verdict.limit.startswith("min_")
        assert (verdict.period_count is not None) == has_period
    assert eligible(verdicts) == all(verdict.passed for verdict in verdicts)


def test_a_passing_calendar_limit_has_no_passes_at() -> None:
    settings = LimitSettings(max_lost_today=5, min_sales_last_month=1)
    activity = Activity(lost_today=0, sales_last_month=3, sales_this_month=3)

    verdicts = evaluate(settings, activity, NOW, TOMSK)

    assert [verdict.passes_at for verdict in verdicts] == [None, None]


# ---- validation -----------------------------------------------------------


@pytest.mark.parametrize("name", LIMIT_NAMES)
@pytest.mark.parametrize("value", [0, 1, 1000, None])
def test_whole_numbers_from_zero_and_empty_are_valid_for_every_limit(
    name: str, value: int | None
) -> None:
    assert validate_limit_value(name, value) is None


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("max_active", -1, "must be >= 0"),
        ("days_without_sales", -3, "must be >= 0"),
        ("interval_minutes", 2.5, "must be a whole number"),
        ("interval_minutes", 5.0, "must be a whole number"),
        ("max_overdue_days", "5", "must be a whole number"),
        ("max_active", True, "must be a whole number"),
        ("max_lost_year", 5, "unknown limit"),
        ("max_lost_year", None, "unknown limit"),
    ],
)
def test_invalid_limit_values_are_explained(
    name: str, value: object, message: str
) -> None:
    assert validate_limit_value(name, value) == message
