"""A partner's lead checked against the account before it is created, each problem
on the field the partner got wrong; and which takes raise a pool's floor."""

from __future__ import annotations

from datetime import UTC, datetime

from services.crm import history as h
from services.crm.directory_check import Directory
from services.crm.intake import misplaced
from services.crm.pool import Raises

ACCOUNT = Directory(
    stages={"sales/new": "open", "sales/won": "won", "rentals/new": "open"},
    users={"exchange", "ursula"},
    technical={"exchange"},
)


def _lead(
    pipeline: str = "sales", stage: str = "new", responsible: str = "exchange"
) -> h.LeadCreated:
    return h.LeadCreated(
        type="lead_created",
        at=datetime(2026, 11, 2, 3, tzinfo=UTC),
        lead="17",
        pipeline=pipeline,
        stage=stage,
        responsible=responsible,
    )


def _problems(lead: h.LeadCreated) -> list[tuple[str, str]]:
    return [(p.path, p.message) for p in misplaced(ACCOUNT, lead)]


def test_a_lead_in_a_known_place_for_a_known_user_has_no_problem() -> None:
    assert _problems(_lead()) == []
    assert _problems(_lead("rentals", "new", "ursula")) == []


def test_an_unknown_pipeline_is_named_on_the_pipeline_field() -> None:
    assert _problems(_lead(pipeline="cars")) == [
        ("pipeline", "the account has no pipeline 'cars'")
    ]


def test_an_unknown_stage_of_a_known_pipeline_is_named_on_the_stage_field() -> None:
    assert _problems(_lead(stage="viewing")) == [
        ("stage", "pipeline 'sales' has no stage 'viewing'")
    ]


def test_every_problem_is_given_at_once() -> None:
    assert _problems(_lead(pipeline="cars", responsible="victor")) == [
        ("pipeline", "the account has no pipeline 'cars'"),
        ("responsible", "the account has no user 'victor'"),
    ]


def test_a_pool_floor_is_raised_by_the_first_take_and_every_nth_after() -> None:
    raises = Raises(every=3)
    assert [raises.due() for _ in range(7)] == [
        True,
        False,
        False,
        True,
        False,
        False,
        True,
    ]
