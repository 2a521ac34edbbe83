"""The read models on a real database: counting, bucketing, last closings, replays."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.reports import domain
from services.reports.store import (
    CRM_EVENTS,
    DECISIONS,
    CrmFact,
    DecisionFact,
    LossQuestion,
    ReportsStore,
    UnknownStages,
)

KINDS = {
    "sales/new": "open",
    "sales/taken": "open",
    "sales/won": "won",
    "sales/lost": "lost",
}
ZONES = {"acme": "Asia/Tomsk"}


def decision(
    offset: int,
    at: datetime,
    *,
    kind: str = "claim",
    outcome: str = "claimed",
    user: str = "ursula",
    group: str = "main",
    lead: str = "",
    account: str = "acme",
) -> DecisionFact:
    return DecisionFact(
        offset=offset,
        account=account,
        kind=kind,
        outcome=outcome,
        group_id=group,
        assignee=user if outcome in ("claimed", "assigned") else "",
        lead_id=lead or f"L{offset}",
        at=at,
    )


def event(offset: int, type: str, lead: str, at: datetime, **data: Any) -> CrmFact:
    return CrmFact(
        offset=offset,
        account="acme",
        type=type,
        lead_id=lead,
        at=at,
        data={"type": type, "lead": lead, **data},
    )


def utc(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


def report(
    store: ReportsStore, first: str, last: str, bucket: str = "day", **kw: Any
) -> dict[tuple[date, str], tuple[int, int, int]]:
    rows = store.distribution(
        account="acme",
        days=domain.DayRange.of(first, last),
        bucket=bucket,
        group_ids=kw.get("groups", []),
        user_ids=kw.get("users", []),
    )
    figures = domain.distribution(rows)
    return {(b, u): (c, p, m) for b, u, c, p, m in figures.cells}


def test_claims_pushes_and_manual_assignments_are_counted_apart(
    store: ReportsStore,
) -> None:
    noon = utc(2026, 11, 2, 5)
    store.apply_decisions(
        facts=[
            decision(1, noon, kind="claim"),
            decision(2, noon, kind="push", outcome="assigned", group=""),
            decision(3, noon, kind="manual", outcome="assigned", group=""),
            decision(4, noon, kind="claim"),
            decision(5, noon, kind="claim", outcome="refused"),
            decision(6, noon, kind="push", outcome="held", group=""),
        ],
        zones=ZONES,
    )
    assert report(store, "2026-11-01", "2026-11-30") == {
        (date(2026, 11, 2), "ursula"): (2, 1, 1)
    }


def test_days_weeks_and_months_are_those_of_the_account_zone(
    store: ReportsStore,
) -> None:
    # Tomsk is UTC+7: 18:00 UTC on Saturday 31 October is 01:00 on Sunday 1 November.
    store.apply_decisions(
        facts=[
            decision(1, utc(2026, 10, 31, 16, 30)),  # Sat 31 Oct 23:30 local
            decision(2, utc(2026, 10, 31, 18, 0)),  # Sun 1 Nov 01:00 local
            decision(3, utc(2026, 11, 1, 17, 30)),  # Mon 2 Nov 00:30 local
        ],
        zones=ZONES,
    )
    assert report(store, "2026-10-01", "2026-11-30", "day") == {
        (date(2026, 10, 31), "ursula"): (1, 0, 0),
        (date(2026, 11, 1), "ursula"): (1, 0, 0),
        (date(2026, 11, 2), "ursula"): (1, 0, 0),
    }
    assert report(store, "2026-10-01", "2026-11-30", "week") == {
        (date(2026, 10, 26), "ursula"): (2, 0, 0),
        (date(2026, 11, 2), "ursula"): (1, 0, 0),
    }
    assert report(store, "2026-10-01", "2026-11-30", "month") == {
        (date(2026, 10, 1), "ursula"): (1, 0, 0),
        (date(2026, 11, 1), "ursula"): (2, 0, 0),
    }


def test_a_day_across_a_clock_change_is_the_local_calendar_day(
    store: ReportsStore,
) -> None:
    berlin = {"acme": "Europe/Berlin"}
    store.apply_decisions(
        facts=[
            decision(1, utc(2026, 10, 25, 22, 30)),  # 23:30 CET, after the change
            decision(2, utc(2026, 10, 25, 23, 30)),  # 00:30 on the 26th
            decision(3, utc(2026, 3, 28, 23, 30)),  # 00:30 CET on 29 March
        ],
        zones=berlin,
    )
    days = report(store, "2026-03-01", "2026-10-25")
    assert set(days) == {
        (date(2026, 3, 29), "ursula"),
        (date(2026, 10, 25), "ursula"),
    }
    assert report(store, "2026-10-26", "2026-10-26") == {
        (date(2026, 10, 26), "ursula"): (1, 0, 0)
    }


def test_the_same_decisions_read_again_change_no_figure(store: ReportsStore) -> None:
    batch = [decision(i, utc(2026, 11, 2, 5)) for i in range(1, 6)]
    assert store.apply_decisions(facts=batch, zones=ZONES) == 5
    before = report(store, "2026-11-01", "2026-11-30")
    store.apply_decisions(facts=batch, zones=ZONES)
    store.apply_decisions(facts=batch[1:3], zones=ZONES)
    assert report(store, "2026-11-01", "2026-11-30") == before
    assert store.positions()[DECISIONS] == 5
    # A batch that overlaps the offset counts only what is new.
    store.apply_decisions(
        facts=[*batch[3:], decision(6, utc(2026, 11, 2, 5))], zones=ZONES
    )
    assert report(store, "2026-11-01", "2026-11-30") == {
        (date(2026, 11, 2), "ursula"): (6, 0, 0)
    }


def test_filters_by_group_and_manager(store: ReportsStore) -> None:
    at = utc(2026, 11, 2, 5)
    store.apply_decisions(
        facts=[
            decision(1, at, user="ursula", group="main"),
            decision(2, at, user="ursula", group="vip"),
            decision(3, at, user="marina", group="main"),
        ],
        zones=ZONES,
    )
    assert report(store, "2026-11-02", "2026-11-02", groups=["vip"]) == {
        (date(2026, 11, 2), "ursula"): (1, 0, 0)
    }
    assert report(store, "2026-11-02", "2026-11-02", users=["marina"]) == {
        (date(2026, 11, 2), "marina"): (1, 0, 0)
    }


def _closings(
    store: ReportsStore, group_by: str
) -> dict[str, tuple[int, int, dict[str, int]]]:
    start = utc(2026, 10, 31, 17)  # 1 November 00:00 in Tomsk
    end = utc(2026, 11, 30, 17)
    rows = store.closings(q=LossQuestion("acme", start, end, group_by))
    by_key, _ = domain.loss_reasons(rows)
    return {k: (c.won, c.lost, c.reasons) for k, c in by_key.items()}


def test_a_reopened_lead_counts_once_by_its_last_closing(store: ReportsStore) -> None:
    t = utc(2026, 11, 3, 5)
    store.apply_crm_events(
        [
            event(
                1,
                "lead_created",
                "A",
                t,
                pipeline="sales",
                stage="new",
                responsible="pool",
            ),
            event(2, "responsible_changed", "A", t, to="ursula"),
            event(3, "stage_changed", "A", t, to="lost", loss_reason="too expensive"),
            event(4, "lead_reopened", "A", t, by="head"),
            event(5, "responsible_changed", "A", t, to="marina"),
            event(6, "stage_changed", "A", t, to="won"),
            event(
                7,
                "lead_created",
                "B",
                t,
                pipeline="sales",
                stage="new",
                responsible="ursula",
            ),
            event(8, "stage_changed", "B", t, to="lost", loss_reason="no answer"),
            event(9, "lead_reopened", "B", t, by="head"),
        ],
        {"acme": KINDS},
    )
    assert _closings(store, "manager") == {"marina": (1, 0, {})}
    # Closed again in a later batch: the last closing replaces the earlier one.
    store.apply_crm_events(
        [
            event(
                10,
                "stage_changed",
                "A",
                utc(2026, 11, 4, 5),
                to="lost",
                loss_reason="no answer",
            )
        ],
        {"acme": KINDS},
    )
    assert _closings(store, "manager") == {"marina": (0, 1, {"no answer": 1})}


def test_loss_rows_by_group_come_from_the_decision_that_handed_the_lead_out(
    store: ReportsStore,
) -> None:
    t = utc(2026, 11, 3, 5)
    store.apply_decisions(
        facts=[
            decision(1, t, lead="A", group="main"),
            decision(2, t, lead="B", group="vip"),
        ],
        zones=ZONES,
    )
    store.apply_crm_events(
        [
            event(
                1,
                "lead_created",
                "A",
                t,
                pipeline="sales",
                stage="taken",
                responsible="u",
            ),
            event(
                2,
                "lead_created",
                "B",
                t,
                pipeline="sales",
                stage="taken",
                responsible="u",
            ),
            event(
                3,
                "lead_created",
                "C",
                t,
                pipeline="sales",
                stage="taken",
                responsible="u",
            ),
            event(4, "stage_changed", "A", t, to="won"),
            event(5, "stage_changed", "B", t, to="lost", loss_reason="no answer"),
            event(6, "stage_changed", "C", t, to="lost"),
        ],
        {"acme": KINDS},
    )
    assert _closings(store, "group") == {
        "": (0, 1, {"": 1}),
        "main": (1, 0, {}),
        "vip": (0, 1, {"no answer": 1}),
    }
    assert _closings(store, "none") == {"": (1, 2, {"": 1, "no answer": 1})}


def test_an_unknown_stage_changes_nothing_until_the_directory_is_read_again(
    store: ReportsStore,
) -> None:
    t = utc(2026, 11, 3, 5)
    batch = [
        event(
            1, "lead_created", "A", t, pipeline="sales", stage="new", responsible="u"
        ),
        event(2, "stage_changed", "A", t, to="refused"),
    ]
    with pytest.raises(UnknownStages):
        store.apply_crm_events(batch, {"acme": KINDS})
    assert store.positions()[CRM_EVENTS] == 0
    kinds = {**KINDS, "sales/refused": "lost"}
    store.apply_crm_events(batch, {"acme": kinds})
    assert _closings(store, "none") == {"": (0, 1, {"": 1})}


def test_reset_forgets_figures_and_offsets(store: ReportsStore) -> None:
    store.apply_decisions(facts=[decision(1, utc(2026, 11, 2, 5))], zones=ZONES)
    store.reset()
    assert store.positions() == {DECISIONS: 0, CRM_EVENTS: 0}
    assert report(store, "2026-11-01", "2026-11-30") == {}
