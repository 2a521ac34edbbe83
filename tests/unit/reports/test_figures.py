"""The reports' figures folded from their rows: totals both ways, shares, periods."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from leadrouter import i18n
from leadrouter.errors import BadInput
from services.reports import domain

MON, TUE = date(2026, 11, 2), date(2026, 11, 3)


def test_the_distribution_totals_each_manager_and_each_bucket() -> None:
    figures = domain.distribution(
        [
            (TUE, "victor", 0, 1, 0),
            (MON, "ursula", 2, 1, 0),
            (TUE, "ursula", 1, 0, 1),
        ]
    )
    assert [c[:2] for c in figures.cells] == [
        (MON, "ursula"),
        (TUE, "ursula"),
        (TUE, "victor"),
    ]
    ursula = figures.managers["ursula"]
    assert (ursula.claimed, ursula.pushed, ursula.manual, ursula.total) == (3, 1, 1, 5)
    assert figures.buckets[TUE].total == 3
    assert figures.total.total == 6
    assert list(figures.managers) == ["ursula", "victor"]


def test_a_cell_with_nothing_handed_out_is_not_a_row() -> None:
    figures = domain.distribution([(MON, "ursula", 0, 0, 0), (MON, "victor", 1, 0, 0)])
    assert [c[1] for c in figures.cells] == ["victor"]
    assert "ursula" not in figures.managers


def test_loss_reasons_fold_into_rows_and_a_total_most_frequent_reason_first() -> None:
    rows, total = domain.loss_reasons(
        [
            ("sales", "won", "", 3),
            ("sales", "lost", "Дорого", 1),
            ("sales", "lost", "Пропала потребность", 2),
            ("other", "lost", "Дорого", 2),
        ]
    )
    assert list(rows) == ["other", "sales"]
    sales = rows["sales"]
    assert (sales.won, sales.lost, sales.won_percent, sales.lost_percent) == (
        3,
        3,
        50.0,
        50.0,
    )
    assert sales.reason_split() == [
        ("Пропала потребность", 2, 66.67),
        ("Дорого", 1, 33.33),
    ]
    assert total.reason_split()[0] == ("Дорого", 3, 60.0)
    assert total.closed == 8


def test_an_open_ended_period_reaches_all_time_on_that_side() -> None:
    tomsk = domain.zone("Asia/Tomsk")
    assert domain.Period.of("", "").instants(tomsk) == (None, None)
    start, end = domain.Period.of("2026-11-01", "").instants(tomsk)
    assert start == datetime(2026, 10, 31, 17, tzinfo=UTC) and end is None


def test_a_period_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(BadInput, match=r"'to' \(2026-10-01\) is before 'from'"):
        domain.Period.of("2026-11-01", "2026-10-01")


def test_the_refusals_of_a_period_and_an_outcome_speak_the_readers_language() -> None:
    with i18n.speaking("ru"):
        with pytest.raises(BadInput) as period:
            domain.Period.of("2026-11-01", "2026-10-01")
        with pytest.raises(BadInput) as outcome:
            domain.check_outcome("maybe")
    assert "is before" not in str(period.value)
    assert "2026-10-01" in str(period.value)
    assert "must be" not in str(outcome.value)
    assert "'maybe'" in str(outcome.value) or "«maybe»" in str(outcome.value)


def test_a_date_that_is_not_one_is_refused_naming_the_argument_in_russian() -> None:
    with i18n.speaking("ru"), pytest.raises(BadInput) as refused:
        domain.parse_day("01.11.2026", "from")
    assert "01.11.2026" in str(refused.value)
    assert "must be a date" not in str(refused.value)


def test_an_unknown_zone_reads_as_utc_and_an_outcome_is_won_or_lost() -> None:
    assert domain.zone("Mars/Olympus") == domain.zone("UTC")
    assert domain.check_outcome("LOST") == "lost"
    assert domain.check_outcome("") == ""
    with pytest.raises(
        BadInput, match="'outcome' must be one of won, lost, not 'maybe'"
    ):
        domain.check_outcome("maybe")
    assert domain.pipeline_of("sales/new") == "sales"
