"""Loss-reasons report as seed 002 has it, on SQLite and PostgreSQL: all time when
no dates are given, by pipeline (the seed's "sales plan"), group, manager or
nothing, and every count names exactly the leads behind it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.reports import domain
from services.reports.store import CrmFact, DecisionFact, LossQuestion, ReportsStore

KINDS = {
    "sales": {"new": "open", "taken": "open", "won": "won", "lost": "lost"},
    "rent": {"new": "open", "won": "won", "lost": "lost"},
}
STAGES = {"acme": {f"{p}/{s}": k for p, st in KINDS.items() for s, k in st.items()}}


def _at(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 5, tzinfo=UTC)


# lead: (pipeline, manager, group or "", closed at, outcome, reason)
CLOSED = {
    "S1": ("sales", "ursula", "main", _at(2024, 3, 5), "won", ""),
    "S2": ("sales", "ursula", "main", _at(2026, 11, 3), "lost", "too expensive"),
    "S3": ("sales", "marina", "vip", _at(2026, 11, 4), "lost", "too expensive"),
    "S4": ("sales", "marina", "", _at(2025, 1, 9), "lost", "no answer"),
    "R1": ("rent", "marina", "main", _at(2026, 11, 5), "lost", ""),
    "R2": ("rent", "ursula", "vip", _at(2023, 6, 1), "won", ""),
    "R3": ("rent", "ursula", "", _at(2026, 11, 6), "lost", "no answer"),
}


@pytest.fixture
def closed(store: ReportsStore) -> ReportsStore:
    """The store with every lead of CLOSED created and closed."""
    _close_every_lead(store)
    return store


def _close_every_lead(store: ReportsStore) -> None:
    decisions: list[DecisionFact] = []
    events: list[CrmFact] = []
    for lead, (pipeline, manager, group, at, outcome, reason) in CLOSED.items():
        if group:
            decisions.append(
                DecisionFact(
                    len(decisions) + 1,
                    "acme",
                    "claim",
                    "claimed",
                    group,
                    manager,
                    lead,
                    at,
                )
            )
        events.append(
            _event(
                len(events) + 1,
                "lead_created",
                lead,
                at,
                pipeline=pipeline,
                stage="new",
                responsible=manager,
            )
        )
        move: dict[str, Any] = {"to": outcome}
        if reason:
            move["loss_reason"] = reason
        events.append(_event(len(events) + 1, "stage_changed", lead, at, **move))
    store.apply_decisions(facts=decisions, zones={"acme": "Asia/Tomsk"})
    store.apply_crm_events(events, STAGES)


def _event(offset: int, type: str, lead: str, at: datetime, **data: Any) -> CrmFact:
    return CrmFact(offset, "acme", type, lead, at, {"type": type, **data})


def report(
    store: ReportsStore, group_by: str, first: str = "", last: str = ""
) -> dict[str, domain.Closings]:
    start, end = domain.Period.of(first, last).instants(domain.zone("Asia/Tomsk"))
    by_key, total = domain.loss_reasons(
        store.closings(q=LossQuestion("acme", start, end, group_by))
    )
    return {"*": total, **by_key}


def leads(
    store: ReportsStore, group_by: str, first: str = "", last: str = "", **cell: Any
) -> set[str]:
    start, end = domain.Period.of(first, last).instants(domain.zone("Asia/Tomsk"))
    found = store.closing_leads(
        LossQuestion("acme", start, end, group_by),
        key=cell.get("key"),
        outcome=cell.get("outcome", ""),
        reason=cell.get("reason"),
    )
    assert len(found) == len(set(found))
    return set(found)


def test_the_report_covers_all_time_when_no_dates_are_given(
    closed: ReportsStore,
) -> None:
    # Seed 002: "не указывать его вовсе. В таком случае в отчет попадут данные
    # за все время."
    total = report(closed, "none")["*"]
    assert (total.won, total.lost) == (2, 5)
    assert total.reasons == {"too expensive": 2, "no answer": 2, "": 1}
    assert leads(closed, "none") == set(CLOSED)
    # An open end: from 2025 on, and up to the end of 2024.
    assert (report(closed, "none", "2025-01-01")["*"].lost) == 5
    assert (report(closed, "none", "2025-01-01")["*"].won) == 0
    assert leads(closed, "none", "", "2024-12-31") == {"S1", "R2"}
    november = report(closed, "none", "2026-11-01", "2026-11-30")["*"]
    assert (november.won, november.lost) == (0, 4)


def test_the_report_groups_by_pipeline_the_seeds_sales_plan(
    closed: ReportsStore,
) -> None:
    rows = report(closed, "pipeline")
    assert set(rows) == {"*", "sales", "rent"}
    sales, rent = rows["sales"], rows["rent"]
    assert (sales.won, sales.lost, sales.reasons) == (
        1,
        3,
        {"too expensive": 2, "no answer": 1},
    )
    assert (rent.won, rent.lost, rent.reasons) == (1, 2, {"": 1, "no answer": 1})
    assert (sales.won_percent, sales.lost_percent) == (25.0, 75.0)
    assert leads(closed, "pipeline", key="rent", outcome="lost") == {"R1", "R3"}
    assert leads(closed, "pipeline", key="sales", reason="no answer") == {"S4"}


def test_the_report_groups_by_group_manager_or_nothing(closed: ReportsStore) -> None:
    by_group = report(closed, "group")
    assert {k: (r.won, r.lost) for k, r in by_group.items()} == {
        "*": (2, 5),
        "main": (1, 2),
        "vip": (1, 1),
        "": (0, 2),  # no group handed these leads out
    }
    by_manager = report(closed, "manager")
    assert {k: (r.won, r.lost) for k, r in by_manager.items()} == {
        "*": (2, 5),
        "ursula": (2, 2),
        "marina": (0, 3),
    }
    assert leads(closed, "group", key="", outcome="lost") == {"S4", "R3"}
    assert leads(closed, "manager", key="marina", reason="too expensive") == {"S3"}
    assert leads(closed, "manager", key="ursula", reason="") == set()
    assert leads(closed, "none", reason="") == {"R1"}


@pytest.mark.parametrize("group_by", domain.GROUPINGS)
@pytest.mark.parametrize("period", [("", ""), ("2026-11-01", "2026-11-30")])
def test_every_count_of_the_report_opens_exactly_its_leads(
    closed: ReportsStore, group_by: str, period: tuple[str, str]
) -> None:
    # Seed 002: "в один клик можно перейти из отчета прямо в выбранные
    # проваленные сделки".
    for key, row in report(closed, group_by, *period).items():
        cell: dict[str, Any] = {} if key == "*" else {"key": key}
        won = leads(closed, group_by, *period, outcome="won", **cell)
        lost = leads(closed, group_by, *period, outcome="lost", **cell)
        assert (len(won), len(lost)) == (row.won, row.lost)
        assert leads(closed, group_by, *period, **cell) == won | lost
        assert all(CLOSED[x][4] == "won" for x in won)
        by_reason = {
            reason: leads(closed, group_by, *period, reason=reason, **cell)
            for reason in row.reasons
        }
        assert {r: len(x) for r, x in by_reason.items()} == row.reasons
        assert set().union(*by_reason.values()) == lost
        assert all(CLOSED[x][5] == r for r, ids in by_reason.items() for x in ids)


def test_a_deleted_lead_leaves_the_report_and_comes_back_when_restored(
    closed: ReportsStore,
) -> None:
    at = datetime(2026, 11, 20, 5, tzinfo=UTC)
    closed.apply_crm_events([_event(100, "lead_deleted", "S2", at)], STAGES)
    assert report(closed, "none")["*"].reasons["too expensive"] == 1
    assert leads(closed, "none", reason="too expensive") == {"S3"}
    closed.apply_crm_events([_event(101, "lead_restored", "S2", at)], STAGES)
    assert leads(closed, "none", reason="too expensive") == {"S2", "S3"}


def test_a_period_that_ends_before_it_starts_is_bad_input() -> None:
    from leadrouter.errors import BadInput

    with pytest.raises(BadInput, match="before"):
        domain.Period.of("2026-11-02", "2026-11-01")
    assert domain.Period.of("", "") == domain.Period(None, None)
