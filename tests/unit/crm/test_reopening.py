"""Where reopening returns a closed lead (issue 23 point 5, domain.md section 9)."""

from __future__ import annotations

from services.crm.reopening import reopening_stage

SALES = [
    ("new", "open"),
    ("taken", "open"),
    ("meeting", "open"),
    ("won", "won"),
    ("offer", "open"),
    ("won_late", "won"),
    ("lost", "lost"),
]


def back(stage: str, kind: str, last_open: str = "") -> str | None:
    return reopening_stage(
        pipeline="sales",
        stage=stage,
        kind=kind,
        last_open_stage=last_open,
        stages=SALES,
    )


def test_23_5_from_won_to_the_last_open_stage_before_it_not_where_it_was() -> None:
    assert back("won", "won", last_open="sales/taken") == "sales/meeting"
    assert back("won_late", "won", last_open="sales/taken") == "sales/offer"


def test_23_5_a_lead_created_won_goes_to_the_open_stage_before_won() -> None:
    assert back("won", "won") == "sales/meeting"


def test_from_lost_back_to_the_stage_it_was_lost_from() -> None:
    assert back("lost", "lost", last_open="other/viewing") == "other/viewing"


def test_a_lead_created_lost_is_read_like_a_won_one() -> None:
    assert back("lost", "lost") == "sales/offer"


def test_a_closed_stage_before_every_open_one_falls_back_to_the_first_open() -> None:
    stages = [("won", "won"), ("new", "open"), ("taken", "open")]
    assert (
        reopening_stage(
            pipeline="p", stage="won", kind="won", last_open_stage="", stages=stages
        )
        == "p/new"
    )
    assert (
        reopening_stage(
            pipeline="p",
            stage="won",
            kind="won",
            last_open_stage="p/taken",
            stages=stages,
        )
        == "p/taken"
    )


def test_a_pipeline_without_open_stages_has_nowhere_to_reopen_to() -> None:
    assert (
        reopening_stage(
            pipeline="p",
            stage="won",
            kind="won",
            last_open_stage="",
            stages=[("won", "won"), ("lost", "lost")],
        )
        is None
    )
